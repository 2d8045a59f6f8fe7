"""Reminders with the fake clock (issue 16): a dose repeats until it is logged, is
marked missed when its window closes, can be snoozed; quiet hours hold reminders;
refills and appointments; the text says nothing of health by default; one scheduler
at a time."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from luna_tui.services.appointments import Appointments
from luna_tui.services.medications import Medications
from luna_tui.services.reminders import ReminderScheduler, Reminding, remind_while
from luna_tui.services.settings import Settings
from luna_tui.store.models.medications import MedicationDose
from luna_tui.store.scheduler_lock import SchedulerLock


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


@pytest.fixture
def metformin(session, me, clock):
    """Twice daily (08:00, 20:00) since three days ago."""
    clock.set_local(clock.today(), "06:00")
    return Medications(session).create(me, "Metformin", "500 mg", "twice daily",
                                       start_date=(clock.today() - dt.timedelta(days=3))
                                       .isoformat())


@pytest.fixture(autouse=True)
def first_day(clock):
    clock.first_day = clock.today()


def at(clock, time: str, day: int = 0) -> None:
    """`time` on the test's first day, or `day` days after it."""
    clock.set_local(clock.first_day + dt.timedelta(days=day), time)


def texts(notices) -> list[str]:
    return [n.text for n in notices]


def statuses(session) -> list[tuple[str, str]]:
    return session.run(lambda: [(d.scheduled_at[-5:], d.status) for d in
                                MedicationDose.select().order_by(MedicationDose.scheduled_at)])


@pytest.mark.dates
def test_a_dose_is_reminded_at_its_time_then_again_until_taken(session, metformin, clock):
    scheduler = ReminderScheduler(session)
    at(clock, "07:59")
    assert scheduler.due() == []
    at(clock, "08:00")
    first = scheduler.due()
    assert texts(first) == ["Luna: 1 dose due"] and first[0].actions == ("taken", "snooze")
    at(clock, "08:05")
    assert scheduler.due() == []  # not before reminders.repeat_minutes (10)
    at(clock, "08:10")
    again = scheduler.due()
    assert texts(again) == ["Luna: 1 dose due"]
    assert scheduler.answer(again[0], "taken") == "Logged 1 dose as taken."
    assert statuses(session) == [("08:00", "taken")]
    at(clock, "08:20")
    assert scheduler.due() == []


def test_a_dose_logged_otherwise_stops_its_reminders(session, metformin, clock):
    scheduler = ReminderScheduler(session)
    at(clock, "08:00")
    notice = scheduler.due()[0]
    at(clock, "08:03")
    Medications(session).log_dose(metformin.id, "skipped", slot=notice.doses[0].scheduled_at)
    at(clock, "08:30")
    assert scheduler.due() == []
    assert scheduler.answer(notice, "taken") == "Logged 0 doses as taken."  # left skipped
    assert statuses(session) == [("08:00", "skipped")]


@pytest.mark.dates
def test_an_unlogged_dose_is_marked_missed_when_its_window_closes(session, metformin, clock):
    scheduler = ReminderScheduler(session)
    Settings(session).set("dose.late_minutes", "30")
    at(clock, "08:00")
    assert texts(scheduler.due()) == ["Luna: 1 dose due"]
    at(clock, "08:29")
    assert texts(scheduler.due()) == ["Luna: 1 dose due"]
    assert statuses(session) == []
    at(clock, "08:30")
    assert scheduler.due() == []
    assert statuses(session) == [("08:00", "missed")]
    adherence = Medications(session).adherence(metformin.id, clock.today(), clock.today())
    assert (adherence.missed, adherence.percent) == (1, 0.0)


def test_a_slot_before_the_medication_was_added_is_not_marked_missed(session, me, clock):
    at(clock, "12:00")  # 08:00's window (to 10:00) closed before it was added
    Medications(session).create(me, "Aspirin", "75 mg", "once daily")
    assert ReminderScheduler(session).due() == []
    assert statuses(session) == []


def test_snooze_puts_a_dose_off(session, metformin, clock):
    scheduler = ReminderScheduler(session)
    at(clock, "08:00")
    notice = scheduler.due()[0]
    assert scheduler.answer(notice, "snooze") == "Reminding again at 08:15."
    at(clock, "08:10")
    assert scheduler.due() == []  # the repeat would have come now
    at(clock, "08:15")
    assert texts(scheduler.due()) == ["Luna: 1 dose due"]


