"""A moment Luna stored in UTC (a backup's manifest, say), shown in the person's local
time: the backups list, and the sentences of verify and restore."""

from __future__ import annotations

import datetime as dt

TABLE_TIME = "%a %d %b %Y  %H:%M"
SENTENCE_TIME = "%a %-d %b %Y %H:%M"


def local_time(utc: str, pattern: str = SENTENCE_TIME) -> str:
    """A manifest's UTC moment in local time; "unknown" when there is none."""
    try:
        moment = dt.datetime.fromisoformat(utc.replace("Z", "+00:00"))
    except ValueError:
        return "unknown"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone().strftime(pattern)
