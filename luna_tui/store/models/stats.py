"""Usage statistics (Doctor Dok's columns): one row per event name per hour, upserted."""

from __future__ import annotations

from peewee import AutoField, IntegerField, TextField

from luna_tui.store.models.base import BaseModel


class StatEvent(BaseModel):
    id = AutoField()
    event_name = TextField()
    prompt_tokens = IntegerField(default=0)
    completion_tokens = IntegerField(default=0)
    finish_reasons = TextField(default="{}")  # JSON: {"stop": 3, "length": 1}
    created_year = IntegerField()
    created_month = IntegerField()
    created_day = IntegerField()
    created_hour = IntegerField()
    counter = IntegerField(default=0)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "stats"
        schema = "stats"
        indexes = (
            (("event_name", "created_year", "created_month", "created_day", "created_hour"), True),
        )
