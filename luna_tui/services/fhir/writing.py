"""HealthData as a FHIR R4 Bundle: a `collection` for `luna export --format fhir`, or
an IPS-shaped `document` (a Composition first, with sections) for a hand-off.

What becomes what:
- a patient: Patient (name, birth date, gender, phone; the GP as a display-only
  reference; the rest of the profile in the Luna details extension);
- a reading: Observation, category vital-signs, LOINC code and UCUM unit (codes.py);
  a blood pressure is the 85354-9 panel with its two components;
- a day's mood and sleep from the journal: an Observation each, dated by the day alone,
  category survey (the person's own rating);
- a medication: MedicationStatement (R4's; R5 renamed it MedicationUsage) with its
  dosage text, route and frequency, effective period and status, its starts, stops and
  dose changes as notes for a reader and in the details extension for Luna;
- a logged dose: MedicationAdministration, completed (taken, late) or not-done
  (missed, skipped), pointing at its medication's statement;
- an appointment: Appointment; a record: DocumentReference, its attachments inline as
  base64 when the scope carried their files;
- journal entries (only those the scope let leave: shared with the therapist, asked for
  with "journal"): in a document only, as its "Journal" section's narrative — text for
  the clinician to read, not data for a system to take in.
Nothing here reads the vault or the clock: the same HealthData and `now` give the same
Bundle, byte for byte.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any, Literal

from luna_tui import __version__
from luna_tui.errors import ValidationError
from luna_tui.services.appointments import AppointmentView
from luna_tui.services.fhir.codes import (
    LOINC,
    MOOD_CODE,
    MOOD_UNIT,
    OBSERVATION_CATEGORY,
    SLEEP_CODE,
    UCUM,
    UCUM_UNITS,
    Code,
    vital_code,
)
from luna_tui.services.fhir.resources import (
    ID_NAMESPACE,
    details,
    full_url,
    identifier,
    local_moment,
    narrative,
    note,
    reference,
    resource_id,
)
from luna_tui.services.health_data import (
    DailyScore,
    HealthData,
    MedicationHistory,
    PatientHealth,
    RecordWithFiles,
)
from luna_tui.services.patients import PatientView
from luna_tui.services.read_models.medications import LoggedDose
from luna_tui.services.records import RECORD_TYPES
from luna_tui.services.vitals import KINDS, VitalView

BundleKind = Literal["collection", "document"]
DOSE_STATUS = {"taken": "completed", "late": "completed", "missed": "not-done",
               "skipped": "not-done"}
APPOINTMENT_STATUS = {"scheduled": "booked", "rescheduled": "booked",
                      "completed": "fulfilled", "cancelled": "cancelled"}
APPOINTMENT_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0276"
APPOINTMENT_TYPE_CODES = {"routine": "ROUTINE", "follow_up": "FOLLOWUP",
                          "emergency": "EMERGENCY"}
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
GENDERS = {"male", "female", "other", "unknown"}
# IPS section codes (LOINC), and the document's own type: a patient summary.
SUMMARY_TYPE = Code(LOINC, "60591-5", "Patient summary Document")
SECTIONS = {
    "allergies": (Code(LOINC, "48765-2", "Allergies and adverse reactions Document"),
                  "Allergies and intolerances"),
    "medications": (Code(LOINC, "10160-0", "History of Medication use Narrative"),
                    "Medication summary"),
    "vitals": (Code(LOINC, "8716-3", "Vital signs"), "Vital signs"),
    "daily": (Code(LOINC, "10190-7", "Mental status Narrative"), "Mood and sleep"),
    "appointments": (Code(LOINC, "18776-5", "Plan of care note"), "Appointments"),
    "records": (Code(LOINC, "55107-7", "Addendum Document"), "Records"),
}


def bundle(data: HealthData, *, kind: BundleKind, now: dt.datetime,
           title: str | None = None) -> dict[str, Any]:
    """The Bundle of `data`, made at `now` (an aware datetime)."""
    stamp = now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    entries: list[dict[str, Any]] = []
    for health in data.patients:
        entries += _patient_entries(health)
    bundle_id = str(uuid.uuid5(ID_NAMESPACE, f"bundle/{kind}/{stamp}/" + ",".join(
        h.patient.id for h in data.patients)))
    document: dict[str, Any] = {"resourceType": "Bundle", "id": bundle_id,
                                "meta": {"lastUpdated": stamp}, "type": kind,
                                "timestamp": stamp}
    if kind == "document":
        if len(data.patients) != 1:
            raise ValidationError("A FHIR document is one patient's; choose one.", "patient")
        document["identifier"] = {"system": "urn:ietf:rfc:3986", "value": full_url(bundle_id)}
        entries = _document_head(data.patients[0], entries, bundle_id, stamp, title) + entries
    document["entry"] = entries
    return document


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url(resource["id"]), "resource": resource}


def _patient_entries(health: PatientHealth) -> list[dict[str, Any]]:
    patient_id = health.patient.id
    medications = {h.medication.id for h in health.medications}
    resources = [_patient(health.patient)]
    resources += [_medication_statement(h) for h in health.medications]
    resources += [_administration(d, d.medication.id in medications) for d in health.doses]
    resources += [_vital(v) for v in health.vitals]
    for day in health.daily:
        resources += _daily(patient_id, day)
    resources += [_appointment(a) for a in health.appointments]
    resources += [_document_reference(r) for r in health.records]
    return [_entry(resource) for resource in resources]


# -- the patient --------------------------------------------------------------------

def _patient(patient: PatientView) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": resource_id("patients", patient.id),
        "identifier": identifier("patients", patient.id), "active": patient.active,
        "name": [{"text": patient.name}]}
    gender = (patient.gender or "").strip().lower()
    if gender in GENDERS:
        resource["gender"] = gender
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth
    if patient.phone:
        resource["telecom"] = [{"system": "phone", "value": patient.phone}]
    if patient.primary_doctor:
        resource["generalPractitioner"] = [{"display": patient.primary_doctor}]
    extension = details({
        "relationship": patient.relationship, "gender": patient.gender,
        "emergency_contact": patient.emergency_contact, "doctor_phone": patient.doctor_phone,
        "allergies": patient.allergies, "notes": patient.notes})
    if extension:
        resource["extension"] = extension
    return resource


def _subject(patient_id: str) -> dict[str, str]:
    return reference("patients", patient_id)


# -- medications ----------------------------------------------------------------------

def _medication_statement(history: MedicationHistory) -> dict[str, Any]:
    med = history.medication
    dosage: dict[str, Any] = {"text": f"{med.dosage}, {med.frequency}",
                              "timing": {"code": {"text": med.frequency}}}
    if med.route:
        dosage["route"] = {"text": med.route}
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": resource_id("medications", med.id),
        "identifier": identifier("medications", med.id),
        "status": "active" if med.active else "stopped",
        "medicationCodeableConcept": {"text": med.name},
        "subject": _subject(med.patient_id), "dateAsserted": med.updated_at,
        "dosage": [dosage]}
    period = {k: v for k, v in (("start", med.start_date), ("end", med.end_date)) if v}
    if period:
        resource["effectivePeriod"] = period
    if med.prescribing_doctor:
        resource["informationSource"] = {"display": med.prescribing_doctor}
    notes = note(med.notes, med.side_effects and f"Side effects: {med.side_effects}",
                 *(_event_line(e) for e in history.events))
    if notes:
        resource["note"] = notes
    resource["extension"] = details({
        "dosage": med.dosage, "frequency": med.frequency, "route": med.route,
        "prescribing_doctor": med.prescribing_doctor, "pharmacy": med.pharmacy,
        "rx_number": med.rx_number, "refill_date": med.refill_date,
        "supply_count": med.supply_count, "supply_counted_on": med.supply_counted_on,
        "side_effects": med.side_effects, "notes": med.notes, "schedule": med.schedule,
        "reminders": med.reminders,
        "event": [{"id": e.id, "type": e.event_type, "date": e.event_date,
                   "old_value": e.old_value, "new_value": e.new_value, "notes": e.notes}
                  for e in history.events]})
    return resource


def _event_line(event: Any) -> str:
    words = {"started": "started", "stopped": "stopped", "resumed": "resumed",
             "dose_changed": "dose changed"}.get(event.event_type, event.event_type)
    change = ""
    if event.old_value and event.new_value:
        change = f": {event.old_value} → {event.new_value}"
    elif event.new_value or event.old_value:
        change = f": {event.new_value or event.old_value}"
    return f"{event.event_date} {words}{change}" + (f" ({event.notes})" if event.notes else "")


def _administration(logged: LoggedDose, statement_in_bundle: bool) -> dict[str, Any]:
    dose, med = logged.dose, logged.medication
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": resource_id("medication_doses", dose.id),
        "identifier": identifier("medication_doses", dose.id),
        "status": DOSE_STATUS.get(dose.status, "unknown"),
        "medicationCodeableConcept": {"text": med.name},
        "subject": _subject(med.patient_id),
        "effectiveDateTime": local_moment(dose.taken_at or dose.scheduled_at)}
    if resource["status"] == "not-done":
        resource["statusReason"] = [{"text": dose.status}]
    if statement_in_bundle:
        resource["supportingInformation"] = [reference("medications", med.id, med.name)]
    if dose.notes:
        resource["note"] = note(dose.notes)
    resource["extension"] = details({"medication_id": med.id, "status": dose.status,
                                     "scheduled_at": dose.scheduled_at,
                                     "taken_at": dose.taken_at, "notes": dose.notes})
    return resource


# -- observations ------------------------------------------------------------------------

def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "unit": unit}
    if unit in UCUM_UNITS:
        quantity |= {"system": UCUM, "code": UCUM_UNITS[unit]}
    return quantity


def _vital(vital: VitalView) -> dict[str, Any]:
    coded = vital_code(vital.kind, vital.unit)
    label = KINDS[vital.kind].label if vital.kind in KINDS else coded.code.display
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": resource_id("vitals", vital.id),
        "identifier": identifier("vitals", vital.id), "status": "final",
        "category": _category("vital-signs", "Vital Signs"),
        "code": {"coding": [coded.code.coding()], "text": label},
        "subject": _subject(vital.patient_id),
        "effectiveDateTime": local_moment(vital.measured_at)}
    if coded.components and vital.value2 is not None:
        resource["component"] = [
            {"code": {"coding": [part.coding()]}, "valueQuantity": _quantity(value, vital.unit)}
            for part, value in zip(coded.components, (vital.value, vital.value2), strict=True)]
    else:
        resource["valueQuantity"] = _quantity(vital.value, vital.unit)
        if vital.value2 is not None:  # a made-up kind with two numbers
            resource["extension"] = details({"value2": vital.value2})
    if vital.notes:
        resource["note"] = note(vital.notes)
    return resource


def _daily(patient_id: str, day: DailyScore) -> list[dict[str, Any]]:
    """A day's mood and sleep from the journal: an Observation each, dated by the day."""
    resources = []
    for name, code, value, unit in (("mood", MOOD_CODE, day.mood_scale, MOOD_UNIT),
                                    ("sleep", SLEEP_CODE, day.sleep_hours, "h")):
        if value is None:
            continue
        key = f"{patient_id}/{day.day}/{name}"
        resources.append({
            "resourceType": "Observation", "id": resource_id("daily", key),
            "identifier": identifier("daily", key), "status": "final",
            "category": _category("survey", "Survey"),
            "code": {"coding": [code.coding()], "text": code.display},
            "subject": _subject(patient_id), "effectiveDateTime": day.day,
            "valueQuantity": {"value": round(value, 2), "unit": unit, "system": UCUM,
                              "code": unit}})
    return resources


