"""Reading a FHIR R4 Bundle someone hands Luna, before the vault is touched: which of
its resources Luna understands, turned into Luna's fields, and what it skips, by type.

Hostile until checked, like every import (services/import_file.py reads the file under
its bounds first). Each element Luna reads must be of the type FHIR gives it, or the
whole file is refused with a sentence naming the entry (fhir/elements.py); what is
well-formed but not Luna's to take — a resource type it doesn't keep (Condition,
Immunization), an Observation with a code it doesn't know, a status that says "entered
in error" — is skipped and counted, never guessed at. The values themselves are checked by the same
services that check what a person types, when the vault is open (fhir/importing.py).

What Luna understands:
- Patient; Observation with the codes of codes.py (a reading), Luna's mood code, and
  sleep duration dated by a day alone (a day's sleep: Luna writes the journal's so);
- MedicationStatement and MedicationRequest (a medication; its period gives its start
  and stop), MedicationAdministration (a logged dose), with a Medication resource of
  the Bundle read for its name;
- Appointment; DocumentReference (a record, inline attachments as its files).
Resources written by Luna carry their Luna ids and details (fhir/resources.py), which
are read back so a round trip keeps everything.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from luna_tui.errors import ImportRejected
from luna_tui.services.fhir.codes import (
    LOINC,
    LUNA_UNITS,
    LUNA_VITAL_KIND,
    MOOD_CODE,
    SLEEP_CODE,
    UCUM,
    VITAL_CODES,
    kind_of,
)
from luna_tui.services.fhir.elements import Index, Resource, local_time
from luna_tui.services.fhir.writing import GENDERS

# Resource types read only as what other resources point at, or that make a Bundle a
# document: not data of their own, so not reported as skipped.
SUPPORTING = {"Medication", "Composition", "Device"}
OBSERVATION_DONE = {"final", "amended", "corrected", "preliminary"}
STATEMENT_ACTIVE = {"active", "intended", "on-hold"}
REQUEST_ACTIVE = {"active", "on-hold", "draft"}
FHIR_APPOINTMENT_STATUS = {"booked": "scheduled", "pending": "scheduled",
                           "arrived": "scheduled", "checked-in": "scheduled",
                           "fulfilled": "completed", "cancelled": "cancelled",
                           "noshow": "cancelled"}
# What Luna leaves out of its details when empty: absent there means empty, whatever
# the resource's own elements (a booked day with no time still has a start and an end).
LUNA_OPTIONAL_APPOINTMENT = ("appointment_time", "duration_minutes", "provider_name",
                             "location")
APPOINTMENT_TYPES = {"ROUTINE": "routine", "FOLLOWUP": "follow_up",
                     "EMERGENCY": "emergency", "CHECKUP": "routine", "WALKIN": "other"}


@dataclass
class Item:
    """One resource Luna takes, as Luna's fields."""

    resource_type: str
    number: int  # its entry's number in the Bundle, for sentences
    key: str  # what identifies it in the file: fullUrl, Type/id, or its content's hash
    patient: str | None  # the key of its patient's entry (None: not said)
    values: dict[str, Any]
    luna_id: str | None = None  # the Luna row id it came from, when Luna wrote it
    refs: dict[str, str] = field(default_factory=dict)  # e.g. its medication's key
    children: list[dict[str, Any]] = field(default_factory=list)  # events, files


@dataclass
class FhirBundle:
    """A Bundle whose shape passed: what Luna takes from it, and what it skips."""

    patients: list[Item] = field(default_factory=list)
    vitals: list[Item] = field(default_factory=list)
    daily: list[Item] = field(default_factory=list)  # values: day, mood_scale | sleep_hours
    medications: list[Item] = field(default_factory=list)
    doses: list[Item] = field(default_factory=list)
    appointments: list[Item] = field(default_factory=list)
    records: list[Item] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def is_bundle(document: Any) -> bool:
    return isinstance(document, dict) and document.get("resourceType") == "Bundle"


