"""Reminders on the desktop (issue 16): over a real D-Bus session to a mock notification
daemon, with a working "Taken" button; and the fall-back to a terminal where there is
no bus."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from luna_tui.services.notifiers import DesktopNotifier, FallbackNotifier, TerminalNotifier
from luna_tui.services.reminders import DueDose, Notice

PROBE = Path(__file__).with_name("dbus_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # where Debian's python3-dbusmock (and dbus-python) live
NOTICE = Notice("doses", "Luna", "1 dose due", (DueDose("m", "Metformin", "500 mg",
                                                        "2026-11-22T08:00"),))


def _dbusmock_missing() -> str | None:
    if not shutil.which("dbus-run-session"):
        return "dbus-run-session is not installed (Debian: dbus)"
    if not os.path.exists(SYSTEM_PYTHON) or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import dbusmock"], capture_output=True).returncode:
        return "python-dbusmock is not installed for the system's Python (python3-dbusmock)"
    return None


async def test_without_a_session_bus_the_terminal_gets_it(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert await DesktopNotifier().send(NOTICE, None) is False
    terminal = io.StringIO()
    assert await FallbackNotifier(DesktopNotifier(), TerminalNotifier(terminal)).send(
        NOTICE, None)
    assert terminal.getvalue() == "\aLuna: 1 dose due\n"


async def test_a_bus_that_is_not_there_falls_back_quietly(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    terminal = io.StringIO()
    assert await FallbackNotifier(DesktopNotifier(), TerminalNotifier(terminal)).send(
        NOTICE, None)
    assert terminal.getvalue() == "\aLuna: 1 dose due\n"
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""  # no traceback on the app's screen


@pytest.mark.skipif(_dbusmock_missing() is not None, reason=str(_dbusmock_missing()))
def test_a_dose_reminder_over_d_bus_and_its_taken_button(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if name not in ("DBUS_SESSION_BUS_ADDRESS", "LUNA_PASSPHRASE")}
    env["LUNA_HOME"] = str(tmp_path / "home")
    result = subprocess.run(["dbus-run-session", "--", sys.executable, str(PROBE),
                             str(tmp_path), SYSTEM_PYTHON],
                            capture_output=True, text=True, timeout=120, env=env,
                            cwd=PROBE.parent)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["sent"] == 1
    # What the daemon got: no health detail, and the two buttons.
    assert (seen["app_name"], seen["summary"], seen["body"]) == ("Luna", "Luna", "1 dose due")
    assert {"Taken", "Snooze"} <= set(seen["buttons"])
    # The daemon pressed Taken: the dose is logged.
    assert seen["told"] == ["Logged 1 dose as taken."]
    assert seen["doses"] == [["08:00", "taken"]]