# -- appointments and records ---------------------------------------------------------------

def _appointment(visit: AppointmentView) -> dict[str, Any]:
    start = local_moment(f"{visit.appointment_date}T{visit.appointment_time or '00:00'}")
    if visit.appointment_time:
        length = dt.timedelta(minutes=visit.duration_minutes or 0)
    else:  # a day, time unknown: the whole day (booked appointments need both ends)
        length = dt.timedelta(days=1)
    end = (dt.datetime.fromisoformat(start) + length).isoformat(timespec="seconds")
    participants = [{"actor": _subject(visit.patient_id), "status": "accepted"}]
    for role, who in (("ATND", visit.provider_name), ("LOC", visit.location)):
        if who:
            participants.append({"type": [{"coding": [{"system": PARTICIPATION,
                                                       "code": role}]}],
                                 "actor": {"display": who}, "status": "accepted"})
    kind = {"text": visit.appointment_type.replace("_", " ")}
    if visit.appointment_type in APPOINTMENT_TYPE_CODES:
        kind["coding"] = [{"system": APPOINTMENT_TYPES,
                           "code": APPOINTMENT_TYPE_CODES[visit.appointment_type]}]
    resource: dict[str, Any] = {
        "resourceType": "Appointment", "id": resource_id("appointments", visit.id),
        "identifier": identifier("appointments", visit.id),
        "status": APPOINTMENT_STATUS.get(visit.status, "booked"), "appointmentType": kind,
        "start": start, "end": end, "participant": participants}
    if visit.reason:
        resource["reasonCode"] = [{"text": visit.reason}]
    if visit.preparation_notes:
        resource["patientInstruction"] = visit.preparation_notes
    if visit.outcome_summary:
        resource["comment"] = visit.outcome_summary
    resource["extension"] = details({
        "appointment_date": visit.appointment_date, "appointment_time": visit.appointment_time,
        "duration_minutes": visit.duration_minutes, "appointment_type": visit.appointment_type,
        "provider_name": visit.provider_name, "location": visit.location,
        "status": visit.status, "follow_up_required": visit.follow_up_required,
        "follow_up_of": visit.follow_up_of})
    return resource


