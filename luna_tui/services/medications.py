"""Medications, the doses taken of them, adherence, and their history.

A medication's day has slots (its `schedule`, derived from the frequency and
editable); a logged dose belongs to one slot, and logging the same slot again changes
it. A dose change or a stop is recorded as a medication event with its date, so the
history shows what was taken when, and the chart can mark it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from luna_tui.errors import DoseTooEarly, NotFound, ValidationError
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.validation import (
    choice,
    optional_text,
    parse_local_moment,
    parse_optional_date,
    parse_optional_number,
    parse_time,
    refuse_controls,
    required_text,
)
from luna_tui.store.models.medications import Medication, MedicationDose, MedicationEvent
from luna_tui.store.models.patients import Patient

DOSE_STATUSES = ("taken", "missed", "late", "skipped")
TAKEN_STATUSES = ("taken", "late")
EVENT_TYPES = ("started", "stopped", "dose_changed", "resumed")
FIELDS = ("name", "dosage", "frequency", "route", "prescribing_doctor", "pharmacy",
          "rx_number", "start_date", "end_date", "refill_date", "supply_count",
          "supply_counted_on", "side_effects", "notes", "schedule", "reminders")
FREE_TEXT = frozenset({"side_effects", "notes"})

# A dose is a number and a unit: "500 mg", "1 tablet", "2 puffs", "0.5 ml", "10 units".
_DOSAGE = re.compile(r"^\s*\d+(?:[.,]\d+)?(?:\s*[-/]\s*\d+(?:[.,]\d+)?)?\s*[^\d\s].*$")


@dataclass(frozen=True)
class MedicationView:
    id: str
    patient_id: str
    name: str
    dosage: str
    frequency: str
    route: str | None
    prescribing_doctor: str | None
    pharmacy: str | None
    rx_number: str | None
    start_date: str | None
    end_date: str | None
    refill_date: str | None
    supply_count: float | None
    supply_counted_on: str | None
    side_effects: str | None
    notes: str | None
    schedule: tuple[str, ...]
    active: bool
    created_at: str
    updated_at: str
    reminders: bool = True  # remind of its doses and refills


def _view(row: Medication) -> MedicationView:
    return MedicationView(
        id=row.id, patient_id=row.patient_id, name=row.name, dosage=row.dosage,
        frequency=row.frequency, route=row.route, prescribing_doctor=row.prescribing_doctor,
        pharmacy=row.pharmacy, rx_number=row.rx_number, start_date=row.start_date,
        end_date=row.end_date, refill_date=row.refill_date, supply_count=row.supply_count,
        supply_counted_on=row.supply_counted_on, side_effects=row.side_effects,
        notes=row.notes, schedule=tuple(row.schedule), active=bool(row.active),
        created_at=row.created_at, updated_at=row.updated_at, reminders=bool(row.reminders),
    )


@dataclass(frozen=True)
class DoseView:
    id: str
    medication_id: str
    scheduled_at: str  # local YYYY-MM-DDTHH:MM
    taken_at: str | None
    status: str
    notes: str | None


def _dose_view(row: MedicationDose) -> DoseView:
    return DoseView(row.id, row.medication_id, row.scheduled_at, row.taken_at, row.status,
                    row.notes)


@dataclass(frozen=True)
class DoseSlot:
    """One scheduled dose of one day, logged or not yet."""

    medication: MedicationView
    scheduled_at: str
    dose: DoseView | None


@dataclass(frozen=True)
class EventView:
    id: str
    medication_id: str
    medication_name: str
    event_type: str
    event_date: str
    old_value: str | None
    new_value: str | None
    notes: str | None


@dataclass(frozen=True)
class Adherence:
    """Doses over a period: how many the schedule asked for and what became of them."""

    expected: int
    taken: int
    late: int
    missed: int
    skipped: int

    @property
    def unlogged(self) -> int:
        return max(0, self.expected - self.taken - self.late - self.missed - self.skipped)

    @property
    def percent(self) -> float | None:
        """Doses taken (on time or late) out of those scheduled; None if none were."""
        if self.expected == 0:
            return None
        return min(100.0, 100.0 * (self.taken + self.late) / self.expected)


ADHERENCE_PERIODS = (7, 30, 90)  # days, ending today


@dataclass(frozen=True)
class DoseWindow:
    """The one rule for when a dose counts as taken, for the app, the shell and the
    reminders: from `early` minutes before its time to `late` minutes after. Taken
    inside counts as taken, after it as late; before it is asked about first. A dose
    still unlogged when its window closes is missed (the reminders mark it)."""

    early_minutes: int = 60
    late_minutes: int = 120

    def opens(self, slot: dt.datetime) -> dt.datetime:
        return slot - dt.timedelta(minutes=self.early_minutes)

    def closes(self, slot: dt.datetime) -> dt.datetime:
        return slot + dt.timedelta(minutes=self.late_minutes)

    def judge(self, slot: dt.datetime, taken: dt.datetime) -> str:
        """"early", "taken" or "late": what taking the dose at `taken` is."""
        if taken < self.opens(slot):
            return "early"
        return "late" if taken > self.closes(slot) else "taken"


def slot_moment(scheduled_at: str) -> dt.datetime:
    """A dose slot's local `YYYY-MM-DDTHH:MM` as a naive local datetime."""
    return dt.datetime.strptime(scheduled_at, "%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class MedicationDetails:
    """Everything the medications screen shows about one medication, in one trip."""

    medication: MedicationView
    adherence: dict[int, Adherence]  # days → doses over the last that many days
    days_of_supply: float | None
    events: list[EventView]  # oldest first
    doses_logged: int


def schedule_from_frequency(frequency: str) -> list[str]:
    """The day's dose slots a frequency suggests: "twice daily" → 08:00 and 20:00.

    No slots for "as needed" or weekly medications; the person can set them.
    """
    text = (frequency or "").lower()
    slots = {1: ["08:00"], 2: ["08:00", "20:00"], 3: ["08:00", "14:00", "20:00"],
             4: ["08:00", "12:00", "16:00", "20:00"]}
    if any(word in text for word in ("as needed", "prn", "week")):
        return []
    if "bedtime" in text or "night" in text:
        return ["22:00"]
    if match := re.search(r"every\s+(\d+)\s*h", text):
        every = int(match.group(1))
        if every in (4, 6, 8, 12, 24):
            return sorted(f"{(8 + i * every) % 24:02d}:00" for i in range(24 // every))
    for abbreviation, count in (("qid", 4), ("tid", 3), ("bid", 2), ("qd", 1)):
        if re.search(rf"\b{abbreviation}\b", text):
            return slots[count]
    numbers = {"one": 1, "two": 2, "three": 3, "four": 4}
    if match := re.search(r"\b(\d|one|two|three|four)\s*(?:x|times)\b", text):
        count = numbers.get(match.group(1)) or int(match.group(1))
        if count in slots:
            return slots[count]
    for word, count in (("once", 1), ("twice", 2), ("thrice", 3)):
        if re.search(rf"\b{word}\b", text):
            return slots[count]
    if "daily" in text or "day" in text or "morning" in text:
        return ["08:00"]
    return []


class Medications(DomainService):
    # -- the list ---------------------------------------------------------------------

    @on_db_thread
    def list(self, patient_id: str, *, include_stopped: bool = False) -> list[MedicationView]:
        """Active first, then by name; a patient has tens of medications, not thousands."""
        query = Medication.select().where(Medication.patient == patient_id)
        if not include_stopped:
            query = query.where(Medication.active == 1)
        query = query.order_by(Medication.active.desc(), Medication.name.collate("NOCASE"))
        return [_view(r) for r in query]

    @on_db_thread
    def get(self, medication_id: str) -> MedicationView:
        return _view(self._row(medication_id))

    @on_db_thread
    def find(self, patient_id: str, name: str) -> MedicationView:
        wanted = " ".join(name.split()).casefold()
        rows = list(Medication.select().where(Medication.patient == patient_id))
        matches = [r for r in rows if r.name.casefold() == wanted] or [
            r for r in rows if r.name.casefold().startswith(wanted)]
        active = [r for r in matches if r.active]
        if len(active) == 1 or len(matches) == 1:
            return _view((active or matches)[0])
        names = ", ".join(sorted({r.name for r in rows})) or "none yet"
        if matches:
            raise ValidationError(f"More than one medication matches '{name}'.", "name")
        raise NotFound(f"There is no medication called '{name}'. Medications: {names}.")

    # -- changing medications --------------------------------------------------------

    @on_db_thread
    def create(self, patient_id: str, name: str, dosage: str, frequency: str,
               **details: object) -> MedicationView:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")
        given = {"name": name, "dosage": dosage, "frequency": frequency, **details}
        refuse_controls(given)
        values = self._validated(given)
        if not values["start_date"]:
            values["start_date"] = self.today().isoformat()
        if "schedule" not in details or details["schedule"] is None:
            values["schedule"] = schedule_from_frequency(values["frequency"])
        stamp = self.stamp()
        with self.session.writing("add a medication") as tx:
            row = Medication.create(id=new_id(), patient=patient_id, active=1,
                                    created_at=stamp, updated_at=stamp, **values)
            self._event(row, "started", values["start_date"], None, values["dosage"])
            tx.record("medication.create", row.id, audit_diff(None, values, FREE_TEXT))
        return _view(row)

    @on_db_thread
    def update(self, medication_id: str, *, effective: object = None,
               **changes: object) -> MedicationView:
        """Change details; a new dosage is a dose change dated `effective` (today)."""
        row = self._row(medication_id)
        before = {f: _plain(getattr(row, f)) for f in FIELDS}
        refuse_controls(changes, stored=before)
        values = self._validated({**before, **changes})
        if "frequency" in changes and "schedule" not in changes:
            values["schedule"] = schedule_from_frequency(values["frequency"])
        changed = {k: v for k, v in values.items() if v != before[k]}
        if not changed:
            return _view(row)
        with self.session.writing("change a medication") as tx:
            Medication.update(updated_at=self.stamp(), **changed).where(
                Medication.id == medication_id).execute()
            if "dosage" in changed:
                day = parse_optional_date(effective, "effective date", self.today())
                self._event(row, "dose_changed", (day or self.today()).isoformat(),
                            before["dosage"], values["dosage"])
            tx.record("medication.update", medication_id, audit_diff(before, values, FREE_TEXT))
        return _view(self._row(medication_id))

    @on_db_thread
    def stop(self, medication_id: str, *, on: object = None, reason: str | None = None
             ) -> MedicationView:
        refuse_controls({"reason": reason})
        row = self._row(medication_id)
        if not row.active:
            raise ValidationError(f"{row.name} is already stopped.")
        day = (parse_optional_date(on, "stop date", self.today()) or self.today()).isoformat()
        with self.session.writing("stop a medication") as tx:
            Medication.update(active=0, end_date=day, updated_at=self.stamp()).where(
                Medication.id == medication_id).execute()
            self._event(row, "stopped", day, row.dosage, None, optional_text(reason))
            tx.record("medication.stop", medication_id, {"active": [1, 0], "end_date": [
                row.end_date, day]})
        return _view(self._row(medication_id))

    @on_db_thread
    def resume(self, medication_id: str, *, on: object = None) -> MedicationView:
        row = self._row(medication_id)
        if row.active:
            raise ValidationError(f"{row.name} is not stopped.")
        day = (parse_optional_date(on, "start date", self.today()) or self.today()).isoformat()
        with self.session.writing("resume a medication") as tx:
            Medication.update(active=1, end_date=None, updated_at=self.stamp()).where(
                Medication.id == medication_id).execute()
            self._event(row, "resumed", day, None, row.dosage)
            tx.record("medication.resume", medication_id, {"active": [0, 1]})
        return _view(self._row(medication_id))

    @on_db_thread
    def delete(self, medication_id: str) -> None:
        row = self._row(medication_id)
        with self.session.writing("delete a medication") as tx:
            Medication.delete().where(Medication.id == medication_id).execute()
            tx.record("medication.delete", medication_id,
                      audit_diff({f: _plain(getattr(row, f)) for f in FIELDS}, None, FREE_TEXT))

    # -- doses ------------------------------------------------------------------------

    @on_db_thread
    def dose_window(self) -> DoseWindow:
        """The window the settings `dose.early_minutes` and `dose.late_minutes` give."""
        from luna_tui.services.settings import Settings

        settings = Settings(self.session)
        return DoseWindow(settings.get("dose.early_minutes"), settings.get("dose.late_minutes"))

    @on_db_thread
    def log_dose(self, medication_id: str, status: str, *, slot: object = None,
                 taken_at: object = None, notes: str | None = None,
                 at: object = None, early: bool = False) -> DoseView:
        """Record what became of one dose. `slot` is the scheduled time it belongs to
        (default: the slot nearest `at` on its day, else the nearest today, else now);
        logging a slot again changes it. `at` is when it happened: also the time taken,
        unless `taken_at` says otherwise.

        The dose window decides taken or late: "taken" after the window closes is
        stored as late; before it opens raises DoseTooEarly unless `early` says the
        person confirmed taking it ahead of time."""
        refuse_controls({"notes": notes})
        row = self._row(medication_id)
        status = choice(status, "dose status", DOSE_STATUSES)
        now = self.local_now()
        moment = self._dose_moment(at, status, now) if at is not None else now
        scheduled_at = (parse_local_moment(slot, "dose time", now) if slot is not None
                        else self._nearest_slot(row, moment))
        taken = None
        if status in TAKEN_STATUSES:
            taken = parse_local_moment(taken_at, "time taken", now) if taken_at else (
                moment.strftime("%Y-%m-%dT%H:%M"))
            status = self._judged(row, status, scheduled_at, taken, early)
        stamp = self.stamp()
        with self.session.writing("log a dose") as tx:
            existing = MedicationDose.get_or_none(MedicationDose.medication == medication_id,
                                                  MedicationDose.scheduled_at == scheduled_at)
            if existing is None:
                dose = MedicationDose.create(
                    id=new_id(), medication=medication_id, patient=row.patient_id,
                    scheduled_at=scheduled_at, taken_at=taken, status=status,
                    notes=optional_text(notes, multiline=True), created_at=stamp,
                    updated_at=stamp)
                before = None
            else:
                before = {"status": existing.status, "taken_at": existing.taken_at}
                MedicationDose.update(status=status, taken_at=taken, updated_at=stamp,
                                      notes=optional_text(notes, multiline=True)).where(
                    MedicationDose.id == existing.id).execute()
                dose = MedicationDose.get_by_id(existing.id)
            tx.record("dose.log", dose.id, audit_diff(
                before, {"status": status, "taken_at": taken, "medication": row.name,
                         "scheduled_at": scheduled_at}))
        return _dose_view(dose)

    @on_db_thread
    def log_doses(self, slots: list[tuple[str, str]], status: str, *,
                  early: bool = False) -> list[DoseView]:
        """Log several (medication id, slot) pairs at once, all or nothing."""
        with self.session.writing("log doses"):
            return [self.log_dose(med_id, status, slot=slot, early=early)
                    for med_id, slot in slots]

    def _judged(self, row: Medication, status: str, scheduled_at: str, taken: str,
                early: bool) -> str:
        window = self.dose_window()
        slot = slot_moment(scheduled_at)
        verdict = window.judge(slot, slot_moment(taken))
        if verdict == "early" and not early:
            raise DoseTooEarly(
                f"The {scheduled_at[-5:]} dose of {row.name} is not due yet: its window "
                f"opens at {window.opens(slot).strftime('%H:%M')}.", scheduled_at)
        return "late" if verdict == "late" else status

    @on_db_thread
    def day_slots(self, patient_id: str, day: dt.date) -> list[DoseSlot]:
        """Each active medication's slots on `day`, with the dose logged for each."""
        medications = [m for m in self.list(patient_id) if _active_on(m, day)]
        start, end = f"{day.isoformat()}T00:00", f"{day.isoformat()}T23:59"
        doses = {
            (d.medication_id, d.scheduled_at): _dose_view(d)
            for d in MedicationDose.select().where(
                MedicationDose.patient == patient_id,
                MedicationDose.scheduled_at.between(start, end))
        }
        slots = []
        for medication in medications:
            times = {f"{day.isoformat()}T{t}" for t in medication.schedule}
            times |= {at for (mid, at) in doses if mid == medication.id}
            for at in sorted(times):
                slots.append(DoseSlot(medication, at, doses.get((medication.id, at))))
        slots.sort(key=lambda s: (s.scheduled_at, s.medication.name.casefold()))
        return slots

    @on_db_thread
    def scheduled_slots(self, patient_id: str, start: dt.date, end: dt.date
                        ) -> dict[dt.date, set[tuple[str, str]]]:
        """Each day's scheduled doses from `start` to `end`, (medication id, local
        YYYY-MM-DDTHH:MM): the medications being taken that day by their start and stop
        history, at their schedule's times. Days without one are left out."""
        slots: dict[dt.date, set[tuple[str, str]]] = {}
        for medication in self.list(patient_id, include_stopped=True):
            if not medication.schedule:
                continue
            history = self._history(medication.id)
            day = start
            while day <= end:
                if _active_on(medication, day, history=history):
                    slots.setdefault(day, set()).update(
                        (medication.id, f"{day.isoformat()}T{t}") for t in medication.schedule)
                day += dt.timedelta(days=1)
        return slots

    @on_db_thread
    def adherence(self, medication_id: str, start: dt.date, end: dt.date) -> Adherence:
        """Doses over [start, end]; expected counts only days the medication was taken
        and only slots already past."""
        row = self._row(medication_id)
        medication = _view(row)
        now = self.local_now().strftime("%Y-%m-%dT%H:%M")
        history = self._history(medication_id)
        expected = 0
        day = start
        while day <= end:
            if _active_on(medication, day, history=history):
                expected += sum(1 for t in medication.schedule if f"{day.isoformat()}T{t}" <= now)
            day += dt.timedelta(days=1)
        counts = dict.fromkeys(DOSE_STATUSES, 0)
        query = MedicationDose.select(MedicationDose.status).where(
            MedicationDose.medication == medication_id,
            MedicationDose.scheduled_at.between(f"{start.isoformat()}T00:00",
                                                f"{end.isoformat()}T23:59"))
        for dose in query:
            counts[dose.status] += 1
        expected = max(expected, sum(counts.values()))
        return Adherence(expected, counts["taken"], counts["late"], counts["missed"],
                         counts["skipped"])

    @on_db_thread
    def recent_adherence(self, medication_id: str,
                         periods: tuple[int, ...] = ADHERENCE_PERIODS) -> dict[int, Adherence]:
        """Adherence over each of the last `periods` days, today included: what the app's
        details and `luna meds` both show."""
        today = self.today()
        return {days: self.adherence(medication_id, today - dt.timedelta(days=days - 1), today)
                for days in periods}

    @on_db_thread
    def dose_history(self, patient_id: str, start: dt.date, end: dt.date, *,
                     medication_id: str | None = None) -> list[DoseView]:
        """The doses logged for slots from `start` to `end` (whole days), newest first."""
        query = MedicationDose.select().where(
            MedicationDose.patient == patient_id,
            MedicationDose.scheduled_at.between(f"{start.isoformat()}T00:00",
                                                f"{end.isoformat()}T23:59"))
        if medication_id:
            query = query.where(MedicationDose.medication == medication_id)
        query = query.order_by(MedicationDose.scheduled_at.desc(), MedicationDose.id)
        return [_dose_view(d) for d in query]

    @on_db_thread
    def events(self, patient_id: str, *, medication_id: str | None = None,
               start: dt.date | None = None, end: dt.date | None = None) -> list[EventView]:
        # Medication.id too: selecting the joined row's columns replaces the event's
        # own medication_id with that row, which would otherwise have no id.
        query = (MedicationEvent.select(MedicationEvent, Medication.id, Medication.name)
                 .join(Medication).where(MedicationEvent.patient == patient_id))
        if medication_id:
            query = query.where(MedicationEvent.medication == medication_id)
        if start:
            query = query.where(MedicationEvent.event_date >= start.isoformat())
        if end:
            query = query.where(MedicationEvent.event_date <= end.isoformat())
        query = query.order_by(MedicationEvent.event_date, MedicationEvent.created_at)
        return [EventView(e.id, e.medication.id, e.medication.name, e.event_type, e.event_date,
                          e.old_value, e.new_value, e.notes) for e in query]

    @on_db_thread
    def days_of_supply(self, medication_id: str) -> float | None:
        """Days left of the counted supply, or None without a count or a schedule."""
        row = self._row(medication_id)
        if row.supply_count is None or not row.schedule:
            return None
        since = f"{row.supply_counted_on or row.created_at[:10]}T00:00"
        used = MedicationDose.select().where(
            MedicationDose.medication == medication_id,
            MedicationDose.status.in_(TAKEN_STATUSES),
            MedicationDose.scheduled_at >= since).count()
        return max(0.0, (row.supply_count - used) / len(row.schedule))

    @on_db_thread
    def details(self, medication_id: str) -> MedicationDetails:
        medication = _view(self._row(medication_id))
        return MedicationDetails(
            medication=medication, adherence=self.recent_adherence(medication_id),
            days_of_supply=self.days_of_supply(medication_id),
            events=self.events(medication.patient_id, medication_id=medication_id),
            doses_logged=MedicationDose.select().where(
                MedicationDose.medication == medication_id).count(),
        )

    # -- helpers ------------------------------------------------------------------------

    def _row(self, medication_id: str) -> Medication:
        row = Medication.get_or_none(Medication.id == medication_id)
        if row is None:
            raise NotFound("That medication no longer exists.")
        return row

    def _event(self, row: Medication, event_type: str, day: str, old: str | None,
               new: str | None, notes: str | None = None) -> None:
        stamp = self.stamp()
        MedicationEvent.create(id=new_id(), medication=row.id, patient=row.patient_id,
                               event_type=event_type, event_date=day, old_value=old,
                               new_value=new, notes=notes, created_at=stamp, updated_at=stamp)

    def _history(self, medication_id: str) -> list[tuple[str, str]]:
        """(date, event type) of every start, stop and change, oldest first."""
        return [(e.event_date, e.event_type) for e in MedicationEvent.select().where(
            MedicationEvent.medication == medication_id).order_by(MedicationEvent.event_date)]

    @staticmethod
    def _dose_moment(at: object, status: str, now: dt.datetime) -> dt.datetime:
        moment = dt.datetime.strptime(parse_local_moment(at, "dose time", now),
                                      "%Y-%m-%dT%H:%M")
        if status in TAKEN_STATUSES and moment > now + dt.timedelta(minutes=5):
            raise ValidationError("That dose time is in the future; a dose is logged once "
                                  "it is taken.", "at")
        return moment

    @staticmethod
    def _nearest_slot(row: Medication, now: dt.datetime) -> str:
        today = now.date().isoformat()
        if not row.schedule:
            return now.strftime("%Y-%m-%dT%H:%M")
        minutes = now.hour * 60 + now.minute

        def distance(slot: str) -> int:
            hours, mins = slot.split(":")
            return abs(int(hours) * 60 + int(mins) - minutes)

        return f"{today}T{min(row.schedule, key=distance)}"

    def _validated(self, values: dict[str, object]) -> dict[str, object]:
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise ValidationError(f"Medications have no field {', '.join(sorted(unknown))}.")
        today = self.today()
        dosage = required_text(values.get("dosage"), "dosage", max_length=60)
        if not _DOSAGE.match(dosage):
            raise ValidationError(
                f"'{dosage}' needs an amount and a unit, such as \"500 mg\", \"1 tablet\" or "
                "\"2 puffs\".", "dosage")
        start = parse_optional_date(values.get("start_date"), "start_date", today)
        end = parse_optional_date(values.get("end_date"), "end_date", today)
        if start and end and end < start:
            raise ValidationError("The end date is before the start date.", "end_date")
        counted = parse_optional_date(values.get("supply_counted_on"), "supply_counted_on",
                                      today)
        supply = parse_optional_number(values.get("supply_count"), "supply_count", low=0,
                                       high=100_000, unit="doses")
        if supply is not None and counted is None:
            counted = today
        schedule = values.get("schedule")
        if isinstance(schedule, str):
            schedule = [s for s in re.split(r"[,\s]+", schedule) if s]
        return {
            "name": required_text(values.get("name"), "medication name", max_length=100),
            "dosage": dosage,
            "frequency": required_text(values.get("frequency"), "frequency", max_length=100),
            "route": optional_text(values.get("route")),
            "prescribing_doctor": optional_text(values.get("prescribing_doctor")),
            "pharmacy": optional_text(values.get("pharmacy")),
            "rx_number": optional_text(values.get("rx_number")),
            "start_date": start.isoformat() if start else None,
            "end_date": end.isoformat() if end else None,
            "refill_date": _iso(parse_optional_date(values.get("refill_date"), "refill_date",
                                                    today)),
            "supply_count": supply,
            "supply_counted_on": _iso(counted),
            "side_effects": optional_text(values.get("side_effects"), multiline=True),
            "notes": optional_text(values.get("notes"), multiline=True),
            "schedule": sorted({parse_time(t, "dose time") for t in (schedule or [])}),
            "reminders": _flag(values.get("reminders"), "reminders"),
        }


def _active_on(medication: MedicationView, day: dt.date,
               history: list[tuple[str, str]] | None = None) -> bool:
    """Was the medication being taken on `day`? From its start/stop history if given,
    else from its start and end dates."""
    iso = day.isoformat()
    if history:
        active = False
        for event_date, event_type in history:
            if event_date > iso:
                break
            if event_type in ("started", "resumed"):
                active = True
            elif event_type == "stopped" and event_date < iso:
                active = False  # the stop date itself is the last day taken
        return active
    if medication.start_date and iso < medication.start_date:
        return False
    if medication.end_date and iso > medication.end_date:
        return False
    return medication.active or bool(medication.end_date)


def _flag(value: object, field: str) -> int:
    """On unless said off: 1 or 0, as the column keeps it."""
    if value is None or value in (True, 1, "1", "on", "yes", "true"):
        return 1
    if value in (False, 0, "0", "off", "no", "false"):
        return 0
    raise ValidationError(f"'{value}' is not on or off.", field)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, list | tuple) else value


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
