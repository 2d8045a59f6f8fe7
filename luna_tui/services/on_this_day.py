"""On this day: a patient's entries written on today's month and day in earlier years
(jrnl's `-today-in-history`, but only the years before this one: today's own entries
are the journal's newest anyway).

February 29 is remembered on February 28 in the years without one, and on February 29
in leap years (Feb 28 of a leap year shows only Feb 28: the 29th comes the next day).

Two reads: the patient's first day (the start of its date index), then a seek per
earlier year into the (patient, date) index, so the cost grows with the years kept,
not with the entries.
"""

from __future__ import annotations

import calendar
import datetime as dt

from peewee import fn

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.journal import Entry, entry_view
from luna_tui.store.models.journal import JournalEntry

DEFAULT_LIMIT = 50


def days_remembered(today: dt.date, first_year: int) -> list[str]:
    """The ISO days of earlier years (newest first, back to `first_year`) whose entries
    come back on `today`."""
    days = []
    for year in range(today.year - 1, first_year - 1, -1):
        if today.month == 2 and today.day == 29:
            if calendar.isleap(year):
                days.append(dt.date(year, 2, 29).isoformat())
            continue
        days.append(dt.date(year, today.month, today.day).isoformat())
        if today.month == 2 and today.day == 28 and not calendar.isleap(today.year) \
                and calendar.isleap(year):
            days.append(dt.date(year, 2, 29).isoformat())
    return days


class OnThisDay(DomainService):
    @on_db_thread
    def entries(self, patient_id: str, today: dt.date, *, limit: int = DEFAULT_LIMIT
                ) -> list[Entry]:
        """The entries of `days_remembered(today)`, newest year first, each day's in
        the order they were written."""
        first = (JournalEntry.select(fn.MIN(JournalEntry.entry_date))
                 .where(JournalEntry.patient == patient_id).scalar())
        if first is None or first[:4] >= str(today.year):
            return []
        days = days_remembered(today, int(first[:4]))
        query = (JournalEntry.select()
                 .where(JournalEntry.patient == patient_id, JournalEntry.entry_date.in_(days))
                 .order_by(JournalEntry.entry_date.desc(), JournalEntry.entry_time,
                           JournalEntry.entry_no)
                 .limit(limit))
        return [entry_view(row) for row in query]