def _document_reference(chosen: RecordWithFiles) -> dict[str, Any]:
    record = chosen.record
    contents = []
    for file in chosen.files:
        attachment: dict[str, Any] = {"contentType": file.attachment.mime_type,
                                      "title": file.attachment.file_name,
                                      "size": file.attachment.size}
        if file.content is not None:
            attachment["data"] = base64.b64encode(file.content).decode("ascii")
            # R4's Attachment.hash is SHA-1 (base64); Luna's SHA-256 rides along below.
            attachment["hash"] = base64.b64encode(hashlib.sha1(file.content).digest()
                                                  ).decode("ascii")
        contents.append({"attachment": attachment})
    if not contents:  # a DocumentReference has content; a record without files has its title
        contents.append({"attachment": {"title": record.title}})
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference", "id": resource_id("records", record.id),
        "identifier": identifier("records", record.id), "status": "current",
        "type": {"text": RECORD_TYPES.get(record.record_type, record.record_type)},
        "subject": _subject(record.patient_id), "date": record.created_at,
        "description": record.title, "content": contents,
        "text": narrative([record.title, record.description or "", record.text or ""])}
    if record.event_date:
        resource["context"] = {"period": {"start": record.event_date}}
    resource["extension"] = details({
        "record_type": record.record_type, "title": record.title,
        "description": record.description, "event_date": record.event_date,
        "text": record.text, "tag": record.tags,
        "attachment": [{"id": f.attachment.id, "file_name": f.attachment.file_name,
                        "sha256": f.attachment.sha256} for f in chosen.files]})
    return resource