def check_bundle(document: Any) -> FhirBundle:
    if not is_bundle(document):
        raise ImportRejected("This file is not a FHIR Bundle.")
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise ImportRejected("The Bundle's entry is not a list.")
    resources = [_resource(entry, number) for number, entry in enumerate(entries, 1)]
    index = Index(resources)
    checked = FhirBundle()
    for number, (url, resource) in enumerate(resources, 1):
        _take(checked, Resource(resource, number, url, index))
    return checked


def _resource(entry: Any, number: int) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
        raise ImportRejected(f"entry {number} of the Bundle holds no resource.")
    resource = entry["resource"]
    if not isinstance(resource.get("resourceType"), str):
        raise ImportRejected(f"entry {number} of the Bundle has no resourceType.")
    url = entry.get("fullUrl")
    if url is not None and not isinstance(url, str):
        raise ImportRejected(f"entry {number} ({resource['resourceType']}): fullUrl is not "
                             "text.")
    return url, resource


# -- taking each resource ------------------------------------------------------------------

def _item(resource: Resource, values: dict[str, Any], table: str,
          patient: str | None = None, **extra: Any) -> Item:
    return Item(resource.type, resource.number, resource.key,
                patient if patient is not None else resource.subject(), values,
                luna_id=resource.luna_id(table), **extra)


def _take(checked: FhirBundle, resource: Resource) -> None:
    taker = _TAKERS.get(resource.type)
    if taker is None:
        if resource.type not in SUPPORTING:
            checked.skipped[resource.type] += 1
        return
    reason = taker(checked, resource)
    if reason:
        checked.skipped[f"{resource.type} {reason}"] += 1


def _take_patient(checked: FhirBundle, resource: Resource) -> str | None:
    name = resource.first("name")
    text = None
    if name is not None:
        given = [g for g in resource.items("given", name) if isinstance(g, str)]
        text = resource.text("text", name) or " ".join(
            [*given, resource.text("family", name) or ""]).strip()
    if not text:
        return "without a name"
    luna = resource.details()
    gender = resource.text("gender")
    phone = next((resource.text("value", t) for t in resource.items("telecom")
                  if isinstance(t, dict) and t.get("system") == "phone"), None)
    doctor = resource.first("generalPractitioner")
    values = {
        "name": text, "date_of_birth": resource.text("birthDate"),
        "gender": luna.get("gender") or (gender if gender in GENDERS else None),
        "phone": phone, "primary_doctor": resource.text("display", doctor) if doctor else None,
        **{k: luna.get(k) for k in ("relationship", "emergency_contact", "doctor_phone",
                                    "allergies", "notes")}}
    checked.patients.append(_item(resource, values, "patients", patient=resource.key))
    return None


def _take_observation(checked: FhirBundle, resource: Resource) -> str | None:
    if resource.text("status") not in OBSERVATION_DONE:
        return "not final (entered in error, cancelled or only registered)"
    codes = resource.codings("code")
    moment = _effective(resource)
    if moment is None:
        return "without a date"
    if (MOOD_CODE.system, MOOD_CODE.code) in codes or (
            (LOINC, SLEEP_CODE.code) in codes and len(moment) == 10):
        return _take_daily(checked, resource, codes, moment)
    kind = next((k for k in (kind_of(s, c) for s, c in codes) if k), None)
    kind = kind or next((c for s, c in codes if s == LUNA_VITAL_KIND and c), None)
    if kind is None:
        return "with an unknown code"
    reading = _reading(resource, kind)
    if isinstance(reading, str):
        return reading
    notes = [n.get("text") for n in resource.items("note") if isinstance(n, dict)]
    value, value2, unit = reading
    checked.vitals.append(_item(resource, {
        "kind": kind, "value": value, "value2": value2, "unit": unit,
        "measured_at": moment if len(moment) > 10 else f"{moment}T00:00",
        "notes": "\n".join(n for n in notes if isinstance(n, str)) or None}, "vitals"))
    return None


def _take_daily(checked: FhirBundle, resource: Resource, codes: list[Any],
                moment: str) -> str | None:
    value = resource.get("valueQuantity.value", (int, float))
    if value is None:
        return "without a value"
    name = "mood_scale" if (MOOD_CODE.system, MOOD_CODE.code) in codes else "sleep_hours"
    checked.daily.append(_item(resource, {"day": moment[:10], name: value}, "daily"))
    return None


