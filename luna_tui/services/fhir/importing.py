"""Bringing a checked FHIR Bundle (fhir/reading.py) into the vault: one write
transaction, every value through the same checks as what a person types, and idempotent.

Ids. A resource Luna wrote keeps its Luna row id (its identifier), so a round trip
keeps ids and re-importing finds every row again. Any other resource gets an id derived
(uuid5) from its patient and where it sits in the file (its fullUrl, else Type/id, else
its content's hash), so importing the same file again adds nothing. A row already here
is left as it is: an import never undoes a later edit.

Patients. The file's patient is this vault's patient with the same Luna id; else, for
the file's owner (a Luna file says who is "self"), this vault's owner; else the patient
with the same name and birth date; else a new patient. A patient found here keeps their
profile; fields they left empty are filled from the file (an allergy must not be lost).
A Bundle with no Patient at all is one person's: the chosen patient's (`--patient`,
else the current one).

A day's mood and sleep become one journal entry of the day (type mood_check) holding
them, private: the person decides what they share. Everything Luna's checks refuse
(a pulse of 400, a reading dated next year) is skipped and counted with the rest.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luna_tui.errors import ImportRejected, LunaError, ValidationError
from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments, import_content
from luna_tui.services.base import DomainService
from luna_tui.services.fhir.reading import FhirBundle, Item
from luna_tui.services.fhir.resources import ID_NAMESPACE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import (
    DOSE_STATUSES,
    EVENT_TYPES,
    FIELDS,
    Medications,
    schedule_from_frequency,
)
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records, record_checksum
from luna_tui.services.settings import Settings
from luna_tui.services.text_extraction import extract_text, guess_mime_type
from luna_tui.services.validation import (
    optional_text,
    parse_date,
    parse_local_moment,
    refuse_controls,
)
from luna_tui.services.vitals import Vitals
from luna_tui.store import attachment_markers
from luna_tui.store.models.appointments import Appointment
from luna_tui.store.models.medications import Medication, MedicationDose, MedicationEvent
from luna_tui.store.models.patients import Patient
from luna_tui.store.models.records import Attachment, MedicalRecord
from luna_tui.store.models.vitals import Vital

IMPORT_NAMESPACE = uuid.uuid5(ID_NAMESPACE, "import")
PROFILE = ("date_of_birth", "gender", "phone", "emergency_contact", "primary_doctor",
           "doctor_phone", "allergies", "notes")
REFUSED = "that Luna's checks refuse"
# A media type as the app may show it ("text/plain; charset=utf-8"); anything else the
# file claims is replaced by what Luna sees in the bytes.
MIME_TYPE = re.compile(r"[\w!#$&^.+-]{1,64}/[\w!#$&^.+-]{1,64}(?:; ?[\w-]{1,32}=[\w.-]{1,64})?",
                       re.ASCII)

Progress = Callable[[int, int], None]


@dataclass
class FhirOutcome:
    counts: Counter[str] = field(default_factory=Counter)  # rows new to the vault, by table
    already_here: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # "Condition", "… with …"


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(IMPORT_NAMESPACE, "|".join(parts)))


class FhirImporter(DomainService):
    def import_bundle(self, checked: FhirBundle, *, patient_id: str | None = None,
                      progress: Progress | None = None) -> FhirOutcome:
        written: list[Path] = []
        try:
            return self.session.run(self._import, checked, patient_id, progress, written)
        except BaseException:
            for path in written:  # the rows are rolled back: their files go too
                path.unlink(missing_ok=True)
            raise
        finally:
            for path in written:  # file and row agree again: unmarked
                attachment_markers.unmark(self.session.layout, path.name)

    def _import(self, checked: FhirBundle, chosen: str | None, progress: Progress | None,
                written: list[Path]) -> FhirOutcome:
        outcome = FhirOutcome(skipped=Counter(checked.skipped))
        steps = [self._vitals, self._daily, self._medications, self._doses,
                 self._appointments, self._records]
        with self.session.writing("import a FHIR Bundle") as tx:
            run = _Run(self, checked, outcome, written, chosen)
            run.patients = self._patients(run)
            for done, step in enumerate(steps, 1):
                step(run)
                if progress:
                    progress(done, len(steps))
            tx.record("vault.import", diff={
                "format": [None, "fhir"], "rows": [None, dict(outcome.counts)],
                "already_here": [None, outcome.already_here],
                "skipped": [None, dict(outcome.skipped)]})
        return outcome

    # -- patients ---------------------------------------------------------------------------

    def _patients(self, run: _Run) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in run.checked.patients:
            try:
                refuse_controls(item.values)
                values = Patients(self.session)._validated(
                    {k: item.values.get(k) for k in ("name", "relationship", *PROFILE)})
            except ValidationError:
                run.skip(item)
                continue
            found[item.key] = self._patient(run, item, values)
        return found

    def _patient(self, run: _Run, item: Item, values: dict[str, Any]) -> str:
        row = (Patient.get_or_none(Patient.id == item.luna_id) if item.luna_id else None)
        if row is None and values["relationship"] == "self":
            row = (Patient.select().where(Patient.relationship == "self")
                   .order_by(Patient.created_at, Patient.id).first())
        if row is None and values["date_of_birth"]:
            row = next((p for p in Patient.select().where(
                Patient.date_of_birth == values["date_of_birth"])
                if p.name.casefold() == values["name"].casefold()), None)
        if row is None:
            row = Patient.get_or_none(Patient.id == derived_id("patients", item.key))
        if row is None:
            new_id = item.luna_id or derived_id("patients", item.key)
            Patient.create(id=new_id, active=1, created_at=self.stamp(),
                           updated_at=self.stamp(), **values)
            run.outcome.counts["patients"] += 1
            return new_id
        self._fill_profile(row, values)
        run.outcome.already_here += 1
        return row.id

    def _fill_profile(self, row: Patient, values: dict[str, Any]) -> None:
        filled = {name: values[name] for name in PROFILE if values[name]
                  and not getattr(row, name)}
        if row.name == "Me" and row.created_at == row.updated_at:
            filled["name"] = values["name"]  # the new vault's untouched "Me"
        if filled and any(getattr(row, k) != v for k, v in filled.items()):
            Patient.update(updated_at=self.stamp(), **filled).where(
                Patient.id == row.id).execute()

    # -- readings, mood and sleep -------------------------------------------------------------

    def _vitals(self, run: _Run) -> None:
        service = Vitals(self.session)
        for item in run.checked.vitals:
            patient_id = run.patient_of(item)
            if patient_id is None:
                continue
            v = item.values
            try:
                refuse_controls({"kind": v["kind"], "unit": v["unit"], "notes": v["notes"]})
                values = service._validated(v["kind"], v["value"], v["value2"], v["unit"],
                                            v["measured_at"], v["notes"])
            except ValidationError:
                run.skip(item)
                continue
            run.insert(Vital, run.id_for(item, "vitals", patient_id),
                       {"patient": patient_id, **values})

    def _daily(self, run: _Run) -> None:
        days: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list))
        for item in run.checked.daily:
            patient_id = run.patient_of(item)
            if patient_id is None:
                continue
            name = "mood_scale" if "mood_scale" in item.values else "sleep_hours"
            value, low, high = item.values[name], *((1, 10) if name == "mood_scale"
                                                     else (0, 24))
            try:
                parse_date(item.values["day"], "date", self.today())
            except ValidationError:
                run.skip(item)
                continue
            if not low <= value <= high:
                run.skip(item)
                continue
            days[(patient_id, item.values["day"])][name].append(value)
        by_patient: dict[str, list[tuple[str, EntryDraft]]] = defaultdict(list)
        for (patient_id, day), values in sorted(days.items()):
            by_patient[patient_id].append((derived_id("daily", patient_id, day),
                                           _daily_entry(day, values)))
        for patient_id, entries in by_patient.items():
            added = Journal(self.session).import_entries(
                patient_id, [draft for _, draft in entries], source="fhir",
                ids=[entry_id for entry_id, _ in entries])
            run.outcome.counts["journal_entries"] += added
            run.outcome.already_here += len(entries) - added

    # -- medications and doses ------------------------------------------------------------------

    def _medications(self, run: _Run) -> None:
        service = Medications(self.session)
        for item in run.checked.medications:
            patient_id = run.patient_of(item)
            if patient_id is None:
                continue
            given = {k: v for k, v in item.values.items() if k in FIELDS}
            try:
                refuse_controls(given)
                values = service._validated(given)
                events = [_event(e, self.today()) for e in item.children]
            except (ValidationError, KeyError, TypeError):
                run.skip(item)
                continue
            if "schedule" not in given:
                values["schedule"] = schedule_from_frequency(values["frequency"])
            medication_id = run.id_for(item, "medications", patient_id)
            run.medications[item.key] = medication_id
            if run.insert(Medication, medication_id, {"patient": patient_id,
                                                      "active": int(item.values["active"]),
                                                      **values}):
                self._events(run, medication_id, patient_id, values,
                             events or _events_from_period(values, item.values["active"]))

    def _events(self, run: _Run, medication_id: str, patient_id: str,
                values: dict[str, Any], events: list[dict[str, Any]]) -> None:
        for number, event in enumerate(events):
            event_id = event.pop("id", None) or derived_id("event", medication_id, str(number))
            run.insert(MedicationEvent, event_id, {"medication": medication_id,
                                                   "patient": patient_id, **event})

    def _doses(self, run: _Run) -> None:
        for item in run.checked.doses:
            patient_id = run.patient_of(item)
            if patient_id is None:
                continue
            medication_id = self._dose_medication(run, item, patient_id)
            if medication_id is None:
                run.outcome.skipped[f"{item.resource_type} for a medication that is neither "
                                    "in the file nor in this vault"] += 1
                continue
            v = item.values
            try:
                refuse_controls({"notes": v["notes"]})
                if v["status"] not in DOSE_STATUSES:
                    raise ValidationError("unknown status")
                now = self.local_now()
                values = {"scheduled_at": parse_local_moment(v["scheduled_at"], "slot", now),
                          "taken_at": parse_local_moment(v["taken_at"], "taken", now)
                          if v["taken_at"] else None, "status": v["status"],
                          "notes": optional_text(v["notes"], multiline=True)}
            except ValidationError:
                run.skip(item)
                continue
            if MedicationDose.select().where(
                    MedicationDose.medication == medication_id,
                    MedicationDose.scheduled_at == values["scheduled_at"]).exists():
                run.outcome.already_here += 1  # that slot is logged here already
                continue
            run.insert(MedicationDose, run.id_for(item, "medication_doses", patient_id),
                       {"medication": medication_id, "patient": patient_id, **values})

    @staticmethod
    def _dose_medication(run: _Run, item: Item, patient_id: str) -> str | None:
        """The medication a dose is of: the statement or request it points at, the Luna
        medication it names, else the patient's medication of that name."""
        if item.refs.get("medication") in run.medications:
            return run.medications[item.refs["medication"]]
        named = item.values.get("medication_luna_id")
        if isinstance(named, str) and Medication.select().where(
                Medication.id == named, Medication.patient == patient_id).exists():
            return named
        name = item.values.get("medication_name")
        if isinstance(name, str):
            for row in Medication.select().where(Medication.patient == patient_id):
                if row.name.casefold() == name.casefold():
                    return row.id
        return None

    # -- appointments and records ------------------------------------------------------------

    def _appointments(self, run: _Run) -> None:
        service = Appointments(self.session)
        follow_ups: dict[str, Any] = {}
        for item in run.checked.appointments:
            patient_id = run.patient_of(item)
            if patient_id is None:
                continue
            given = {k: v for k, v in item.values.items() if k != "follow_up_of"}
            try:
                refuse_controls(given)
                values = service._validated(given)
            except ValidationError:
                run.skip(item)
                continue
            appointment_id = run.id_for(item, "appointments", patient_id)
            if run.insert(Appointment, appointment_id, {"patient": patient_id, **values}):
                follow_ups[appointment_id] = item.values.get("follow_up_of")
        for appointment_id, earlier in follow_ups.items():  # once all of them are in
            if isinstance(earlier, str) and Appointment.get_or_none(Appointment.id == earlier):
                Appointment.update(follow_up_of=earlier).where(
                    Appointment.id == appointment_id).execute()

    def _records(self, run: _Run) -> None:
        service = Records(self.session)
        limit = Attachments(self.session).max_size()
        for item in run.checked.records:
            patient_id = run.patient_of(item)
            if patient_id is None:
                continue
            try:
                refuse_controls(item.values)
                values = service._validated(item.values)
            except ValidationError:
                run.skip(item)
                continue
            record_id = run.id_for(item, "records", patient_id)
            if not run.insert(MedicalRecord, record_id, {
                    "patient": patient_id, "checksum": record_checksum(values), **values}):
                continue
            for file in item.children:
                if len(file["data"]) > limit:
                    run.outcome.skipped["attachment larger than the attachments.max_mb "
                                        "setting"] += 1
                    continue
                self._attach(run, record_id, patient_id, file)
            Attachments._refresh_record_text(record_id)

    def _attach(self, run: _Run, record_id: str, patient_id: str, file: dict[str, Any]
                ) -> None:
        data: bytes = file["data"]
        sha256 = hashlib.sha256(data).hexdigest()
        if Attachment.select().where(Attachment.record == record_id,
                                     Attachment.sha256 == sha256).exists():
            return  # the same file twice in one record: once is enough
        name = _safe_file_name(file["file_name"])
        mime = file["mime_type"]
        if not isinstance(mime, str) or not MIME_TYPE.fullmatch(mime):  # shown in the app
            mime = guess_mime_type(name, data[:512])
        values: dict[str, Any] = {"id": derived_id("attachments", record_id, sha256),
                                  "record_id": record_id, "file_name": name,
                                  "sha256": sha256, "size": len(data)}
        try:
            path = import_content(self.session, values,
                                  base64.b64encode(data).decode("ascii"))
        except ValidationError as error:
            raise ImportRejected(f"{error}") from None
        if path is not None:
            run.written.append(path)
        text = extract_text(io.BytesIO(data), mime)
        run.insert(Attachment, values.pop("id"), {
            **values, "record": values.pop("record_id"), "patient": patient_id,
            "mime_type": mime, "extracted_text": text})


