"""The app reminds while unlocked (issue 16): its own notification when the desktop's
can't be had, never while an agent's scheduler holds the vault, never once locked."""

from __future__ import annotations

import datetime as dt

import pytest

from app_helpers import make_app, notifications, settle, unlock
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.store.scheduler_lock import SchedulerLock

SIZE = (100, 36)


@pytest.fixture
def due_dose(session, clock):
    """Metformin added at 06:00; the app opens at 08:05, its 08:00 dose unlogged."""
    clock.set_local(clock.today(), "06:00")
    me = Settings(session).current_patient_id()
    Medications(session).create(me, "Metformin", "500 mg", "twice daily",
                                start_date=(clock.today() - dt.timedelta(days=1)).isoformat())
    session.close()
    clock.set_local(clock.today(), "08:05")


async def tick(pilot) -> None:
    pilot.app.reminders.tick()
    await settle(pilot)


async def test_a_due_dose_shows_as_the_app_s_notification(layout, due_dose, clock):
    app = make_app(layout, clock, reminders=True)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await tick(pilot)
        assert notifications(pilot).count("Luna: 1 dose due") == 1
        await tick(pilot)  # the repeat waits reminders.repeat_minutes
        assert notifications(pilot).count("Luna: 1 dose due") == 1
        clock.advance(minutes=10)
        await tick(pilot)
        assert notifications(pilot).count("Luna: 1 dose due") == 2
        assert not any("Metformin" in text for text in notifications(pilot))


async def test_the_app_is_silent_while_an_agent_reminds(layout, due_dose, clock):
    agent = SchedulerLock(layout.home, "agent")
    assert agent.may_remind()
    app = make_app(layout, clock, reminders=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await unlock(pilot)
            await tick(pilot)
            assert "Luna: 1 dose due" not in notifications(pilot)
            agent.release()  # the agent ends: the app's next tick reminds
            await tick(pilot)
            assert "Luna: 1 dose due" in notifications(pilot)
    finally:
        agent.release()


async def test_locking_stops_reminding_and_lets_an_agent_take_over(layout, due_dose, clock):
    app = make_app(layout, clock, reminders=True)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await tick(pilot)
        agent = SchedulerLock(layout.home, "agent")
        assert not agent.may_remind()  # the app holds the one-scheduler lock
        await app.lock("Locked.")
        await settle(pilot)
        assert app.reminders.reminding is None
        assert agent.may_remind()
        agent.release()


async def test_the_medication_form_turns_its_reminders_off(layout, due_dose, clock):
    from textual.widgets import Checkbox

    from conftest import PASSPHRASE
    from luna_tui.services.vault_session import VaultSession

    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        reminders = app.screen.query_one("#reminders", Checkbox)
        assert reminders.value is True
        reminders.focus()
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        [medication] = Medications(reopened).list(Settings(reopened).current_patient_id())
        assert medication.reminders is False
