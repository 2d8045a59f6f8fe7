"""What an export or a hand-off takes out of the vault: chosen parts of chosen patients'
health over a period, read in one read transaction so it is one consistent snapshot.

The privacy rule lives here, once, so every format written from `HealthData` (a FHIR
Bundle, a hand-off's PDF and calendar) obeys it alike: a private journal entry never
leaves unless `include_private` asks for it, and with the entry go its mood, its sleep
and its feelings. Entries shared with the therapist leave only when "journal" is
included; the daily mood and sleep only when "mood" / "sleep" are, and only from
entries that may leave.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.appointments import AppointmentView
from luna_tui.services.appointments import _view as appointment_view
from luna_tui.services.attachments import exported_content
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.exporting import PRIVATE
from luna_tui.services.journal import Entry
from luna_tui.services.journal import _view as entry_view
from luna_tui.services.medications import EventView, Medications, MedicationView
from luna_tui.services.medications import _dose_view as dose_view
from luna_tui.services.medications import _view as medication_view
from luna_tui.services.patients import PatientView
from luna_tui.services.patients import view as patient_view
from luna_tui.services.read_models.medications import LoggedDose
from luna_tui.services.records import AttachmentView, Records, RecordView
from luna_tui.services.vitals import VitalView
from luna_tui.services.vitals import _view as vital_view
from luna_tui.store.models.appointments import Appointment
from luna_tui.store.models.base import database
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.medications import Medication, MedicationDose
from luna_tui.store.models.patients import Patient, owner_first
from luna_tui.store.models.records import Attachment
from luna_tui.store.models.vitals import Vital

INCLUDABLE = ("meds", "doses", "vitals", "mood", "sleep", "appointments", "records", "journal")


@dataclass(frozen=True)
class HealthScope:
    """What to take: whose, over which local dates (inclusive; None leaves that end
    open), which parts (a subset of INCLUDABLE), which records (None: every record in
    the period), whether attachments' files come along, and whether private journal
    entries may."""

    patient_ids: tuple[str, ...] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    include: frozenset[str] = frozenset(INCLUDABLE)
    record_ids: frozenset[str] | None = None
    attachments: bool = False
    include_private: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.include) - set(INCLUDABLE))
        if unknown:
            raise ValidationError(f"Luna can't include {', '.join(unknown)}; choose from "
                                  f"{', '.join(INCLUDABLE)}.", "include")
        if self.start and self.end and self.start > self.end:
            raise ValidationError("The period ends before it starts.", "end")

    def covers(self, day: str | None) -> bool:
        """Whether a local date (or the date a local moment starts with) is in the period."""
        if day is None:
            return self.start is None and self.end is None
        day = day[:10]
        return ((self.start is None or day >= self.start.isoformat())
                and (self.end is None or day <= self.end.isoformat()))

    @property
    def first_moment(self) -> str:
        return f"{self.start.isoformat()}T00:00" if self.start else ""

    @property
    def last_moment(self) -> str:
        return f"{self.end.isoformat()}T23:59" if self.end else "9999-12-31T23:59"


@dataclass(frozen=True)
class MedicationHistory:
    medication: MedicationView
    events: tuple[EventView, ...]  # started / stopped / dose_changed / resumed, oldest first


@dataclass(frozen=True)
class DailyScore:
    """One day's mood (average 1–10 scale) and sleep (average hours) from the journal
    entries that may leave; None where the day has none or the part was not asked for."""

    day: str  # YYYY-MM-DD, local
    mood_scale: float | None
    sleep_hours: float | None


@dataclass(frozen=True)
class RecordFile:
    attachment: AttachmentView
    content: bytes | None  # the decrypted file, only when the scope asks for attachments


@dataclass(frozen=True)
class RecordWithFiles:
    record: RecordView
    files: tuple[RecordFile, ...]


@dataclass(frozen=True)
class PatientHealth:
    patient: PatientView
    medications: tuple[MedicationHistory, ...]
    doses: tuple[LoggedDose, ...]  # oldest slot first
    vitals: tuple[VitalView, ...]  # oldest first
    daily: tuple[DailyScore, ...]  # oldest first
    appointments: tuple[AppointmentView, ...]  # earliest first
    records: tuple[RecordWithFiles, ...]  # oldest event first
    journal: tuple[Entry, ...]  # oldest first


@dataclass(frozen=True)
class HealthData:
    scope: HealthScope
    patients: tuple[PatientHealth, ...]


class HealthDataReader(DomainService):
    @on_db_thread
    def read(self, scope: HealthScope) -> HealthData:
        with database.atomic():  # a deferred (read) transaction: one snapshot
            return HealthData(scope, tuple(self._patient(row, scope)
                                           for row in _patients(scope)))

    def _patient(self, row: Patient, scope: HealthScope) -> PatientHealth:
        wants = scope.include
        medications = self._medications(row.id, scope)
        return PatientHealth(
            patient=patient_view(row),
            medications=medications if "meds" in wants else (),
            doses=self._doses(row.id, scope) if "doses" in wants else (),
            vitals=_vitals(row.id, scope) if "vitals" in wants else (),
            daily=_daily(row.id, scope),
            appointments=_appointments(row.id, scope) if "appointments" in wants else (),
            records=self._records(row.id, scope) if "records" in wants else (),
            journal=_journal(row.id, scope) if "journal" in wants else (),
        )

    def _medications(self, patient_id: str, scope: HealthScope
                     ) -> tuple[MedicationHistory, ...]:
        """Medications taken at some time in the period, each with its history up to
        the period's end (a dose change before the period explains the dose in it)."""
        service = Medications(self.session)
        events: dict[str, list[EventView]] = defaultdict(list)
        for event in service.events(patient_id, end=scope.end):
            events[event.medication_id].append(event)
        taken = [m for m in service.list(patient_id, include_stopped=True)
                 if _overlaps(m.start_date, m.end_date, scope)]
        taken.sort(key=lambda m: (m.start_date or "", m.name.casefold(), m.id))
        return tuple(MedicationHistory(m, tuple(events[m.id])) for m in taken)

    def _doses(self, patient_id: str, scope: HealthScope) -> tuple[LoggedDose, ...]:
        query = (MedicationDose.select(MedicationDose, Medication).join(Medication)
                 .where(MedicationDose.patient == patient_id,
                        MedicationDose.scheduled_at.between(scope.first_moment,
                                                            scope.last_moment))
                 .order_by(MedicationDose.scheduled_at, MedicationDose.id))
        return tuple(LoggedDose(dose_view(d), medication_view(d.medication)) for d in query)

    def _records(self, patient_id: str, scope: HealthScope) -> tuple[RecordWithFiles, ...]:
        chosen = [r for r in Records(self.session).list(patient_id) if _record_chosen(r, scope)]
        chosen.sort(key=lambda r: (r.event_date or r.created_at[:10], r.created_at, r.id))
        return tuple(RecordWithFiles(r, tuple(RecordFile(a, self._content(a) if scope.attachments
                                                         else None) for a in r.attachments))
                     for r in chosen)

    def _content(self, attachment: AttachmentView) -> bytes:
        storage = Attachment.get_by_id(attachment.id).storage_path
        return base64.b64decode(exported_content(self.session, attachment.id,
                                                 attachment.record_id, storage,
                                                 attachment.sha256))


