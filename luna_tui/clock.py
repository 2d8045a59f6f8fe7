"""Time as Luna sees it, injectable so tests can turn the month or the idle timer.

This is the only module that reads the wall clock (tests/test_wall_clock.py checks the
rest of `luna_tui/` and `migrations/`). Durations (`time.monotonic`, `time.perf_counter`)
are not wall time and may be read anywhere.

Stored timestamps are UTC ISO-8601 with milliseconds and a trailing `Z`, so they sort
as text. Dates a person types (an expiry date, an entry date) are local dates.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Protocol

# Where the system keeps its time zone: a symlink into the zoneinfo database, and
# Debian's plain-text name. Module attributes so tests can point them elsewhere.
LOCALTIME_LINK = Path("/etc/localtime")
TIMEZONE_FILE = Path("/etc/timezone")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime in UTC."""
        ...

    def wall_time(self) -> float:
        """Now as seconds since the epoch: what file modification times are compared with."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def wall_time(self) -> float:
        return time.time()


def utc_timestamp(moment: dt.datetime) -> str:
    """`2026-11-22T14:03:59.992Z`: sortable as text, unambiguous across time zones."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def parse_utc_timestamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def local_today(clock: Clock) -> dt.date:
    return clock.now().astimezone().date()


def month_key(moment: dt.datetime) -> str:
    """The audit month of a moment: `2026-11` (UTC, 1-based, zero-padded)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m")


def local_zone() -> str | None:
    """The IANA name of the local time zone (`Europe/Berlin`), or None if it can't be told.

    TZ wins when it is set at all: it is what this process's local time follows, so a
    POSIX rule such as `CET-1CEST` (no name to give) must not fall back to the system's
    zone, which may differ.
    """
    if "TZ" in os.environ:
        value = os.environ["TZ"].removeprefix(":")
        return _zone_from_path(value) if value.startswith("/") else _valid_zone(value)
    return _zone_from_path(str(LOCALTIME_LINK)) or _zone_from_file(TIMEZONE_FILE)


def _zone_from_path(path: str) -> str | None:
    """`/usr/share/zoneinfo/Europe/Berlin` (or a symlink to it) → `Europe/Berlin`."""
    _, found, name = os.path.realpath(path).rpartition("zoneinfo/")
    return _valid_zone(name) if found else None


def _zone_from_file(path: Path) -> str | None:
    try:
        return _valid_zone(path.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return None


def _valid_zone(name: str) -> str | None:
    import zoneinfo

    for prefix in ("posix/", "right/"):  # the same zones, in tzdata's variant folders
        name = name.removeprefix(prefix)
    if not name:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # unknown, malformed, or a folder
        return None
    return name
