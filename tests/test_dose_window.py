"""One rule for when a dose counts as taken (issue 15, friction 4), in the service, the
shell and the app: inside its window (dose.early_minutes before to dose.late_minutes
after its time) taken, after it late, before it asked first."""

from __future__ import annotations

import datetime as dt

import pytest

from app_helpers import make_app, settle, unlock
from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.errors import DoseTooEarly
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.medications import MedicationDose
from luna_tui.ui.screens.dialogs import ConfirmDialog

SIZE = (120, 40)


def doses(session) -> list[tuple[str, str | None, str]]:
    return session.run(lambda: [(d.scheduled_at[-5:], d.taken_at and d.taken_at[-5:], d.status)
                                for d in MedicationDose.select().order_by(
                                    MedicationDose.scheduled_at)])


@pytest.fixture
def metformin(session, clock):
    me = Settings(session).current_patient_id()
    return Medications(session).create(me, "Metformin", "500 mg", "twice daily",
                                       start_date=(clock.today() - dt.timedelta(days=3))
                                       .isoformat())


def test_inside_the_window_is_taken_after_it_late_before_it_asks(session, metformin, clock):
    meds = Medications(session)
    today = clock.today()
    clock.set_local(today, "01:18")
    with pytest.raises(DoseTooEarly, match="opens at 07:00"):
        meds.log_dose(metformin.id, "taken", slot=f"{today}T08:00")
    assert doses(session) == []
    clock.set_local(today, "07:05")  # inside: 55 minutes early is still on time
    assert meds.log_dose(metformin.id, "taken", slot=f"{today}T08:00").status == "taken"
    clock.set_local(today, "22:01")  # 20:00 + 120 minutes has passed
    assert meds.log_dose(metformin.id, "taken", slot=f"{today}T20:00").status == "late"
    assert doses(session) == [("08:00", "07:05", "taken"), ("20:00", "22:01", "late")]
    adherence = meds.adherence(metformin.id, today, today)
    assert (adherence.taken, adherence.late, adherence.percent) == (1, 1, 100.0)


def test_the_window_follows_its_settings_and_early_is_a_choice(session, metformin, clock):
    meds, today = Medications(session), clock.today()
    Settings(session).set("dose.early_minutes", "10")
    Settings(session).set("dose.late_minutes", "15")
    clock.set_local(today, "07:45")
    with pytest.raises(DoseTooEarly, match="opens at 07:50"):
        meds.log_dose(metformin.id, "taken", slot=f"{today}T08:00")
    early = meds.log_dose(metformin.id, "taken", slot=f"{today}T08:00", early=True)
    assert (early.status, early.taken_at[-5:]) == ("taken", "07:45")
    clock.set_local(today, "20:16")
    assert meds.log_dose(metformin.id, "taken", slot=f"{today}T20:00").status == "late"
    # Skipping ahead of time is no claim to have taken it: never asked.
    tomorrow = today + dt.timedelta(days=1)
    assert meds.log_dose(metformin.id, "skipped", slot=f"{tomorrow}T08:00").status == "skipped"


# -- the shell ------------------------------------------------------------------------------


@pytest.fixture
def shell(session, metformin, layout, monkeypatch):
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def test_the_shell_needs_early_before_the_window(capsys, shell, clock, monkeypatch):
    clock.set_local(clock.today(), "01:18")
    refused = run_cli(capsys, "dose", "Metformin", "taken")
    assert refused.code == 2
    assert "window opens at 07:00" in refused.err and "--early" in refused.err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    declined = run_cli(capsys, "dose", "Metformin", "taken")
    assert declined.code == 1 and "Nothing logged" in declined.out
    with VaultSession.open(shell, PASSPHRASE, clock=clock) as session:
        assert doses(session) == []
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert run_cli(capsys, "dose", "Metformin", "taken").code == 0
    with VaultSession.open(shell, PASSPHRASE, clock=clock) as session:
        assert doses(session) == [("08:00", "01:18", "taken")]


def test_the_shell_logs_taken_after_the_window_as_late(capsys, shell, clock):
    day = clock.today().isoformat()
    clock.set_local(clock.today(), "14:30")
    late = run_cli(capsys, "dose", "Metformin", "taken", "--at", f"{day}T10:30")
    assert late.code == 0 and late.out.strip() == "Logged Metformin 500 mg 08:00 as late."
    early = run_cli(capsys, "dose", "Metformin", "taken")  # nearest now: 20:00's
    assert early.code == 2
    forced = run_cli(capsys, "dose", "Metformin", "taken", "--early")
    assert forced.code == 0 and forced.out.strip() == "Logged Metformin 500 mg 20:00 as taken."


# -- the app ----------------------------------------------------------------------------------


async def test_t_t_before_the_window_asks_first(layout, session, metformin, clock):
    session.close()
    clock.set_local(clock.today(), "01:18")
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("t")  # nothing is due: the highlighted 08:00 dose
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert doses(app.session) == []
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        assert doses(reopened) == [("08:00", "01:18", "taken")]


async def test_t_t_inside_the_window_logs_without_asking(layout, session, metformin, clock):
    session.close()
    clock.set_local(clock.today(), "07:30")  # 08:00's window opened at 07:00
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("t", "t")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        assert doses(reopened) == [("08:00", "07:30", "taken")]