@dataclass
class _Run:
    """One import's state: where the file's patients and medications went, what it
    wrote and counted."""

    importer: FhirImporter
    checked: FhirBundle
    outcome: FhirOutcome
    written: list[Path]
    chosen: str | None
    patients: dict[str, str] = field(default_factory=dict)  # file key → patient id
    medications: dict[str, str] = field(default_factory=dict)  # file key → medication id

    def patient_of(self, item: Item) -> str | None:
        """Whose the resource is; None (and counted) when the file doesn't say."""
        if item.patient in self.patients:
            return self.patients[item.patient]
        if not self.checked.patients:  # one person's file
            if self.chosen is None:
                self.chosen = Settings(self.importer.session).current_patient_id()
            return self.chosen
        self.outcome.skipped[f"{item.resource_type} whose patient is not in the file (or "
                             "was skipped)"] += 1
        return None

    def skip(self, item: Item) -> None:
        self.outcome.skipped[f"{item.resource_type} {REFUSED}"] += 1

    def id_for(self, item: Item, table: str, patient_id: str) -> str:
        return item.luna_id or derived_id(table, patient_id, item.key)

    def insert(self, model: Any, row_id: str, values: dict[str, Any]) -> bool:
        """Add the row unless one with its id is here (then it is left as it is)."""
        if model.select().where(model.id == row_id).exists():
            self.outcome.already_here += 1
            return False
        stamp = self.importer.stamp()
        model.create(id=row_id, created_at=stamp, updated_at=stamp, **values)
        self.outcome.counts[model._meta.table_name] += 1
        return True