def test_doses_due_together_make_one_notice(session, me, metformin, clock):
    Medications(session).create(me, "Lisinopril", "10 mg", "once daily")
    scheduler = ReminderScheduler(session)
    at(clock, "08:00")
    notices = scheduler.due()
    assert texts(notices) == ["Luna: 2 doses due"]
    assert scheduler.answer(notices[0], "taken") == "Logged 2 doses as taken."


@pytest.mark.dates
def test_quiet_hours_hold_reminders_until_they_end(session, me, clock):
    at(clock, "05:00")
    Medications(session).create(me, "Levothyroxine", "50 mcg", "once daily",
                                schedule="06:00")
    Settings(session).set("reminders.quiet_hours", "22:00-07:00")
    scheduler = ReminderScheduler(session)
    at(clock, "06:00")
    assert scheduler.due() == []
    at(clock, "06:59")
    assert scheduler.due() == []
    at(clock, "07:00")
    assert texts(scheduler.due()) == ["Luna: 1 dose due"]
    planned = scheduler.upcoming(24)
    assert [(p.at.strftime("%H:%M"), p.kind) for p in planned][:1] == [("07:10", "dose")]


def test_a_medication_with_reminders_off_is_left_alone(session, metformin, clock):
    Medications(session).update(metformin.id, reminders="off")
    scheduler = ReminderScheduler(session)
    at(clock, "08:00")
    assert scheduler.due() == []
    at(clock, "23:00")
    assert scheduler.due() == [] and statuses(session) == []  # nor marked missed


def test_reminders_can_be_turned_off_altogether(session, metformin, clock):
    Settings(session).set("reminders.enabled", "off")
    at(clock, "08:00")
    assert ReminderScheduler(session).due() == []


def test_a_refill_is_reminded_once_a_day_below_the_threshold(session, me, clock):
    at(clock, "10:00")
    meds = Medications(session)
    med = meds.create(me, "Sertraline", "50 mg", "once daily", schedule="21:00",
                      supply_count=7)  # 7 days left: not below 7
    scheduler = ReminderScheduler(session)
    assert scheduler.due() == []
    at(clock, "21:00")
    meds.log_dose(med.id, "taken", slot=f"{clock.today()}T21:00")  # 6 days left
    assert texts(scheduler.due()) == ["Luna: a refill is due"]
    at(clock, "22:00")
    assert scheduler.due() == []
    at(clock, "09:00", day=1)
    notices = scheduler.due()
    assert texts(notices) == ["Luna: a refill is due"]
    Settings(session).set("reminders.show_details", "on")
    at(clock, "09:00", day=2)
    assert texts(scheduler.due()) == ["Luna: refill Sertraline: about 6 days of supply left"]


@pytest.mark.dates
def test_appointments_the_day_before_and_hours_before(session, me, clock):
    at(clock, "08:00")
    tomorrow = clock.today() + dt.timedelta(days=1)
    Appointments(session).create(me, appointment_date=tomorrow.isoformat(),
                                 appointment_time="14:30", provider_name="Dr Rivera",
                                 location="Clinic 3", preparation_notes="bring the MRI")
    Settings(session).set("reminders.appointment_hours", "3")
    scheduler = ReminderScheduler(session)
    at(clock, "14:29")
    assert scheduler.due() == []
    at(clock, "14:30")
    assert texts(scheduler.due()) == ["Luna: an appointment tomorrow at 14:30"]
    at(clock, "14:31")
    assert scheduler.due() == []
    at(clock, "11:29", day=1)
    assert scheduler.due() == []
    at(clock, "11:30", day=1)
    assert texts(scheduler.due()) == ["Luna: an appointment today at 14:30"]
    at(clock, "12:00", day=1)
    assert scheduler.due() == []


