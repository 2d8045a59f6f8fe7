"""`luna remind` (issue 16): the next 24 hours, reminders per medication, and the login
unit — written under XDG_CONFIG_HOME, never started."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


@pytest.fixture
def vault(session, layout, clock, monkeypatch):
    clock.set_local(clock.today(), "06:00")
    me = Settings(session).current_patient_id()
    Medications(session).create(me, "Metformin", "500 mg", "twice daily",
                                start_date=(clock.today() - dt.timedelta(days=2)).isoformat())
    clock.set_local(clock.today(), "09:00")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def test_list_shows_the_next_24_hours(capsys, vault, clock):
    listed = run_cli(capsys, "remind", "--list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    tomorrow = clock.today() + dt.timedelta(days=1)
    assert [line.split()[0:3] for line in lines] == [
        ["09:00", "dose", "08:00"], ["20:00", "dose", "20:00"],
        [tomorrow.isoformat(), "08:00", "dose"]]
    assert all("Metformin 500 mg" in line for line in lines)


def test_a_medication_s_reminders_go_off_and_on(capsys, vault, layout, clock):
    off = run_cli(capsys, "remind", "--off", "metformin")
    assert (off.code, off.out.strip()) == (0, "Reminders for Metformin are off.")
    assert run_cli(capsys, "remind", "--list").out.strip() == (
        "Nothing to remind of in the next 24 hours.")
    assert run_cli(capsys, "remind", "--on", "Metformin").code == 0
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        [medication] = Medications(session).list(Settings(session).current_patient_id())
        assert medication.reminders is True
    assert run_cli(capsys, "remind", "--off", "Nothing").code == 1


def test_reminders_off_altogether_says_so(capsys, vault):
    assert run_cli(capsys, "settings", "reminders.enabled", "off").code == 0
    assert "Reminders are off" in run_cli(capsys, "remind", "--list").out


def test_quiet_hours_are_checked(capsys, vault):
    bad = run_cli(capsys, "settings", "reminders.quiet_hours", "late")
    assert bad.code == 1 and "22:00-07:00" in bad.err
    good = run_cli(capsys, "settings", "reminders.quiet_hours", "22:00 - 7:00")
    assert good.out.strip() == 'reminders.quiet_hours = "22:00-07:00"'


def test_install_writes_a_user_unit_and_starts_nothing(capsys, tmp_path, monkeypatch, layout):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("LUNA_HOME", str(tmp_path / "my vault"))
    ran = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: ran.append(a))
    installed = run_cli(capsys, "remind", "--install")
    assert installed.code == 0 and ran == []
    unit = tmp_path / "config" / "systemd" / "user" / "luna-agent.service"
    text = unit.read_text()
    assert "-m luna_tui agent --wait" in text and "WantedBy=default.target" in text
    assert f'Environment="LUNA_HOME={tmp_path}/my vault"' in text
    assert "systemctl --user enable --now luna-agent.service" in installed.out