def _reading(resource: Resource, kind: str) -> tuple[float, float | None, str] | str:
    """(value, value2, Luna unit) of a reading, or why it is skipped."""
    if kind == "blood_pressure":
        parts = {}
        for component in resource.items("component"):
            for system, code in resource.codings("code", component):
                if system == LOINC:
                    parts[code] = resource.get("valueQuantity", dict, component)
        pair = [parts.get(c.code) for c in VITAL_CODES["blood_pressure"].components]
        if None in pair:
            return "(a blood pressure panel) without both pressures"
        first, second = (_quantity(resource, q) for q in pair)
        if isinstance(first, str) or isinstance(second, str):
            return first if isinstance(first, str) else str(second)
        return first[0], second[0], first[1]
    quantity = resource.get("valueQuantity", dict)
    if quantity is None:
        return "without a value"
    found = _quantity(resource, quantity)
    if isinstance(found, str):
        return found
    value2 = resource.details().get("value2")
    return found[0], value2 if isinstance(value2, int | float) else None, found[1]


def _quantity(resource: Resource, quantity: dict[str, Any]) -> tuple[float, str] | str:
    value = resource.get("value", (int, float), quantity)
    if value is None:
        return "without a value"
    system, code = resource.text("system", quantity), resource.text("code", quantity)
    if system == UCUM and code in LUNA_UNITS:
        return float(value), LUNA_UNITS[code]
    unit = resource.text("unit", quantity) or code
    if not unit:
        return "without a unit"
    return float(value), unit


def _effective(resource: Resource) -> str | None:
    """When it was observed or given, as a local date or local YYYY-MM-DDTHH:MM."""
    for path in ("effectiveDateTime", "effectiveInstant", "effectivePeriod.start"):
        value = resource.text(path)
        if value:
            return local_time(resource, value)
    return None


def _dosage(resource: Resource, dosage: dict[str, Any] | None) -> tuple[str, str, str | None]:
    """(dosage, frequency, route) from a Dosage: the dose quantity when given, else its
    text; the timing's text or repeat, else the text."""
    if dosage is None:
        return "", "", None
    text = resource.text("text", dosage) or ""
    amount = ""
    dose_and_rate = resource.first("doseAndRate", dosage)
    quantity = resource.get("doseQuantity", dict, dose_and_rate) if dose_and_rate else None
    if quantity:
        value = resource.get("value", (int, float), quantity)
        unit = resource.text("unit", quantity) or resource.text("code", quantity) or ""
        if value is not None:
            amount = f"{value:g} {unit}".strip()
    frequency = resource.concept_text("timing.code", dosage) or _repeat(resource, dosage)
    return amount or text, frequency or text, resource.concept_text("route", dosage)


def _repeat(resource: Resource, dosage: dict[str, Any]) -> str | None:
    repeat = resource.get("timing.repeat", dict, dosage)
    if not repeat:
        return None
    times = resource.get("frequency", int, repeat) or 1
    period = resource.get("period", (int, float), repeat) or 1
    unit = {"h": "hour", "d": "day", "wk": "week", "mo": "month"}.get(
        resource.text("periodUnit", repeat) or "", "")
    if not unit:
        return None
    count = {1: "once", 2: "twice"}.get(times, f"{times} times")
    return f"{count} a {unit}" if period == 1 else f"{count} every {period:g} {unit}s"


def _medication_name(resource: Resource) -> str | None:
    name = resource.concept_text("medicationCodeableConcept")
    if name:
        return name
    target = resource.reference("medicationReference")
    medication = resource.index.resources.get(target) if target else None
    if isinstance(medication, dict) and medication.get("resourceType") == "Medication":
        return resource.concept_text("code", medication)
    return resource.text("medicationReference.display")


