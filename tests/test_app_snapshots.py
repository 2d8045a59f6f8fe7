"""Snapshots of the main screens at 100×36 with a fixed "today" (2026-11-22).

They catch layout regressions a unit test can't see. After an intended change, look at
the new pictures (`pytest --snapshot-update`, then the report) before committing them.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import shutil
from pathlib import Path

import pytest

from app_helpers import SIZE, make_app, settle, type_text, unlock
from conftest import PASSPHRASE, FakeClock, cheap_kdf, local_timezone
from luna_tui.home import VaultLayout

# The unlock screen shows the vault's folder: the same one every run, so pictures match.
SNAPSHOT_HOME = Path("/tmp/luna-snapshot-vault")
SNAPSHOT_LOCK = Path("/tmp/luna-snapshot-vault.lock")
# One folder for every test here: under pytest-xdist they run on one worker, one at a
# time, or one test's clean-up would remove the vault another is drawing.
pytestmark = pytest.mark.xdist_group("snapshot_vault")


@pytest.fixture
def fixed_world():
    """UTC, so the pictures hold the same times in any zone (TZ and the C library's idea
    of local time are both put back afterwards). Other test runs on the machine (other
    checkouts) use the folder too, so each test holds a lock on it."""
    with open(SNAPSHOT_LOCK, "a") as lock, local_timezone("UTC"):
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
        yield VaultLayout(SNAPSHOT_HOME)
        shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)


def fill(layout: VaultLayout, clock: FakeClock) -> None:
    from luna_tui.services.appointments import Appointments
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.medications import Medications
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_setup import create_vault
    from luna_tui.services.vitals import Vitals

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
                                start_date="2026-11-01", route="oral",
                                prescribing_doctor="Dr Rivera", pharmacy="Boots",
                                rx_number="RX-22841", refill_date="2026-12-01",
                                side_effects="Mild nausea in the first week.")
        for day in range(1, 22):
            status = "missed" if day % 6 == 0 else "taken"
            meds.log_dose(metformin.id, status, slot=f"2026-11-{day:02d}T08:00")
            meds.log_dose(metformin.id, "taken", slot=f"2026-11-{day:02d}T20:00")
        meds.update(metformin.id, dosage="1000 mg", effective="2026-11-15")
        meds.log_dose(metformin.id, "taken", slot="2026-11-22T08:00")
        meds.create(me, "Atorvastatin", "20 mg", "at bedtime", start_date="2026-10-01")
        appointments = Appointments(session)
        appointments.create(me, "2026-11-24", appointment_time="09:30", duration_minutes=30,
                            provider_name="Dr Rivera", location="City Clinic",
                            appointment_type="specialist", reason="Knee pain since October",
                            preparation_notes="Bring the MRI report.")
        appointments.create(me, "2026-12-04", appointment_time="14:00", provider_name="Physio")
        appointments.create(me, "2026-11-02", appointment_time="11:00",
                            provider_name="Dr Rivera", status="completed",
                            outcome_summary="Raise metformin to 1000 mg.")
        Vitals(session).record(me, "bp", 128, 84, measured_at="2026-11-20T08:00")
        Vitals(session).record(me, "weight", 80.4, measured_at="2026-11-22T07:30")


def test_unlock_screen(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)
    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE)


def test_dashboard(snap_compare, fixed_world, monkeypatch):
    monkeypatch.setattr("luna_tui.ui.screens.dashboard.HABITS_AFTER", 0)  # the streak line
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


def test_medications_screen(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down")  # Metformin: a dose change, adherence and supply
        await settle(pilot)

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)


def test_appointments_screen(snap_compare, fixed_world):
    clock = FakeClock()
    fill(fixed_world, clock)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)


def fill_vitals(layout: VaultLayout, clock: FakeClock) -> None:
    """Four months of weights, three of moods and sleep, and a dose change mid-way."""
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.medications import Medications
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_setup import create_vault
    from luna_tui.services.vitals import Vitals

    today = dt.date(2026, 11, 22)
    change = dt.date(2026, 10, 20)
    with create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session as session:
        me = Settings(session).current_patient_id()
        vitals = Vitals(session)
        for days in range(120, -1, -5):
            weight = 78 + days / 30 + (0.4 if days % 10 else -0.3)
            day = today - dt.timedelta(days=days)
            vitals.record(me, "weight", round(weight, 1), measured_at=f"{day}T07:30",
                          notes="after breakfast" if days % 20 == 0 else None)
        vitals.record(me, "bp", 128, 84, measured_at="2026-11-20T08:00")
        vitals.record(me, "heart_rate", 64, measured_at="2026-11-21T08:00")
        journal = Journal(session)
        for days in range(90):
            day = today - dt.timedelta(days=days)
            better = 2 if day >= change else 0
            journal.create(me, EntryDraft(content=f"Evening note {days}.",
                                          entry_date=day.isoformat(),
                                          mood_scale=4 + better + (days % 3 == 0),
                                          sleep_hours=6 + (days % 4) / 2 if days % 2 else None))
        meds = Medications(session)
        sertraline = meds.create(me, "Sertraline", "50 mg", "once daily",
                                 start_date="2026-08-15")
        meds.update(sertraline.id, dosage="100 mg", effective=change.isoformat())


def test_vitals_screen(snap_compare, fixed_world):
    clock = FakeClock()
    fill_vitals(fixed_world, clock)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("r")  # 90 days: the dose change with weeks either side
        await settle(pilot)

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)


def fill_records(layout: VaultLayout, clock: FakeClock, sources: Path) -> None:
    from luna_tui.bench.sample_pdf import text_pdf
    from luna_tui.services.attachments import Attachments
    from luna_tui.services.records import Records
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_setup import create_vault

    (sources / "ferritin.pdf").write_bytes(text_pdf("Ferritin 12 ug/L (low)"))
    (sources / "letter.txt").write_text("Start iron tablets; recheck in three months.\n")
    with create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session as session:
        me = Settings(session).current_patient_id()
        records = Records(session)
        blood = records.create(me, title="Full blood count and ferritin", record_type="lab",
                               event_date="2026-11-20", tags="iron, bloods",
                               description="Routine bloods before the knee clinic.",
                               text="Dr Rivera rang: ferritin low, start iron.")
        for name in ("ferritin.pdf", "letter.txt"):
            Attachments(session).add(blood.id, sources / name)
        records.create(me, title="Knee MRI report", record_type="imaging",
                       event_date="2026-10-14", tags="knee")
        records.create(me, title="Flu vaccine", record_type="vaccination",
                       event_date="2026-10-01")


def test_records_screen(snap_compare, fixed_world, tmp_path):
    clock = FakeClock()
    fill_records(fixed_world, clock, tmp_path)

    async def run_before(pilot) -> None:
        await unlock(pilot)
        await pilot.press("6")
        await settle(pilot)

    assert snap_compare(make_app(fixed_world, clock), terminal_size=SIZE, run_before=run_before)