def _patients(scope: HealthScope) -> list[Patient]:
    query = Patient.select().order_by(owner_first(), Patient.name, Patient.id)
    if scope.patient_ids is None:
        return list(query)
    rows = {row.id: row for row in query.where(Patient.id.in_(list(scope.patient_ids)))}
    missing = [pid for pid in scope.patient_ids if pid not in rows]
    if missing:
        raise NotFound("That patient no longer exists.")
    return [rows[pid] for pid in scope.patient_ids]


def _overlaps(start: str | None, end: str | None, scope: HealthScope) -> bool:
    """Whether [start, end] (dates; None open) meets the period."""
    return ((scope.end is None or start is None or start <= scope.end.isoformat())
            and (scope.start is None or end is None or end >= scope.start.isoformat()))


def _vitals(patient_id: str, scope: HealthScope) -> tuple[VitalView, ...]:
    query = (Vital.select().where(Vital.patient == patient_id,
                                  Vital.measured_at.between(scope.first_moment,
                                                            scope.last_moment))
             .order_by(Vital.measured_at, Vital.kind, Vital.id))
    return tuple(vital_view(row) for row in query)


def _leaving_entries(patient_id: str, scope: HealthScope):  # noqa: ANN202 - a query
    """The patient's journal entries in the period that may leave the vault."""
    query = JournalEntry.select().where(
        JournalEntry.patient == patient_id,
        JournalEntry.entry_date.between(scope.first_moment[:10], scope.last_moment[:10]))
    if not scope.include_private:
        query = query.where(JournalEntry.privacy_level != PRIVATE)
    return query


def _daily(patient_id: str, scope: HealthScope) -> tuple[DailyScore, ...]:
    mood, sleep = "mood" in scope.include, "sleep" in scope.include
    if not (mood or sleep):
        return ()
    days: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for entry in _leaving_entries(patient_id, scope).order_by(JournalEntry.entry_date):
        if mood and entry.mood_scale is not None:
            days[entry.entry_date][0].append(entry.mood_scale)
        if sleep and entry.sleep_hours is not None:
            days[entry.entry_date][1].append(entry.sleep_hours)
    return tuple(DailyScore(day, _average(moods), _average(hours))
                 for day, (moods, hours) in sorted(days.items()) if moods or hours)


def _average(values: list[float] | list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _appointments(patient_id: str, scope: HealthScope) -> tuple[AppointmentView, ...]:
    query = (Appointment.select().where(
        Appointment.patient == patient_id,
        Appointment.appointment_date.between(scope.first_moment[:10], scope.last_moment[:10]))
        .order_by(Appointment.appointment_date, Appointment.appointment_time, Appointment.id))
    return tuple(appointment_view(row) for row in query)


def _record_chosen(record: RecordView, scope: HealthScope) -> bool:
    """A record chosen by id goes whatever its date; otherwise one of the period (a
    record with no date of its own is dated by when it was added)."""
    if scope.record_ids is not None:
        return record.id in scope.record_ids
    return scope.covers(record.event_date or record.created_at[:10])


def _journal(patient_id: str, scope: HealthScope) -> tuple[Entry, ...]:
    query = _leaving_entries(patient_id, scope).order_by(
        JournalEntry.entry_date, JournalEntry.entry_time, JournalEntry.entry_no)
    return tuple(entry_view(row) for row in query)
