"""Timing the app as a person meets it.

Start-up is measured from outside: a real `luna` in a pseudo-terminal, watched until the
unlock screen's words appear, then fed the passphrase and watched until the dashboard's
do. Then each place is timed from its number key to its words painted: the journal's
first page and each next page (End), then medications, appointments, vitals and
records, each opened for the first time (so it is built, queried and painted).

The companion is timed in a run of its own (run_companion): a session of 400 messages,
then one of 4,000, each chosen in the sessions list, from ↓ to its last message painted,
and how much the app's memory (RSS) grew for it.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from luna_tui.bench.synthetic import COMPANION_SESSIONS, companion_mark

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07|\x1b.")
UNLOCK_MARK = "Unlock your vault"
DASHBOARD_MARK = "Today's doses"
JOURNAL_MARK = "50 entries shown"
END_KEY = b"\x1b[F"
# Words each place shows once its data is painted.
PLACE_MARKS = (("medications", b"3", "active ·"), ("appointments", b"4", "upcoming ·"),
               ("vitals", b"5", "newest first"), ("records", b"6", "t shows another type"))


@dataclass(frozen=True)
class AppTimes:
    spawn_to_unlock: float  # `luna` started → the unlock screen painted
    unlock_to_dashboard: float  # passphrase sent → the dashboard painted
    journal_first_page: float  # `2` pressed → the journal's first page painted
    journal_next_page: float  # End pressed → the next page painted (median)
    places: dict[str, float]  # number key pressed → that place painted
    peak_rss_kb: int


def _wait_for(fd: int, text: str, timeout: float = 30.0) -> float:
    """Read the terminal until `text` shows; returns when it did (perf_counter)."""
    import select

    deadline = time.perf_counter() + timeout
    seen = b""
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen = (seen + chunk)[-200_000:]
            if text in ANSI.sub(b"", seen).decode("utf-8", "replace"):
                return time.perf_counter()
    raise TimeoutError(f"the app never showed {text!r}")


def _drain_until_exit(fd: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Keep reading the terminal while the app quits: a full terminal buffer would block
    its last writes, and it would never exit."""
    import select

    deadline = time.perf_counter() + timeout
    while process.poll() is None and time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                break
    process.wait(timeout=5)


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_app_once(home: Path, passphrase: str, config_dir: Path, pages: int) -> AppTimes:
    """Drive a real `luna` in a pseudo-terminal the way a person would, timing each step
    from the key sent to the words painted."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "LUNA_HOME": str(home), "LUNA_CONFIG_DIR": str(config_dir),
           "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("LUNA_PASSPHRASE", None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "luna_tui"], stdin=slave, stdout=slave,
                               stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        spawn = _wait_for(master, UNLOCK_MARK) - started
        time.sleep(0.3)  # a person reads the screen before typing
        sent = _send(master, passphrase.encode() + b"\r")
        unlock = _wait_for(master, DASHBOARD_MARK) - sent
        time.sleep(0.3)
        sent = _send(master, b"2")
        first = _wait_for(master, JOURNAL_MARK) - sent
        per_page = []
        for page in range(2, pages + 2):
            time.sleep(0.2)
            sent = _send(master, END_KEY)
            per_page.append(_wait_for(master, f"{page * 50} entries shown") - sent)
        places = {}
        for place, key, mark in PLACE_MARKS:
            time.sleep(0.2)
            sent = _send(master, key)
            places[place] = _wait_for(master, mark) - sent
        peak = _peak_rss_kb(process.pid)
        os.write(master, b"\x11")  # ctrl+q
        _drain_until_exit(master, process)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return AppTimes(spawn, unlock, first, statistics.median(per_page), places, peak)


def _send(fd: int, data: bytes) -> float:
    os.write(fd, data)
    return time.perf_counter()


def run_app(home: Path, passphrase: str, config_dir: Path, runs: int, pages: int = 5
            ) -> AppTimes:
    """Medians over `runs`, after one warm-up run (an installed Luna has its bytecode
    cached)."""
    run_app_once(home, passphrase, config_dir, pages)
    results = [run_app_once(home, passphrase, config_dir, pages) for _ in range(runs)]

    def median(name: str) -> float:
        return statistics.median(getattr(r, name) for r in results)

    places = {place: statistics.median(r.places[place] for r in results)
              for place, _, _ in PLACE_MARKS}
    return AppTimes(median("spawn_to_unlock"), median("unlock_to_dashboard"),
                    median("journal_first_page"), median("journal_next_page"), places,
                    max(r.peak_rss_kb for r in results))


ESCAPE, SHIFT_TAB, DOWN = b"\x1b", b"\x1b[Z", b"\x1b[B"


@dataclass(frozen=True)
class CompanionTimes:
    painted: dict[int, float]  # messages in the session → ↓ pressed → its newest painted
    rss_growth_kb: dict[int, int]  # messages in the session → RSS grown for showing it


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("the app's memory cannot be read from /proc")


def run_companion_once(home: Path, passphrase: str, config_dir: Path) -> CompanionTimes:
    """Unlock, press 7 (the companion opens on its short bench session), go to the
    sessions list, then choose each longer session with ↓ (bench/synthetic.py
    COMPANION_SESSIONS): timed from the key to the session's last message painted."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "LUNA_HOME": str(home), "LUNA_CONFIG_DIR": str(config_dir),
           "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("LUNA_PASSPHRASE", None)
    process = subprocess.Popen([sys.executable, "-m", "luna_tui"], stdin=slave, stdout=slave,
                               stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    painted, growth = {}, {}
    try:
        _wait_for(master, UNLOCK_MARK)
        _send(master, passphrase.encode() + b"\r")
        _wait_for(master, DASHBOARD_MARK)
        time.sleep(0.3)
        _send(master, b"7")
        _wait_for(master, companion_mark(COMPANION_SESSIONS[0]))
        for key in (ESCAPE, SHIFT_TAB):  # out of the message field, to the sessions list
            time.sleep(0.3)
            _send(master, key)
        for count in COMPANION_SESSIONS[1:]:
            time.sleep(0.5)  # what the last step left behind settles
            before = _rss_kb(process.pid)
            sent = _send(master, DOWN)
            painted[count] = _wait_for(master, companion_mark(count), timeout=120) - sent
            time.sleep(0.5)
            growth[count] = _rss_kb(process.pid) - before
        os.write(master, b"\x11")  # ctrl+q
        _drain_until_exit(master, process)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return CompanionTimes(painted, growth)


def run_companion(home: Path, passphrase: str, config_dir: Path, runs: int) -> CompanionTimes:
    """Medians of the times over `runs`, after a warm-up run; the largest growth."""
    run_companion_once(home, passphrase, config_dir)
    results = [run_companion_once(home, passphrase, config_dir) for _ in range(runs)]
    counts = COMPANION_SESSIONS[1:]
    return CompanionTimes(
        {n: statistics.median(r.painted[n] for r in results) for n in counts},
        {n: max(r.rss_growth_kb[n] for r in results) for n in counts})
