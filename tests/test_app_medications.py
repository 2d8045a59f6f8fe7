"""Medications in the app: add one (its dose times follow the frequency), log today's
doses in two keys and see adherence change, change the dose (an event, not an
overwrite), stop and delete — and bad input said under its field.

It is 09:30 in the morning of `clock.today()`, local time, in every test: today's 08:00
dose is due and the 20:00 one is not. The test marked `dates` runs at each "today" of the
date matrix (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app_helpers import (
    SIZE,
    make_app,
    notifications,
    screen_text,
    settle,
    table_rows,
    type_text,
    unlock,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


@pytest.fixture(autouse=True)
def morning(clock):
    """Dose slots are local times: 09:30 local, whatever the time zone."""
    clock.set_local(clock.today(), "09:30")


@pytest.fixture
def metformin(session, clock):
    """Started three weeks ago (21 days before today), twice daily, never logged."""
    me = Settings(session).current_patient_id()
    started = clock.today() - dt.timedelta(days=21)
    medication = Medications(session).create(me, "Metformin", "500 mg", "twice daily",
                                             start_date=started.isoformat(),
                                             prescribing_doctor="Dr Rivera")
    session.close()
    return medication


async def open_medications(pilot) -> None:
    await unlock(pilot)
    await pilot.press("3")
    await settle(pilot)


async def test_add_a_medication_whose_times_follow_the_frequency(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        assert "No medications yet. Press n to add one." in screen_text(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Metformin")
        await pilot.press("tab")
        await type_text(pilot, "500 mg")
        await pilot.press("tab")
        await type_text(pilot, "twice daily")
        await pilot.pause()
        assert app.screen.query_one("#schedule").value == "08:00 20:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = table_rows(pilot, "#medications")
        assert [r[:3] for r in rows] == [["Metformin", "500 mg", "twice daily"]]
        assert "08:00  Metformin 500 mg" in screen_text(pilot)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        me = Settings(reopened).current_patient_id()
        [saved] = Medications(reopened).list(me)
        assert saved.schedule == ("08:00", "20:00")


async def test_a_dose_without_a_unit_is_refused_under_its_field(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Metformin")
        await pilot.press("tab")
        await type_text(pilot, "lots")
        await pilot.press("tab")
        await type_text(pilot, "daily")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'lots' needs an amount and a unit" in screen_text(pilot)
        assert app.screen.focused.id == "dosage"
        await pilot.press("escape")
        await settle(pilot)
        assert "Leave without saving?" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert table_rows(pilot, "#medications") == []


@pytest.mark.dates
async def test_t_then_t_logs_the_due_doses_taken_and_adherence_shows_it(layout, metformin,
                                                                        clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        before = screen_text(pilot)
        assert "○ 08:00  Metformin 500 mg" in before
        # 13 doses were due in the last 7 days (today's 08:00 among them), none logged.
        assert re.search(r"taken +0% +0% +0%", before)
        assert re.search(r"not logged +13 +43 +43", before)
        await pilot.press("t")
        await settle(pilot)
        sheet = screen_text(pilot)
        assert "Today's doses" in sheet and "20:00  Metformin 500 mg" in sheet
        await pilot.press("t")
        await settle(pilot)
        after = screen_text(pilot)
        assert "✔ 08:00  Metformin 500 mg  taken 09:30" in after
        assert "○ 20:00  Metformin 500 mg" in after
        assert re.search(r"taken +8% +2% +2%", after)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        slots = Medications(reopened).day_slots(metformin.patient_id, clock.today())
        assert [(s.scheduled_at[-5:], s.dose.status if s.dose else None) for s in slots] == [
            ("08:00", "taken"), ("20:00", None)]


async def test_several_doses_at_once_can_be_marked_missed(layout, metformin, clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("a", "m")
        await settle(pilot)
        assert "Logged 2 doses as missed." in notifications(pilot)
        assert screen_text(pilot).count("Metformin 500 mg  missed") == 2
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        slots = Medications(reopened).day_slots(metformin.patient_id, clock.today())
        assert [s.dose.status for s in slots] == ["missed", "missed"]


async def test_a_new_dosage_is_recorded_as_a_dose_change(layout, metformin, clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab")
        dosage = app.screen.query_one("#dosage")
        dosage.value = ""
        await type_text(pilot, "1000 mg")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "dose changed 500 mg → 1000 mg" in screen_text(pilot)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        events = Medications(reopened).events(metformin.patient_id)
        assert [(e.event_type, e.old_value, e.new_value) for e in events] == [
            ("started", None, "500 mg"), ("dose_changed", "500 mg", "1000 mg")]


async def test_stop_moves_it_to_the_stopped_list_and_keeps_its_history(layout, metformin,
                                                                       clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "Stop Metformin 500 mg?" in screen_text(pilot)
        await pilot.press("tab")
        await type_text(pilot, "nausea")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert table_rows(pilot, "#medications") == []
        await pilot.press("h")
        await settle(pilot)
        assert table_rows(pilot, "#medications")[0][0] == "Metformin (stopped)"
        assert "stopped 500 mg — nausea" in screen_text(pilot)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        stopped = Medications(reopened).get(metformin.id)
        assert not stopped.active and stopped.end_date == clock.today().isoformat()


async def test_delete_says_what_goes_with_it(layout, metformin, clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_medications(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert "also deletes its 0 logged doses and its history" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert table_rows(pilot, "#medications") == []
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        assert Medications(reopened).list(metformin.patient_id, include_stopped=True) == []


async def test_a_read_only_key_can_look_but_not_log(layout, session, clock):
    me = Settings(session).current_patient_id()
    Medications(session).create(me, "Metformin", "500 mg", "twice daily")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, OTHER_PASSPHRASE)
        await pilot.press("3")
        await settle(pilot)
        assert table_rows(pilot, "#medications")[0][0] == "Metformin"
        await pilot.press("t", "n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MedicationsScreen"
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        slots = Medications(reopened).day_slots(me, clock.today())
        assert all(s.dose is None for s in slots)