def test_an_appointment_names_and_preparation_only_with_details(session, me, clock):
    at(clock, "15:00")
    tomorrow = clock.today() + dt.timedelta(days=1)
    Appointments(session).create(me, appointment_date=tomorrow.isoformat(),
                                 appointment_time="14:30", provider_name="Dr Rivera",
                                 appointment_type="specialist", location="Clinic 3",
                                 preparation_notes="bring the MRI", reason="knee pain")
    private = ReminderScheduler(session).due()
    assert texts(private) == ["Luna: an appointment tomorrow at 14:30"]
    for word in ("Rivera", "Clinic", "MRI", "knee", "Specialist"):
        assert word not in private[0].text
    Settings(session).set("reminders.show_details", "on")
    shown = ReminderScheduler(session).due()
    assert texts(shown) == ["Luna: Specialist: Dr Rivera tomorrow at 14:30 at Clinic 3. "
                            "Prepare: bring the MRI"]


def test_a_dose_notice_names_nothing_unless_allowed(session, metformin, clock):
    at(clock, "08:00")
    private = ReminderScheduler(session).due()[0]
    assert "Metformin" not in private.text and "500" not in private.text
    Settings(session).set("reminders.show_details", "on")
    assert texts(ReminderScheduler(session).due()) == [
        "Luna: Metformin 500 mg (08:00) due"]


@pytest.mark.dates
def test_the_next_24_hours_are_listed(session, me, metformin, clock):
    at(clock, "09:00")
    tomorrow = clock.today() + dt.timedelta(days=1)
    Appointments(session).create(me, appointment_date=tomorrow.isoformat(),
                                 appointment_time="16:00", provider_name="Dr Rivera")
    planned = ReminderScheduler(session).upcoming(24)
    today = clock.today().isoformat()
    assert [(p.at.strftime("%Y-%m-%dT%H:%M"), p.kind, p.what) for p in planned] == [
        (f"{today}T09:00", "dose", "08:00 dose of Metformin 500 mg"),  # due now, unlogged
        (f"{today}T16:00", "appointment", f"Routine: Dr Rivera on {tomorrow} 16:00"),
        (f"{today}T20:00", "dose", "20:00 dose of Metformin 500 mg"),
        (f"{tomorrow}T08:00", "dose", "08:00 dose of Metformin 500 mg"),
    ]


def test_a_read_only_session_reminds_but_marks_nothing(session, metformin, clock, layout):
    from conftest import OTHER_PASSPHRASE
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.services.vault_session import VaultSession

    KeyAdmin(session).add_key("viewer", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    at(clock, "08:00")
    with VaultSession.open(layout, OTHER_PASSPHRASE, clock=clock) as viewer:
        scheduler = ReminderScheduler(viewer)
        notice = scheduler.due()[0]
        at(clock, "23:00")
        assert scheduler.due() == [] and statuses(viewer) == []
        from luna_tui.errors import ReadOnlyKey

        with pytest.raises(ReadOnlyKey):
            scheduler.answer(notice, "taken")


# -- one scheduler at a time ------------------------------------------------------------------


def test_the_app_reminds_unless_an_agent_claims_the_vault(session, layout):
    app = SchedulerLock(layout.home, "app")
    assert app.may_remind()
    agent = SchedulerLock(layout.home, "agent")
    assert not agent.may_remind()  # the app holds it until its next tick
    assert not app.may_remind()  # sees the agent's claim and lets go
    assert agent.may_remind()
    second_app = SchedulerLock(layout.home, "app")
    assert not second_app.may_remind()
    second_agent = SchedulerLock(layout.home, "agent")
    assert not second_agent.may_remind()
    agent.release()  # the agent ends: the app takes over at its next tick
    assert app.may_remind()
    assert not second_app.may_remind()  # never two apps either
    app.release()
    second_agent.release()


class Collected:
    def __init__(self) -> None:
        self.notices = []

    async def send(self, notice, on_action) -> bool:
        self.notices.append(notice)
        return True


async def test_only_the_holder_of_the_lock_sends(session, metformin, clock, layout):
    at(clock, "08:00")
    agent_lock = SchedulerLock(layout.home, "agent")
    assert agent_lock.may_remind()
    app, stop = Collected(), asyncio.Event()

    async def inline(fn, *args):
        return fn(*args)

    reminding = Reminding(ReminderScheduler(session), app, SchedulerLock(layout.home, "app"),
                          call=inline)
    task = asyncio.create_task(remind_while(reminding, stop, every=0.01))
    await asyncio.sleep(0.05)
    assert app.notices == []  # the agent reminds: the app stays silent
    agent_lock.release()
    for _ in range(100):
        if app.notices:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert texts(app.notices) == ["Luna: 1 dose due"]