def _take_medication(checked: FhirBundle, resource: Resource) -> str | None:
    name = _medication_name(resource)
    if not name:
        return "without a medication name"
    luna = resource.details()
    statement = resource.type == "MedicationStatement"
    dosage_path = "dosage" if statement else "dosageInstruction"
    dosage, frequency, route = _dosage(resource, resource.first(dosage_path))
    status = resource.text("status") or ""
    if status == "entered-in-error":
        return "entered in error"
    start, end = _medication_period(resource, statement)
    notes = [n.get("text") for n in resource.items("note") if isinstance(n, dict)]
    values = {
        "name": name, "dosage": luna.get("dosage") or dosage,
        "frequency": luna.get("frequency") or frequency or "as directed",
        "route": luna.get("route") or route, "start_date": start, "end_date": end,
        "prescribing_doctor": luna.get("prescribing_doctor") or (
            resource.text("requester.display") if not statement else
            resource.text("informationSource.display")),
        "notes": luna.get("notes") if luna else ("\n".join(
            n for n in notes if isinstance(n, str)) or None),
        **{k: luna.get(k) for k in ("pharmacy", "rx_number", "refill_date", "supply_count",
                                    "supply_counted_on", "side_effects", "reminders")}}
    schedule = luna.get("schedule")
    if schedule is not None:
        values["schedule"] = schedule if isinstance(schedule, list) else [schedule]
    active = status in (STATEMENT_ACTIVE if statement else REQUEST_ACTIVE)
    events = luna.get("event", [])
    checked.medications.append(_item(resource, 
        {**values, "active": active}, "medications",
        children=events if isinstance(events, list) else [events]))
    return None


def _medication_period(resource: Resource, statement: bool) -> tuple[str | None, str | None]:
    if statement:
        start = resource.text("effectivePeriod.start") or resource.text("effectiveDateTime")
        end = resource.text("effectivePeriod.end")
    else:
        dosage = resource.first("dosageInstruction")
        bounds = resource.get("timing.repeat.boundsPeriod", dict, dosage) if dosage else None
        start = (resource.text("start", bounds) if bounds else None) or resource.text(
            "authoredOn")
        end = resource.text("end", bounds) if bounds else None
    return (local_time(resource, start)[:10] if start else None,
            local_time(resource, end)[:10] if end else None)


def _take_administration(checked: FhirBundle, resource: Resource) -> str | None:
    luna = resource.details()
    status = resource.text("status")
    if status == "completed":
        dose_status = "taken"
    elif status == "not-done":
        reason = next((resource.concept_text("r", {"r": r})
                       for r in resource.items("statusReason")), None)
        dose_status = reason if reason in ("missed", "skipped") else "missed"
    else:
        return f"with status {status or 'missing'}"
    moment = _effective(resource)
    if moment is None:
        return "without a date"
    if len(moment) == 10:
        moment = f"{moment}T00:00"
    dose_status = luna.get("status") if luna.get("status") in (
        "taken", "late", "missed", "skipped") else dose_status
    refs = {}
    for target in [*resource.items("supportingInformation"), resource.get("request", dict)]:
        key = resource.reference("r", {"r": target}) if isinstance(target, dict) else None
        if key:  # the statement or request its medication came from
            refs["medication"] = key
    taken = luna.get("taken_at") or (moment if dose_status in ("taken", "late") else None)
    notes = [n.get("text") for n in resource.items("note") if isinstance(n, dict)]
    checked.doses.append(_item(resource, {
        "medication_name": _medication_name(resource),
        "medication_luna_id": luna.get("medication_id"),
        "scheduled_at": luna.get("scheduled_at") or moment, "taken_at": taken,
        "status": dose_status,
        "notes": luna.get("notes") or ("\n".join(n for n in notes if isinstance(n, str))
                                       or None)}, "medication_doses", refs=refs))
    return None


