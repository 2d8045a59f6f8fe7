"""Counting events into stats.db: one row per event name per hour (Doctor Dok's table).

Runs inside a write transaction (IMMEDIATE), so two processes counting the same hour
never lose an increment.
"""

from __future__ import annotations

import json

from luna_tui.clock import Clock, utc_timestamp
from luna_tui.store.models.stats import StatEvent


def count_event(clock: Clock, event_name: str, *, prompt_tokens: int = 0,
                completion_tokens: int = 0, finish_reason: str | None = None) -> None:
    now = clock.now()
    stamp = utc_timestamp(now)
    bucket = {
        "event_name": event_name,
        "created_year": now.year,
        "created_month": now.month,
        "created_day": now.day,
        "created_hour": now.hour,
    }
    row = StatEvent.get_or_none(**bucket)
    if row is None:
        row = StatEvent(**bucket, created_at=stamp, finish_reasons="{}")
    reasons = json.loads(row.finish_reasons or "{}")
    if finish_reason:
        reasons[finish_reason] = reasons.get(finish_reason, 0) + 1
    row.counter = (row.counter or 0) + 1
    row.prompt_tokens = (row.prompt_tokens or 0) + prompt_tokens
    row.completion_tokens = (row.completion_tokens or 0) + completion_tokens
    row.finish_reasons = json.dumps(reasons, sort_keys=True)
    row.updated_at = stamp
    row.save()
