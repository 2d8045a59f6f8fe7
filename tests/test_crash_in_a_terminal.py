"""End to end, in a real terminal: `luna` (the venv's console script) runs the app in a
pty, is unlocked by typing, and crashes in the companion screen (key 7) while the AI
session's title — the canary — is in the failing method's local variables and in the
exception's message. Textual's own handler printed both (and exited 0). Every byte the
process writes to the terminal is kept: the canary must be in none of them, nor in any
file under LUNA_HOME and the config folder, and `luna` must exit with 70."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import stat
import struct
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.settings import Settings

CANARY = "CANARY-terminal-title-c81d"
ROWS, COLUMNS = 40, 120
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[a-zA-Z~]|\x1b\][^\x07]*\x07")

# Starts Luna exactly as the `luna` command does (its console-script entry point), after
# making the companion's list of sessions fail once it holds them. Nothing in it names
# the canary: it only meets it in the vault.
LAUNCHER = """
    from importlib.metadata import entry_points

    from luna_tui.ui.screens.companion import CompanionScreen

    def failing_fill(self, found):
        raise ValueError(f"'{found[0].title}' is not a title")

    CompanionScreen._fill = failing_fill
    [luna] = entry_points(group="console_scripts", name="luna")
    luna.load()()
"""


class Terminal:
    """A pty the app runs in; keeps every byte it writes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                        env=env, start_new_session=True)
        os.close(slave)
        self.written = bytearray()

    def _read(self, seconds: float) -> bool:
        """Read what arrives within `seconds`; False once the terminal is closed."""
        ready, _, _ = select.select([self.master], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the process and its terminal are gone
            return False
        self.written.extend(chunk)
        return bool(chunk)

    def wait_for(self, text: bytes, seconds: float = 60) -> None:
        """Until `text` has been written and the screen is still for a moment."""
        deadline = time.monotonic() + seconds
        while text not in self.written:
            if time.monotonic() > deadline or not self._read(0.1):
                raise AssertionError(f"{text!r} never showed; the process said:\n"
                                     f"{visible(self.written)[-2000:]}")
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 0.3 and time.monotonic() < deadline:
            before = len(self.written)
            self._read(0.05)
            if len(self.written) != before:
                quiet_since = time.monotonic()

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self, seconds: float = 60) -> int:
        """Read until the process has ended and its terminal is drained; its status."""
        deadline = time.monotonic() + seconds
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.2) and select.select([self.master], [], [], 0)[0]:
            pass
        os.close(self.master)
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError("the app did not end after the crash")
        return self.process.returncode


def visible(written: bytes) -> str:
    return ESCAPES.sub(b"", bytes(written)).decode("utf-8", "replace")


def files_holding(folder: Path, secret: str) -> list[Path]:
    needles = (secret.encode(), secret.encode("utf-16-le"))
    return [path for path in folder.rglob("*") if path.is_file()
            and any(needle in path.read_bytes() for needle in needles)]


@pytest.fixture
def titled(session):
    me = Settings(session).current_patient_id()
    ChatSessions(session).create(me, title=CANARY)
    session.close()


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_in_the_companion_leaves_the_title_nowhere_and_exits_70(
        tmp_path, luna_home, titled, debug):
    config = luna_home.parent / "luna-config"  # tests/conftest.py's LUNA_CONFIG_DIR
    launcher = tmp_path / "launcher" / "luna_crashing.py"
    launcher.parent.mkdir()
    launcher.write_text(textwrap.dedent(LAUNCHER))
    env = {**os.environ, "TERM": "xterm-256color", "LUNA_HOME": str(luna_home),
           "LUNA_CONFIG_DIR": str(config)}
    env.pop("LUNA_DEBUG", None)
    if debug:
        env["LUNA_DEBUG"] = "1"

    terminal = Terminal([sys.executable, str(launcher)], env)
    try:
        terminal.wait_for(b"Unlock your vault")
        terminal.type(PASSPHRASE + "\r")
        terminal.wait_for(b"Latest entries")  # the dashboard
        terminal.type("7")
        status = terminal.finish()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()

    written = bytes(terminal.written)
    assert CANARY.encode() not in written
    assert status == 70
    # After the app gave the terminal back, only the sentence: no traceback, no screen.
    after = visible(written.rsplit(LEAVE_ALTERNATE_SCREEN, 1)[1]).strip()
    assert after.startswith("luna: something went wrong inside Luna (ValueError), so it "
                            "locked the vault and closed; ")
    assert len(after.splitlines()) == 1 and "Traceback" not in visible(written)
    assert files_holding(luna_home, CANARY) == []
    assert files_holding(config, CANARY) == []
    made = sorted(config.glob("crash-*.txt")) if config.is_dir() else []
    assert len(made) == int(debug)
    if debug:
        assert str(made[0]) in after
        assert stat.S_IMODE(made[0].stat().st_mode) == 0o600
        assert "in failing_fill" in made[0].read_text()
    else:
        assert "LUNA_DEBUG=1" in after
