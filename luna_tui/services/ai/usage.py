"""How much the companion was used: requests, tokens and finish reasons per period,
read from stats.db's hourly counts (sending.py and memory.py count them)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.store.models.stats import StatEvent


@dataclass(frozen=True)
class UsagePeriod:
    label: str  # today | this month | last month
    start: str  # local date, first day
    end: str  # local date, last day
    requests: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    finish_reasons: dict[str, int] = field(default_factory=dict)


class AiUsage(DomainService):
    @on_db_thread
    def periods(self) -> list[UsagePeriod]:
        """Requests, tokens and finish reasons for today, this month and last month
        (local calendar; stats.db counts per UTC hour)."""
        today = self.today()
        month_start = today.replace(day=1)
        last_month_end = month_start - dt.timedelta(days=1)
        next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
        periods = [("today", today, today),
                   ("this month", month_start, next_month - dt.timedelta(days=1)),
                   ("last month", last_month_end.replace(day=1), last_month_end)]
        return [_period(label, first, last) for label, first, last in periods]


def _period(label: str, first: dt.date, last: dt.date) -> UsagePeriod:
    """The counts of the local days `first` to `last` (DB thread)."""
    start, end = _utc_hour_key(first), _utc_hour_key(last + dt.timedelta(days=1))
    hour_key = (StatEvent.created_year * 1_000_000 + StatEvent.created_month * 10_000
                + StatEvent.created_day * 100 + StatEvent.created_hour)
    rows = StatEvent.select().where(StatEvent.event_name.in_(("ai.request", "ai.failed")),
                                    hour_key >= start, hour_key < end)
    requests = failed = prompt = completion = 0
    reasons: dict[str, int] = {}
    for row in rows:
        if row.event_name == "ai.failed":
            failed += row.counter
            continue
        requests += row.counter
        prompt += row.prompt_tokens
        completion += row.completion_tokens
        for reason, count in json.loads(row.finish_reasons or "{}").items():
            reasons[reason] = reasons.get(reason, 0) + count
    return UsagePeriod(label, first.isoformat(), last.isoformat(), requests, failed,
                       prompt, completion, dict(sorted(reasons.items())))


def _utc_hour_key(day: dt.date) -> int:
    """The stats bucket key (yyyymmddhh, UTC) of local midnight at the start of `day`."""
    moment = dt.datetime.combine(day, dt.time()).astimezone().astimezone(dt.UTC)
    return moment.year * 1_000_000 + moment.month * 10_000 + moment.day * 100 + moment.hour
