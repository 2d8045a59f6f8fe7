"""Timing the app as a person meets it.

Start-up is measured from outside: a real `luna` in a pseudo-terminal, watched until the
unlock screen's words appear, then fed the passphrase and, once its field shows it, Enter,
and watched from the Enter until the dashboard's words do. Then each place is timed from
its number key to its words painted: the journal's first page and each next page (End),
then medications, appointments, vitals and records, each opened for the first time (so
it is built, queried and painted).

Two figures are only worth something paired, run by run, on a shared machine whose
speed drifts: start-up is compared with a bare Textual app (bench/bare_textual.py)
spawned the same way right before each `luna`, and the key derivation is timed (by the
caller's `kdf`) right before and right after each `luna`, so that "minus the KDF" takes
away the KDF of that moment, not one timed a minute earlier.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from luna_tui.bench.bare_textual import MARK as BARE_MARK
from luna_tui.bench.synthetic import COMPANION_SESSIONS, companion_mark

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07|\x1b.")
UNLOCK_MARK = "Unlock your vault"
BARE_MODULE = "luna_tui.bench.bare_textual"
DASHBOARD_MARK = "Today's doses"
PASSWORD_DOT = "•"  # what the passphrase field shows for each character typed
JOURNAL_MARK = "50 entries shown"
END_KEY = b"\x1b[F"
# Words each place shows once its data is painted.
PLACE_MARKS = (("medications", b"3", "active ·"), ("appointments", b"4", "upcoming ·"),
               ("vitals", b"5", "newest first"), ("records", b"6", "t shows another type"))


@dataclass(frozen=True)
class AppTimes:
    spawn_to_unlock: float  # `luna` started → the unlock screen painted
    unlock_to_dashboard: float  # Enter after the passphrase → the dashboard painted
    journal_first_page: float  # `2` pressed → the journal's first page painted
    journal_next_page: float  # End pressed → the next page painted (median)
    places: dict[str, float]  # number key pressed → that place painted
    peak_rss_kb: int
    # Paired with this run (run_app fills them in; medians are of the per-run figures):
    bare_spawn_to_painted: float = 0.0  # the bare Textual app spawned right before
    start_up_ratio: float = 0.0  # spawn_to_unlock / bare_spawn_to_painted
    kdf: float = 0.0  # the key derivation timed before and right after (their mean)
    unlock_minus_kdf: float = 0.0  # unlock_to_dashboard - kdf


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


def _spawn(module: str, home: Path, config_dir: Path
           ) -> tuple[subprocess.Popen, int, float]:
    """`python -m module` in a new 100×30 pseudo-terminal: the process, the terminal's
    master end and when it was started. `luna` and the bare Textual app are spawned
    alike, so that the difference between them is their own."""
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
    process = subprocess.Popen([sys.executable, "-m", module], stdin=slave, stdout=slave,
                               stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    return process, master, started


@contextmanager
def _in_a_terminal(module: str, home: Path, config_dir: Path
                   ) -> Iterator[tuple[subprocess.Popen, int, float]]:
    """`module` running in a pseudo-terminal: (its process, the terminal, when it was
    spawned). Left normally, it is quit with ctrl+q (Luna's quit key and Textual's);
    however it is left, it is gone and the terminal closed."""
    process, master, started = _spawn(module, home, config_dir)
    try:
        yield process, master, started
        os.write(master, b"\x11")  # ctrl+q
        _drain_until_exit(master, process)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


def _spawn_to_mark(module: str, mark: str, home: Path, config_dir: Path) -> float:
    """Spawn → `mark` painted."""
    with _in_a_terminal(module, home, config_dir) as (_, master, started):
        return _wait_for(master, mark) - started


def bare_textual_once(home: Path, config_dir: Path) -> float:
    """A bare Textual app's spawn → its one screen painted: start-up's floor."""
    return _spawn_to_mark(BARE_MODULE, BARE_MARK, home, config_dir)


def run_app_once(home: Path, passphrase: str, config_dir: Path, pages: int) -> AppTimes:
    """Drive a real `luna` in a pseudo-terminal the way a person would, timing each step
    from the key sent to the words painted."""
    with _in_a_terminal("luna_tui", home, config_dir) as (process, master, started):
        spawn = _wait_for(master, UNLOCK_MARK) - started
        time.sleep(0.3)  # a person reads the screen before typing
        # Typed, then Enter: timed from the Enter, once the field shows every character
        # (a person types over seconds; the field's work for each key is done by then).
        _send(master, passphrase.encode())
        _wait_for(master, PASSWORD_DOT * len(passphrase))
        sent = _send(master, b"\r")
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
    return AppTimes(spawn, unlock, first, statistics.median(per_page), places, peak)


def _send(fd: int, data: bytes) -> float:
    os.write(fd, data)
    return time.perf_counter()


def run_app(home: Path, passphrase: str, config_dir: Path, runs: int, pages: int = 5, *,
            kdf: Callable[[], float], start_up_pairs: int = 0) -> AppTimes:
    """Medians over `runs`, after one warm-up run of each (an installed Luna has its
    bytecode cached). Each run is paired with a bare Textual app spawned right before it
    and with the key derivation timed (`kdf()`: seconds) before the two and right after;
    `start_up_pairs` more pairs of spawns (`luna` to its unlock screen and the bare app,
    each first in turn) steady the start-up figures, which are cheap to take."""
    bare_textual_once(home, config_dir)
    run_app_once(home, passphrase, config_dir, pages)
    results = []
    for _ in range(runs):
        # The first KDF before both spawns: each then follows some work of the bench's
        # (the KDF, the bare app), where the bare app alone followed `luna` quitting.
        before = kdf()
        bare = bare_textual_once(home, config_dir)
        run = run_app_once(home, passphrase, config_dir, pages)
        paired_kdf = (before + kdf()) / 2
        results.append(replace(run, bare_spawn_to_painted=bare,
                               start_up_ratio=run.spawn_to_unlock / bare, kdf=paired_kdf,
                               unlock_minus_kdf=run.unlock_to_dashboard - paired_kdf))
    start_ups = [(r.spawn_to_unlock, r.bare_spawn_to_painted) for r in results]
    for pair in range(start_up_pairs):  # in turn, which goes first
        if pair % 2:
            luna = _spawn_to_mark("luna_tui", UNLOCK_MARK, home, config_dir)
            bare = bare_textual_once(home, config_dir)
        else:
            bare = bare_textual_once(home, config_dir)
            luna = _spawn_to_mark("luna_tui", UNLOCK_MARK, home, config_dir)
        start_ups.append((luna, bare))

    def median(name: str) -> float:
        return statistics.median(getattr(r, name) for r in results)

    places = {place: statistics.median(r.places[place] for r in results)
              for place, _, _ in PLACE_MARKS}
    return AppTimes(
        spawn_to_unlock=statistics.median(luna for luna, _ in start_ups),
        unlock_to_dashboard=median("unlock_to_dashboard"),
        journal_first_page=median("journal_first_page"),
        journal_next_page=median("journal_next_page"), places=places,
        peak_rss_kb=max(r.peak_rss_kb for r in results),
        bare_spawn_to_painted=statistics.median(bare for _, bare in start_ups),
        start_up_ratio=statistics.median(luna / bare for luna, bare in start_ups),
        kdf=median("kdf"), unlock_minus_kdf=median("unlock_minus_kdf"))


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
    painted, growth = {}, {}
    with _in_a_terminal("luna_tui", home, config_dir) as (process, master, _):
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
    return CompanionTimes(painted, growth)


def run_companion(home: Path, passphrase: str, config_dir: Path, runs: int) -> CompanionTimes:
    """Medians of the times over `runs`, after a warm-up run; the largest growth."""
    run_companion_once(home, passphrase, config_dir)
    results = [run_companion_once(home, passphrase, config_dir) for _ in range(runs)]
    counts = COMPANION_SESSIONS[1:]
    return CompanionTimes(
        {n: statistics.median(r.painted[n] for r in results) for n in counts},
        {n: max(r.rss_growth_kb[n] for r in results) for n in counts})