# -- the document's head ----------------------------------------------------------------------

def _document_head(health: PatientHealth, entries: list[dict[str, Any]], bundle_id: str,
                   stamp: str, title: str | None) -> list[dict[str, Any]]:
    """The Composition that makes a Bundle a document, and Luna as its author."""
    author = {"resourceType": "Device", "id": str(uuid.uuid5(ID_NAMESPACE, "device/luna")),
              "deviceName": [{"name": "Luna", "type": "manufacturer-name"}],
              "version": [{"value": __version__}]}
    patient = health.patient
    composition = {
        "resourceType": "Composition", "id": str(uuid.uuid5(ID_NAMESPACE, f"{bundle_id}/c")),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": full_url(bundle_id)},
        "status": "final", "type": {"coding": [SUMMARY_TYPE.coding()]},
        "subject": _subject(patient.id), "date": stamp,
        "author": [{"reference": full_url(author["id"]), "display": "Luna"}],
        "title": title or f"Patient summary: {patient.name}",
        "section": _sections(health, entries)}
    return [_entry(composition), _entry(author)]


def _sections(health: PatientHealth, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_type.setdefault(_section_of(entry["resource"]), []).append(entry)
    sections = [_section("allergies", [], [health.patient.allergies
                                           or "No allergies recorded in Luna."])]
    for name in ("medications", "vitals", "daily", "appointments", "records"):
        chosen = by_type.get(name, [])
        if chosen:
            sections.append(_section(name, chosen, [_summary(e["resource"]) for e in chosen]))
    if health.journal:
        sections.append(_journal_section(health))
    return sections


def _section(name: str, entries: list[dict[str, Any]], lines: list[str]) -> dict[str, Any]:
    code, title = SECTIONS[name]
    section: dict[str, Any] = {"title": title, "code": {"coding": [code.coding()]},
                               "text": narrative(lines)}
    if entries:
        section["entry"] = [{"reference": e["fullUrl"]} for e in entries]
    return section


def _journal_section(health: PatientHealth) -> dict[str, Any]:
    lines = []
    for entry in health.journal:
        said = [f"mood {entry.mood_scale}/10" if entry.mood_scale else "", entry.mood or "",
                f"slept {entry.sleep_hours:g} h" if entry.sleep_hours is not None else "",
                ", ".join(entry.emotions)]
        heading = " ".join(p for p in (entry.entry_date, entry.entry_time,
                                       entry.title or "") if p)
        lines.append(heading + (f" ({'; '.join(p for p in said if p)})"
                                if any(said) else ""))
        lines.extend(entry.content.splitlines())
    return {"title": "Journal entries shared with the therapist", "text": narrative(lines)}


def _section_of(resource: dict[str, Any]) -> str:
    kind = resource["resourceType"]
    if kind in ("MedicationStatement", "MedicationAdministration"):
        return "medications"
    if kind == "Observation":
        return "daily" if resource["category"][0]["coding"][0]["code"] == "survey" else "vitals"
    return {"Appointment": "appointments", "DocumentReference": "records"}.get(kind, "")


def _summary(resource: dict[str, Any]) -> str:
    """One line of a section's narrative for a resource in it."""
    kind = resource["resourceType"]
    if kind == "MedicationStatement":
        return (f"{resource['medicationCodeableConcept']['text']}: "
                f"{resource['dosage'][0]['text']} ({resource['status']})")
    if kind == "MedicationAdministration":
        return (f"{resource['effectiveDateTime'][:16].replace('T', ' ')} "
                f"{resource['medicationCodeableConcept']['text']}: {resource['status']}")
    if kind == "Observation":
        when = resource["effectiveDateTime"][:16].replace("T", " ")
        if "component" in resource:
            values = "/".join(f"{c['valueQuantity']['value']:g}" for c in resource["component"])
            unit = resource["component"][0]["valueQuantity"]["unit"]
        else:
            values = f"{resource['valueQuantity']['value']:g}"
            unit = resource["valueQuantity"]["unit"]
        return f"{when} {resource['code']['text']}: {values} {unit}"
    if kind == "Appointment":
        return f"{resource['start'][:16].replace('T', ' ')} {resource['appointmentType']['text']}"
    return f"{resource.get('description', '')}"
