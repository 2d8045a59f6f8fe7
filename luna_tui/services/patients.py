"""Patients: the owner ("Me") and the people a caregiver looks after.

A caregiver has a handful of patients, so lists come whole, sorted. Archiving keeps
everything and hides the patient; deleting removes everything of theirs (the cascade),
and `deletion_impact` says how much that is before anyone confirms.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from peewee import fn

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.safety.plan import SafetyPlans
from luna_tui.services.validation import (
    optional_text,
    parse_optional_date,
    refuse_controls,
    required_text,
)
from luna_tui.store.models.ai import ChatSession
from luna_tui.store.models.appointments import Appointment
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.medications import Medication, MedicationDose
from luna_tui.store.models.patients import Patient, owner_first
from luna_tui.store.models.records import MedicalRecord
from luna_tui.store.models.safety_plan import SafetyPlanItem
from luna_tui.store.models.vitals import Vital

PROFILE_FIELDS = ("name", "date_of_birth", "relationship", "gender", "phone",
                  "emergency_contact", "primary_doctor", "doctor_phone", "allergies", "notes")
FREE_TEXT = frozenset({"notes", "allergies"})
ID_PREFIX = re.compile(r"[0-9a-f-]{4,36}")


@dataclass(frozen=True)
class PatientView:
    id: str
    name: str
    date_of_birth: str | None
    relationship: str | None
    gender: str | None
    phone: str | None
    emergency_contact: str | None
    primary_doctor: str | None
    doctor_phone: str | None
    allergies: str | None
    notes: str | None
    active: bool
    created_at: str
    updated_at: str

    def age(self, today: dt.date) -> int | None:
        if not self.date_of_birth:
            return None
        born = dt.date.fromisoformat(self.date_of_birth)
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def is_owner(self) -> bool:
        return self.relationship == "self"


def view(row: Patient) -> PatientView:
    return PatientView(
        id=row.id, name=row.name, date_of_birth=row.date_of_birth,
        relationship=row.relationship, gender=row.gender, phone=row.phone,
        emergency_contact=row.emergency_contact, primary_doctor=row.primary_doctor,
        doctor_phone=row.doctor_phone, allergies=row.allergies, notes=row.notes,
        active=bool(row.active), created_at=row.created_at, updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class DeletionImpact:
    journal_entries: int
    medications: int
    doses: int
    appointments: int
    vitals: int
    sessions: int
    records: int

    def sentence(self) -> str:
        parts = [f"{n} {label}" for n, label in (
            (self.journal_entries, "journal entries"), (self.medications, "medications"),
            (self.doses, "dose logs"), (self.appointments, "appointments"),
            (self.vitals, "vital readings"), (self.sessions, "AI sessions"),
            (self.records, "medical records")) if n]
        return ", ".join(parts) if parts else "no other data"


class Patients(DomainService):
    @on_db_thread
    def list(self, include_archived: bool = False) -> list[PatientView]:
        query = Patient.select()
        if not include_archived:
            query = query.where(Patient.active == 1)
        query = query.order_by(Patient.active.desc(), owner_first(),
                               Patient.name.collate("NOCASE"))
        return [view(p) for p in query]

    @on_db_thread
    def get(self, patient_id: str) -> PatientView:
        return view(self._row(patient_id))

    @on_db_thread
    def find(self, name: str) -> PatientView:
        """By name, ignoring case; a unique beginning of a name also works."""
        wanted = " ".join(name.split()).casefold()
        patients = list(Patient.select())
        exact = [p for p in patients if p.name.casefold() == wanted]
        if len(exact) == 1:
            return view(exact[0])
        starting = [p for p in patients if p.name.casefold().startswith(wanted)]
        if len(starting) == 1 and not exact:
            return view(starting[0])
        names = ", ".join(sorted(p.name for p in patients))
        if exact or starting:
            raise ValidationError(f"More than one patient matches '{name}': {names}.", "patient")
        raise NotFound(f"There is no patient called '{name}'. Patients: {names}.")

    @on_db_thread
    def resolve(self, typed: str) -> PatientView:
        """The patient a person means: a name (as `find`), or the beginning of an id
        (at least 4 characters) that only one patient's id has."""
        text = " ".join(str(typed or "").split()).lower()
        if ID_PREFIX.fullmatch(text):
            ids = [p.id for p in Patient.select(Patient.id).where(
                Patient.id.startswith(text)).limit(2)]
            named = Patient.select().where(fn.LOWER(Patient.name) == text).exists()
            if len(ids) == 1 and not named:
                return self.get(ids[0])
        return self.find(typed)

    @on_db_thread
    def entry_counts(self) -> dict[str, int]:
        """Each patient's number of journal entries, from one pass over an index."""
        count = fn.COUNT(JournalEntry.patient).alias("n")
        query = JournalEntry.select(JournalEntry.patient, count).group_by(JournalEntry.patient)
        return {row.patient_id: row.n for row in query}

    @on_db_thread
    def create(self, name: str, **profile: object) -> PatientView:
        given = {"name": name, **profile}
        refuse_controls(given)
        values = self._validated(given)
        stamp = self.stamp()
        with self.session.writing("add a patient") as tx:
            row = Patient.create(id=new_id(), active=1, created_at=stamp, updated_at=stamp,
                                 **values)
            tx.record("patient.create", row.id, audit_diff(None, values, FREE_TEXT))
        return view(row)

    @on_db_thread
    def update(self, patient_id: str, **changes: object) -> PatientView:
        row = self._row(patient_id)
        before = {f: getattr(row, f) for f in PROFILE_FIELDS}
        refuse_controls(changes, stored=before)
        values = self._validated({**before, **changes})
        with self.session.writing("change a patient") as tx:
            Patient.update(updated_at=self.stamp(), **values).where(
                Patient.id == patient_id).execute()
            tx.record("patient.update", patient_id, audit_diff(before, values, FREE_TEXT))
        return view(self._row(patient_id))

    @on_db_thread
    def set_archived(self, patient_id: str, archived: bool) -> PatientView:
        row = self._row(patient_id)
        if archived and row.relationship == "self":
            raise ValidationError(f"{row.name} is the vault's owner and can't be archived.",
                                  "patient")
        with self.session.writing("archive a patient") as tx:
            Patient.update(active=0 if archived else 1, updated_at=self.stamp()).where(
                Patient.id == patient_id).execute()
            tx.record("patient.archive" if archived else "patient.restore", patient_id,
                      {"active": [row.active, 0 if archived else 1]})
        return view(self._row(patient_id))

    @on_db_thread
    def deletion_impact(self, patient_id: str) -> DeletionImpact:
        self._row(patient_id)
        return DeletionImpact(
            journal_entries=JournalEntry.select().where(JournalEntry.patient == patient_id).count(),
            medications=Medication.select().where(Medication.patient == patient_id).count(),
            doses=MedicationDose.select().where(MedicationDose.patient == patient_id).count(),
            appointments=Appointment.select().where(Appointment.patient == patient_id).count(),
            vitals=Vital.select().where(Vital.patient == patient_id).count(),
            sessions=ChatSession.select().where(ChatSession.patient == patient_id).count(),
            records=MedicalRecord.select().where(MedicalRecord.patient == patient_id).count(),
        )

    @on_db_thread
    def delete(self, patient_id: str) -> DeletionImpact:
        """Delete the patient and, by cascade, everything of theirs."""
        row = self._row(patient_id)
        if Patient.select().count() == 1:
            raise ValidationError(
                "This is the only patient; a vault needs one. Rename it instead.", "patient")
        from luna_tui.store.attachment_markers import mark_for_removal, remove_files
        from luna_tui.store.models.records import Attachment

        impact = self.deletion_impact(patient_id)
        on_card = SafetyPlanItem.select().where(SafetyPlanItem.patient == patient_id,
                                                SafetyPlanItem.on_card == 1).exists()
        with self.session.writing("delete a patient") as tx:
            files = [a.storage_path for a in Attachment.select(Attachment.storage_path)
                     .where(Attachment.patient == patient_id)]
            mark_for_removal(self.session.layout, files)
            Patient.delete().where(Patient.id == patient_id).execute()
            tx.record("patient.delete", patient_id,
                      {"name": [row.name, None], "removed": [asdict(impact), None]})
        remove_files(self.session.layout, files)  # the rows are gone: their files go too
        if on_card:  # nor may the crisis card keep their lines
            SafetyPlans(self.session).rewrite_card()
        return impact

    def _row(self, patient_id: str) -> Patient:
        row = Patient.get_or_none(Patient.id == patient_id)
        if row is None:
            raise NotFound("That patient no longer exists.")
        return row

    def _validated(self, values: dict[str, object]) -> dict[str, object]:
        unknown = set(values) - set(PROFILE_FIELDS)
        if unknown:
            raise ValidationError(f"Patients have no field {', '.join(sorted(unknown))}.")
        born = parse_optional_date(values.get("date_of_birth"), "date_of_birth", self.today())
        if born is not None and born > self.today():
            raise ValidationError("The date of birth is in the future.", "date_of_birth")
        cleaned: dict[str, object] = {
            field: optional_text(values.get(field), multiline=field in FREE_TEXT)
            for field in PROFILE_FIELDS
        }
        cleaned["name"] = required_text(values.get("name"), "name", max_length=100)
        cleaned["date_of_birth"] = born.isoformat() if born else None
        return cleaned