def _take_appointment(checked: FhirBundle, resource: Resource) -> str | None:
    luna = resource.details()
    status = resource.text("status") or ""
    if status not in FHIR_APPOINTMENT_STATUS and not luna.get("status"):
        return f"with status {status or 'missing'}"
    patient, provider, place = None, None, None
    for participant in resource.items("participant"):
        if not isinstance(participant, dict):
            raise resource.refuse("participant holds something that is not an object")
        key = resource.reference("actor", participant)
        target = resource.index.resources.get(key) if key else None
        if target is not None and target.get("resourceType") == "Patient":
            patient = key
            continue
        roles = {c for p in resource.items("type", participant) if isinstance(p, dict)
                 for _, c in resource.codings("t", {"t": p})}
        who = resource.text("actor.display", participant)
        if "LOC" in roles or (target or {}).get("resourceType") == "Location":
            place = place or who
        else:
            provider = provider or who
    start = resource.text("start")
    if not start and not luna.get("appointment_date"):
        return "without a date"
    moment = local_time(resource, start) if start else ""
    end = resource.text("end")
    minutes = None
    if start and end:
        span = (dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
                - dt.datetime.fromisoformat(start.replace("Z", "+00:00")))
        minutes = int(span.total_seconds() // 60) or None
    kind = next((APPOINTMENT_TYPES[c] for _, c in resource.codings("appointmentType")
                 if c in APPOINTMENT_TYPES), None)
    reasons = [resource.concept_text("r", {"r": r}) for r in resource.items("reasonCode")]
    values = {
        "appointment_date": moment[:10], "appointment_time": moment[11:16] or None,
        "duration_minutes": minutes, "appointment_type": kind or "other",
        "provider_name": provider, "location": place,
        "reason": "\n".join(r for r in reasons if r) or None,
        "preparation_notes": resource.text("patientInstruction"),
        "status": FHIR_APPOINTMENT_STATUS.get(status, "scheduled"),
        "outcome_summary": resource.text("comment") or None, "follow_up_required": False}
    if luna:  # Luna wrote it: its own fields, a time left unknown included
        values |= {k: luna.get(k) for k in (*values, "follow_up_of")
                   if k in luna or k in LUNA_OPTIONAL_APPOINTMENT}
    checked.appointments.append(_item(resource, values, "appointments", patient=patient))
    return None


def _take_document(checked: FhirBundle, resource: Resource) -> str | None:
    if resource.text("status") == "entered-in-error":
        return "entered in error"
    luna = resource.details()
    title = luna.get("title") or resource.text("description") or resource.concept_text(
        "type")
    files = []
    for content in resource.items("content"):
        attachment = resource.get("attachment", dict, content) if isinstance(
            content, dict) else None
        if attachment is None or resource.text("data", attachment) is None:
            continue
        files.append(_attachment(resource, attachment, len(files) + 1))
    if not title:
        title = next((f["file_name"] for f in files), None)
    if not title:
        return "without a title"
    event = luna.get("event_date") or resource.text("context.period.start")
    tags = luna.get("tag", [])
    values = {"record_type": luna.get("record_type") or "other", "title": title,
              "description": luna.get("description"),
              "event_date": local_time(resource, event)[:10] if event else None,
              "text": luna.get("text"), "tags": tags if isinstance(tags, list) else [tags]}
    checked.records.append(_item(resource, values, "records", children=files))
    return None


def _attachment(resource: Resource, attachment: dict[str, Any], number: int
                ) -> dict[str, Any]:
    """An inline file: decoded, its size and SHA-1 checked when the file gives them."""
    try:
        data = base64.b64decode(resource.text("data", attachment) or "", validate=True)
    except (binascii.Error, ValueError):
        raise resource.refuse(f"attachment {number}'s data is not base64") from None
    size = resource.get("size", int, attachment)
    if size is not None and size != len(data):
        raise resource.refuse(f"attachment {number} is {len(data):,} bytes, not the "
                              f"{size:,} it says")
    digest = resource.text("hash", attachment)
    if digest is not None and digest != base64.b64encode(
            hashlib.sha1(data).digest()).decode("ascii"):
        raise resource.refuse(f"attachment {number} does not match its hash")
    name = resource.text("title", attachment) or f"attachment-{number}"
    return {"file_name": name, "mime_type": resource.text("contentType", attachment),
            "data": data}


_TAKERS = {
    "Patient": _take_patient, "Observation": _take_observation,
    "MedicationStatement": _take_medication, "MedicationRequest": _take_medication,
    "MedicationAdministration": _take_administration, "Appointment": _take_appointment,
    "DocumentReference": _take_document,
}
