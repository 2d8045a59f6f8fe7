"""Snapshots of the main screens at 100×36 with a fixed "today" (2026-11-22).

They catch layout regressions a unit test can't see. After an intended change, look at
the new pictures (`pytest --snapshot-update`, then the report) before committing them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import pytest

from app_helpers import SIZE, make_app, settle, type_text, unlock
from conftest import PASSPHRASE, FakeClock, cheap_kdf
from luna_tui.home import VaultLayout

# The unlock screen shows the vault's folder: the same one every run, so pictures match.
SNAPSHOT_HOME = Path("/tmp/luna-snapshot-vault")


@pytest.fixture
def fixed_world(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    yield VaultLayout(SNAPSHOT_HOME)
    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.delenv("TZ")
    time.tzset()


def fill(layout: VaultLayout, clock: FakeClock) -> None:
    from luna_tui.services.appointments import Appointments
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.medications import Medications
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_setup import create_vault

    with create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session as session:
        me = Settings(session).current_patient_id()
        journal = Journal(session)
        for day in range(30):
            date = dt.date(2026, 11, 22) - dt.timedelta(days=29 - day)
            journal.create(me, EntryDraft(
                content=f"Day {day}: a short note.", entry_date=date.isoformat(),
                entry_time="21:00", mood_scale=1 + (day * 3) % 10, mood="steady",
                tags=["daily"] if day % 3 else ["daily", "walk"], favorite=day % 10 == 0))
        journal.create(me, EntryDraft(content="Slept badly, knee sore", title="Bad night",
                                      mood="tired", mood_scale=4, tags=["sleep", "knee"],
                                      entry_date="2026-11-22", entry_time="08:10",
                                      favorite=True))
        meds = Medications(session)
        metformin = meds.create(me, "Metformin", "500 mg", "twice daily",
                                start_date="2026-11-01")
        meds.log_dose(metformin.id, "taken", slot="2026-11-22T08:00")
        appointments = Appointments(session)
        appointments.create(me, "2026-11-24", appointment_time="09:30",
                            provider_name="Dr Rivera")
        appointments.create(me, "2026-12-04", appointment_time="14:00", provider_name="Physio")


def test_unlock_screen(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)
    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE)


def test_dashboard(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await settle(pilot)

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)


def test_journal_list(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)


def test_entry_editor(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "A calm morning. The knee is better.")
        await pilot.pause()

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)
