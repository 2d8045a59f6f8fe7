"""Reminders: doses due, refills running low, appointments coming.

A `ReminderScheduler` works for whoever holds an unlocked session — the app now, the
agent (`luna agent`) as well — and decides, each time it is asked (`due`), what to
send: it reads the clock and the vault, never the wall clock, so tests turn a fake
clock through a day.

- A dose is reminded of at its time, then again every `reminders.repeat_minutes`
  until it is logged (taken, skipped, ...) or snoozed (`reminders.snooze_minutes`);
  when its window closes (`dose.late_minutes` after its time, the rule of
  services.medications.DoseWindow) with nothing logged, it is marked missed. Doses due
  at one tick make one notice, "Luna: 2 doses due", whose Taken and Snooze act on all.
- A refill once a day while a medication's days of supply are fewer than
  `reminders.refill_days`.
- An appointment the day before (24 hours before its time; 09:00 the day before one
  without a time) and `reminders.appointment_hours` before.
- Medications whose `reminders` is off are left out (their doses are not marked missed
  either); nothing is sent during `reminders.quiet_hours`: what falls due then waits
  until they end.
- **No health detail by default**: notifications reach lock screens, so they say
  "Luna: 2 doses due", "Luna: a refill is due", "Luna: an appointment tomorrow at
  14:30". With `reminders.show_details` on they name the medications and the
  appointment, and the appointment's preparation notes.

One scheduler at a time per vault: the holder runs `remind_while` with a
`SchedulerLock` (store/scheduler_lock.py), which lets only one of the app and an agent
remind — the agent when one runs. What was sent and snoozed lives in the scheduler's
memory: a new holder may remind once more of a dose the previous one had just sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from luna_tui.errors import LunaError
from luna_tui.services.appointments import OPEN_STATUSES, Appointments, AppointmentView
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.calendar_export import appointment_title
from luna_tui.services.medications import (
    DoseWindow,
    Medications,
    MedicationView,
    _active_on,
    slot_moment,
)
from luna_tui.services.settings import Settings
from luna_tui.store.models.medications import MedicationDose
from luna_tui.store.models.patients import Patient
from luna_tui.store.scheduler_lock import SchedulerLock

ACTIONS = ("taken", "snooze")
ALL_DAY_REMINDER = dt.time(9, 0)  # the day before an appointment without a time
TICK_SECONDS = 30.0


@dataclass(frozen=True)
class DueDose:
    medication_id: str
    name: str
    dosage: str
    scheduled_at: str  # local YYYY-MM-DDTHH:MM


@dataclass(frozen=True)
class Notice:
    """One notification. `title` and `body` are all it shows; `doses` are what its
    Taken and Snooze act on."""

    kind: str  # doses | refill | appointment
    title: str
    body: str
    doses: tuple[DueDose, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS if self.doses else ()

    @property
    def text(self) -> str:
        return f"{self.title}: {self.body}"


@dataclass(frozen=True)
class Planned:
    """One reminder of the next hours, as `luna remind --list` shows it (in full: the
    person's own terminal, not a lock screen)."""

    at: dt.datetime  # local, naive: when it will be sent
    kind: str
    what: str
    patient: str


@dataclass(frozen=True)
class ReminderSettings:
    enabled: bool
    repeat_minutes: int
    snooze_minutes: int
    quiet: tuple[dt.time, dt.time] | None
    refill_days: int
    appointment_hours: int
    show_details: bool
    window: DoseWindow

    def quiet_at(self, moment: dt.datetime) -> bool:
        if self.quiet is None:
            return False
        start, end = self.quiet
        now = moment.time()
        return start <= now < end if start < end else (now >= start or now < end)

    def released(self, moment: dt.datetime) -> dt.datetime:
        """When something due at `moment` is sent: then, or when quiet hours end."""
        if not self.quiet_at(moment):
            return moment
        end = dt.datetime.combine(moment.date(), self.quiet[1])  # type: ignore[index]
        return end if end > moment else end + dt.timedelta(days=1)


@dataclass
class _Memory:
    sent: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    snoozed: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    refills: set[tuple[str, str]] = field(default_factory=set)
    appointments: set[tuple[str, str]] = field(default_factory=set)


class ReminderScheduler(DomainService):
    """What is due and what to send; call `due` every half minute or so."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.memory = _Memory()

    # -- settings -----------------------------------------------------------------------

    @on_db_thread
    def settings(self) -> ReminderSettings:
        settings = Settings(self.session)
        quiet_text = settings.get("reminders.quiet_hours")
        quiet = None
        if quiet_text:
            start, end = quiet_text.split("-")
            quiet = (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
        return ReminderSettings(
            enabled=settings.get("reminders.enabled"),
            repeat_minutes=settings.get("reminders.repeat_minutes"),
            snooze_minutes=settings.get("reminders.snooze_minutes"),
            quiet=quiet,
            refill_days=settings.get("reminders.refill_days"),
            appointment_hours=settings.get("reminders.appointment_hours"),
            show_details=settings.get("reminders.show_details"),
            window=Medications(self.session).dose_window(),
        )

    # -- the tick -----------------------------------------------------------------------

    @on_db_thread
    def due(self) -> list[Notice]:
        """Mark the doses whose window closed missed, then what to send now."""
        config = self.settings()
        if not config.enabled:
            return []
        now = self.local_now()
        patients = self._patients()
        if not self.session.read_only:
            self._mark_missed(patients, now, config)
        if config.quiet_at(now):
            return []
        notices = []
        doses = [dose for dose, next_at in self._open_doses(patients, now, config)
                 if next_at <= now]
        if doses:
            for dose in doses:
                self.memory.sent[(dose.medication_id, dose.scheduled_at)] = now
            notices.append(_dose_notice(doses, config.show_details))
        today = now.date().isoformat()
        for medication, days in self._short_supplies(patients, config):
            if (medication.id, today) not in self.memory.refills:
                self.memory.refills.add((medication.id, today))
                notices.append(_refill_notice(medication, days, config.show_details))
        for appointment, moment, whens in self._appointments_due(patients, now, config):
            for when in whens:
                self.memory.appointments.add((appointment.id, when))
            notices.append(_appointment_notice(appointment, moment, now,
                                               config.show_details))
        return notices

    @on_db_thread
    def answer(self, notice: Notice, action: str) -> str:
        """What a notification's button does: log its doses taken, or snooze them.
        Returns a sentence that names nothing (it may be shown where the notice was)."""
        if action not in ACTIONS:
            raise ValueError(action)
        now = self.local_now()
        if action == "snooze":
            config = self.settings()
            until = now + dt.timedelta(minutes=config.snooze_minutes)
            for dose in notice.doses:
                self.memory.snoozed[(dose.medication_id, dose.scheduled_at)] = until
            return f"Reminding again at {until:%H:%M}."
        self.session.require_writable("log a dose")
        medications = Medications(self.session)
        logged = 0
        with self.session.writing("log doses"):
            for dose in notice.doses:
                if _logged(dose.medication_id, dose.scheduled_at):
                    continue  # logged meanwhile (skipped, taken in the app): left as is
                medications.log_dose(dose.medication_id, "taken", slot=dose.scheduled_at,
                                     early=True)
                logged += 1
        return f"Logged {logged} dose{'s' if logged != 1 else ''} as taken."

    @on_db_thread
    def upcoming(self, hours: int = 24) -> list[Planned]:
        """Every reminder of the next `hours`, soonest first, as it will be sent."""
        config = self.settings()
        if not config.enabled:
            return []
        now = self.local_now()
        end = now + dt.timedelta(hours=hours)
        patients = self._patients()
        planned: list[Planned] = []
        for patient_id, patient_name in patients.items():
            for medication in self._reminded(patient_id):
                for slot in self._slots(medication, now, end, config):
                    moment = slot_moment(slot)
                    if now >= config.window.closes(moment) or _logged(medication.id, slot):
                        continue
                    at = max(moment, self._next_at(medication.id, slot, moment, config))
                    at = config.released(max(at, now))
                    if at < config.window.closes(moment) and at <= end:
                        planned.append(Planned(at, "dose", f"{slot[-5:]} dose of "
                                               f"{medication.name} {medication.dosage}",
                                               patient_name))
        for medication, days in self._short_supplies(patients, config):
            if (medication.id, now.date().isoformat()) not in self.memory.refills:
                planned.append(Planned(config.released(now), "refill",
                                       f"refill {medication.name}: about {days:.0f} days "
                                       "of supply left", patients[medication.patient_id]))
        for patient_id, patient_name in patients.items():
            ahead = dt.timedelta(hours=max(24, config.appointment_hours) + 24)
            for appointment, moment in self._appointments(patient_id, now, end + ahead):
                for when, at in _appointment_times(moment, appointment, config):
                    if (appointment.id, when) in self.memory.appointments:
                        continue
                    at = config.released(max(at, now))
                    if at <= end and at < moment:
                        planned.append(Planned(at, "appointment", (
                            f"{appointment_title(appointment)} on "
                            f"{_moment_words(moment, appointment)}"), patient_name))
        planned.sort(key=lambda p: (p.at, p.kind, p.what))
        return planned

    # -- doses --------------------------------------------------------------------------

    def _patients(self) -> dict[str, str]:
        return {p.id: p.name for p in Patient.select(Patient.id, Patient.name).where(
            Patient.active == 1)}

    def _reminded(self, patient_id: str) -> list[MedicationView]:
        return [m for m in Medications(self.session).list(patient_id)
                if m.reminders and m.schedule]

    def _slots(self, medication: MedicationView, start: dt.datetime, end: dt.datetime,
               config: ReminderSettings) -> list[str]:
        """The medication's slots whose window is open at some point in [start, end],
        from days it was taken and times after it was added."""
        added = _local(medication.created_at)
        first_day = (start - dt.timedelta(minutes=config.window.late_minutes)).date()
        slots = []
        day = first_day
        while day <= end.date():
            if _active_on(medication, day):
                for time in medication.schedule:
                    slot = f"{day.isoformat()}T{time}"
                    moment = slot_moment(slot)
                    if moment >= added and moment <= end:
                        slots.append(slot)
            day += dt.timedelta(days=1)
        return slots

    def _next_at(self, medication_id: str, slot: str, moment: dt.datetime,
                 config: ReminderSettings) -> dt.datetime:
        key = (medication_id, slot)
        at = moment
        if key in self.memory.sent:
            at = max(at, self.memory.sent[key] + dt.timedelta(minutes=config.repeat_minutes))
        if key in self.memory.snoozed:
            at = max(at, self.memory.snoozed[key])
        return at

    def _open_doses(self, patients: dict[str, str], now: dt.datetime,
                    config: ReminderSettings) -> list[tuple[DueDose, dt.datetime]]:
        """Unlogged doses whose time has come and whose window is open, with when each
        is next reminded of."""
        found = []
        for patient_id in patients:
            for medication in self._reminded(patient_id):
                for slot in self._slots(medication, now, now, config):
                    moment = slot_moment(slot)
                    if not moment <= now < config.window.closes(moment):
                        continue
                    if _logged(medication.id, slot):
                        continue
                    found.append((DueDose(medication.id, medication.name, medication.dosage,
                                          slot),
                                  self._next_at(medication.id, slot, moment, config)))
        return found

    def _mark_missed(self, patients: dict[str, str], now: dt.datetime,
                     config: ReminderSettings) -> None:
        """Doses whose window closed in the last day with nothing logged: missed."""
        since = now - dt.timedelta(days=1)
        medications = Medications(self.session)
        for patient_id in patients:
            for medication in self._reminded(patient_id):
                for slot in self._slots(medication, since, now, config):
                    moment = slot_moment(slot)
                    closes = config.window.closes(moment)
                    if since <= closes <= now and not _logged(medication.id, slot):
                        medications.log_dose(medication.id, "missed", slot=slot)

    # -- refills and appointments ---------------------------------------------------------

    def _short_supplies(self, patients: dict[str, str], config: ReminderSettings
                        ) -> list[tuple[MedicationView, float]]:
        if config.refill_days <= 0:
            return []
        medications = Medications(self.session)
        short = []
        for patient_id in patients:
            for medication in self._reminded(patient_id):
                days = medications.days_of_supply(medication.id)
                if days is not None and days < config.refill_days:
                    short.append((medication, days))
        return short

    def _appointments(self, patient_id: str, now: dt.datetime, end: dt.datetime
                      ) -> list[tuple[AppointmentView, dt.datetime]]:
        found = []
        for appointment in Appointments(self.session).upcoming(patient_id, limit=20
                                                              ).appointments:
            if appointment.status not in OPEN_STATUSES:
                continue
            moment = _appointment_moment(appointment)
            if moment.date() > end.date():
                break
            if moment > now:
                found.append((appointment, moment))
        return found

    def _appointments_due(self, patients: dict[str, str], now: dt.datetime,
                          config: ReminderSettings
                          ) -> list[tuple[AppointmentView, dt.datetime, list[str]]]:
        due = []
        for patient_id in patients:
            ahead = dt.timedelta(hours=max(24, config.appointment_hours) + 24)
            for appointment, moment in self._appointments(patient_id, now, now + ahead):
                whens = [when for when, at in _appointment_times(moment, appointment, config)
                         if at <= now and (appointment.id, when) not in self.memory.appointments]
                if whens:
                    due.append((appointment, moment, whens))
        return due


# -- the words --------------------------------------------------------------------------------


def _dose_notice(doses: list[DueDose], details: bool) -> Notice:
    count = len(doses)
    body = f"{count} dose{'s' if count != 1 else ''} due"
    if details:
        body = ", ".join(f"{d.name} {d.dosage} ({d.scheduled_at[-5:]})" for d in doses) + (
            " due")
    return Notice("doses", "Luna", body, tuple(doses))


def _refill_notice(medication: MedicationView, days: float, details: bool) -> Notice:
    if details:
        return Notice("refill", "Luna", f"refill {medication.name}: about {days:.0f} days "
                      "of supply left")
    return Notice("refill", "Luna", "a refill is due")


def _appointment_notice(appointment: AppointmentView, moment: dt.datetime,
                        now: dt.datetime, details: bool) -> Notice:
    when = _when_words(moment, appointment, now)
    if not details:
        return Notice("appointment", "Luna", f"an appointment {when}")
    body = f"{appointment_title(appointment)} {when}"
    if appointment.location:
        body += f" at {appointment.location}"
    if appointment.preparation_notes:
        body += f". Prepare: {appointment.preparation_notes}"
    return Notice("appointment", "Luna", body)


def _when_words(moment: dt.datetime, appointment: AppointmentView, now: dt.datetime) -> str:
    day = ("today" if moment.date() == now.date() else "tomorrow"
           if moment.date() == now.date() + dt.timedelta(days=1) else f"on {moment:%Y-%m-%d}")
    return f"{day} at {moment:%H:%M}" if appointment.appointment_time else day


def _moment_words(moment: dt.datetime, appointment: AppointmentView) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if appointment.appointment_time else f"{moment:%Y-%m-%d}"


def _appointment_moment(appointment: AppointmentView) -> dt.datetime:
    day = dt.date.fromisoformat(appointment.appointment_date)
    at = (dt.time.fromisoformat(appointment.appointment_time) if appointment.appointment_time
          else dt.time(0, 0))
    return dt.datetime.combine(day, at)


def _appointment_times(moment: dt.datetime, appointment: AppointmentView,
                       config: ReminderSettings) -> list[tuple[str, dt.datetime]]:
    """("day-before", when) and ("hours-before", when) for one appointment."""
    if not appointment.appointment_time:
        return [("day-before", dt.datetime.combine(moment.date() - dt.timedelta(days=1),
                                                   ALL_DAY_REMINDER))]
    times = [("day-before", moment - dt.timedelta(days=1))]
    if config.appointment_hours:
        times.append(("hours-before", moment - dt.timedelta(hours=config.appointment_hours)))
    return times


def _logged(medication_id: str, slot: str) -> bool:
    return MedicationDose.select().where(MedicationDose.medication == medication_id,
                                         MedicationDose.scheduled_at == slot).exists()


def _local(stamp: str) -> dt.datetime:
    """A stored UTC stamp as local naive time."""
    from luna_tui.clock import parse_utc_timestamp

    return parse_utc_timestamp(stamp).astimezone().replace(tzinfo=None).replace(
        second=0, microsecond=0)


# -- delivery -----------------------------------------------------------------------------------

Answer = Callable[[Notice, str], Awaitable[None]]


class Notifier(Protocol):
    async def send(self, notice: Notice, on_action: Answer | None) -> bool:
        """Show the notice; True if it was delivered. `on_action(notice, "taken")` is
        awaited when a button is pressed, if the notifier has buttons."""
        ...


class Reminding:
    """One holder's reminding: a tick asks the lock, then the scheduler, then sends.
    The app ticks from a timer; `remind_while` ticks in a loop (the agent's)."""

    def __init__(self, scheduler: ReminderScheduler, notifier: Notifier, lock: SchedulerLock,
                 *, call: Callable[..., Awaitable[Any]] | None = None,
                 told: Callable[[str], Any] | None = None) -> None:
        """`call` runs a scheduler method off the event loop (default: a thread; the app
        passes its own); `told` hears the sentence after a notification's button."""
        self.scheduler, self.notifier, self.lock = scheduler, notifier, lock
        self._call = call or asyncio.to_thread
        self._told = told

    async def tick(self) -> int:
        """How many notices were sent (0 while another scheduler reminds)."""
        if not self.lock.may_remind():
            return 0
        try:
            notices = await self._call(self.scheduler.due)
        except LunaError:
            return 0  # busy, or locked meanwhile: the next tick tries again
        for notice in notices:
            await self.notifier.send(notice, self.answered)
        return len(notices)

    async def answered(self, notice: Notice, action: str) -> None:
        try:
            sentence = await self._call(self.scheduler.answer, notice, action)
        except LunaError as error:
            sentence = str(error)
        if self._told is not None:
            self._told(sentence)

    def release(self) -> None:
        self.lock.release()


async def remind_while(reminding: Reminding, stop: asyncio.Event, *,
                       every: float = TICK_SECONDS) -> None:
    """The driver loop: a tick every `every` seconds until `stop` is set, then the
    one-scheduler lock is let go."""
    try:
        while not stop.is_set():
            await reminding.tick()
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
    finally:
        reminding.release()


def scheduler_lock(session: Any, role: str) -> SchedulerLock:
    """The one-scheduler lock of this session's vault, for the app or an agent."""
    return SchedulerLock(session.layout.home, role)
