"""On this day: the entries of today's month and day in earlier years, at each of the
date matrix's "todays" (a leap day, DST nights in Berlin, a year's last minute)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import local_timezone
from luna_tui.clock import local_today
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.on_this_day import OnThisDay, days_remembered
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings


def _write(session, patient: str, day: dt.date, text: str, at: str = "08:00",
           **fields) -> str:
    return Journal(session).create(patient, EntryDraft(content=text, entry_date=day.isoformat(),
                                                       entry_time=at, **fields)).id


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        return today.replace(year=today.year - years, day=28)


@pytest.mark.dates
def test_entries_of_this_day_in_earlier_years_come_back_newest_year_first(session, clock):
    today = clock.today()
    me = Settings(session).current_patient_id()
    one = _write(session, me, _years_ago(today, 1), "a year ago", privacy_level="private")
    four = _write(session, me, _years_ago(today, 4), "four years ago", at="21:00")
    four_early = _write(session, me, _years_ago(today, 4), "four years ago, morning",
                        at="07:00")
    _write(session, me, today, "today itself")
    _write(session, me, _years_ago(today, 1) - dt.timedelta(days=1), "the day before")
    _write(session, me, _years_ago(today, 1) + dt.timedelta(days=1), "the day after")
    other = Patients(session).create("Mum").id
    _write(session, other, _years_ago(today, 1), "someone else's")

    found = OnThisDay(session).entries(me, today)

    # Private entries are the person's own: shown. Today's and the days around it: not.
    if today.month == 2 and today.day == 29:
        # Only leap years have the day: one and four years before 2028 are 2027 (none)
        # and 2024 (a 29th); "a year ago" fell back to the 28th, which is not the day.
        assert [e.id for e in found] == [four_early, four]
    else:
        assert [e.id for e in found] == [one, four_early, four]


def test_a_leap_day_is_remembered_on_the_28th_of_years_without_one():
    assert days_remembered(dt.date(2029, 2, 28), 2023) == [
        "2028-02-28", "2028-02-29", "2027-02-28", "2026-02-28", "2025-02-28",
        "2024-02-28", "2024-02-29", "2023-02-28"]
    # In a leap year the 28th is only the 28th: the 29th comes the next day.
    assert days_remembered(dt.date(2028, 2, 28), 2024) == [
        "2027-02-28", "2026-02-28", "2025-02-28", "2024-02-28"]
    assert days_remembered(dt.date(2028, 2, 29), 2019) == ["2024-02-29", "2020-02-29"]
    assert days_remembered(dt.date(2028, 3, 1), 2027) == ["2027-03-01"]


def test_nothing_comes_back_in_a_journal_younger_than_a_year(session, clock):
    me = Settings(session).current_patient_id()
    assert OnThisDay(session).entries(me, clock.today()) == []
    _write(session, me, clock.today() - dt.timedelta(days=200), "this year or last")
    assert OnThisDay(session).entries(me, clock.today()) == []


def test_the_day_follows_the_local_calendar_not_utc(session, clock):
    """At 08:00 in Auckland it is still the day before in UTC: the entries remembered
    are of Auckland's day, the one the person lives in."""
    with local_timezone("Pacific/Auckland"):
        clock.set_local(dt.date(2027, 6, 15), "08:00")
        assert clock.now().date() == dt.date(2027, 6, 14)  # UTC
        me = Settings(session).current_patient_id()
        hit = _write(session, me, dt.date(2025, 6, 15), "Auckland's day")
        _write(session, me, dt.date(2025, 6, 14), "UTC's day")
        assert [e.id for e in OnThisDay(session).entries(me, local_today(clock))] == [hit]


def test_a_leap_days_entry_comes_back_on_the_28th_of_a_year_without_one(session, clock):
    me = Settings(session).current_patient_id()
    leap = _write(session, me, dt.date(2024, 2, 29), "a leap day")
    eve = _write(session, me, dt.date(2024, 2, 28), "the day before")
    clock.set_local(dt.date(2027, 2, 28), "12:00")
    assert [e.id for e in OnThisDay(session).entries(me, local_today(clock))] == [leap, eve]
    clock.set_local(dt.date(2028, 2, 28), "12:00")  # a leap year: the 29th comes tomorrow
    assert [e.id for e in OnThisDay(session).entries(me, local_today(clock))] == [eve]
    clock.set_local(dt.date(2028, 2, 29), "12:00")
    assert [e.id for e in OnThisDay(session).entries(me, local_today(clock))] == [leap]