def _event(event: Any, today: dt.date) -> dict[str, Any]:
    """A medication event from Luna's details, checked (ValidationError, KeyError or
    TypeError when it is not one)."""
    refuse_controls(event)
    if event["type"] not in EVENT_TYPES:
        raise ValidationError("unknown event")
    day = parse_date(event["date"], "event date", today)
    event_id = event.get("id")
    if event_id is not None and str(uuid.UUID(str(event_id))) != event_id:
        raise ValidationError("not an id")
    return {"id": event_id, "event_type": event["type"], "event_date": day.isoformat(),
            "old_value": optional_text(event.get("old_value")),
            "new_value": optional_text(event.get("new_value")),
            "notes": optional_text(event.get("notes"), multiline=True)}


def _events_from_period(values: dict[str, Any], active: bool) -> list[dict[str, Any]]:
    """A medication from another tool: started at its period's start, stopped at its
    end (when it is no longer taken)."""
    events = []
    if values["start_date"]:
        events.append({"event_type": "started", "event_date": values["start_date"],
                       "old_value": None, "new_value": values["dosage"]})
    if values["end_date"] and not active:
        events.append({"event_type": "stopped", "event_date": values["end_date"],
                       "old_value": values["dosage"], "new_value": None})
    return events


def _daily_entry(day: str, values: dict[str, list[float]]) -> EntryDraft:
    mood = values.get("mood_scale")
    sleep = values.get("sleep_hours")
    mood_scale = round(sum(mood) / len(mood)) if mood else None
    hours = round(sum(sleep) / len(sleep), 2) if sleep else None
    said = [f"mood {mood_scale}/10" if mood_scale else "", f"slept {hours:g} h"
            if hours is not None else ""]
    return EntryDraft(content="From a FHIR file: " + ", ".join(s for s in said if s) + ".",
                      entry_date=day, mood_scale=mood_scale, sleep_hours=hours,
                      journal_type="mood_check", privacy_level="private")


def _safe_file_name(name: Any) -> str:
    """A file name that names a file and nothing else (no folder, no control)."""
    text = Path(str(name or "")).name[-255:].strip()
    try:
        refuse_controls({"file_name": text})
    except LunaError:
        text = ""
    return text if text not in ("", ".", "..") and "\\" not in text else "attachment"
