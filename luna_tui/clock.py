"""Time as Luna sees it, injectable so tests can turn the month or the idle timer.

Stored timestamps are UTC ISO-8601 with milliseconds and a trailing `Z`, so they sort
as text. Dates a person types (an expiry date, an entry date) are local dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


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
