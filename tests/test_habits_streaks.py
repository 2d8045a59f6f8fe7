"""Streaks: days journaled in a row (ending today, or yesterday while today is empty)
and days every scheduled dose was taken in a row (skipped passes, missed breaks)."""

from __future__ import annotations

import datetime as dt

import pytest

from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.streaks import StreakCounter, journal_runs


def _days(today: dt.date, *back: int) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in back]


def test_runs_end_today_or_yesterday_and_the_longest_is_kept():
    today = dt.date(2027, 1, 2)
    assert journal_runs(_days(today, 0, 1, 2, 4, 5, 6, 7, 8), today) == (3, 5)
    assert journal_runs(_days(today, 1, 2, 4), today) == (2, 2)  # today not written yet
    assert journal_runs(_days(today, 2, 3, 4), today) == (0, 3)  # yesterday empty: over
    assert journal_runs([], today) == (0, 0)


@pytest.mark.dates
def test_the_journal_streak_counts_days_with_an_entry_across_month_and_year_ends(
        session, clock):
    today = clock.today()
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    for day in _days(today, 0, 0, 1, 2, 3, 5, 6):  # two entries today: still one day
        journal.create(me, EntryDraft(content=f"on {day}", entry_date=day.isoformat(),
                                      entry_time="", privacy_level="private"))
    streaks = StreakCounter(session).streaks(me, today)
    assert (streaks.journal_current, streaks.journal_longest) == (4, 4)
    assert streaks.journaled_today

    tomorrow = today + dt.timedelta(days=1)
    later = StreakCounter(session).streaks(me, tomorrow)
    assert (later.journal_current, later.journaled_today) == (4, False)
    after = StreakCounter(session).streaks(me, tomorrow + dt.timedelta(days=1))
    assert after.journal_current == 0 and after.journal_longest == 4


@pytest.fixture
def twice_daily(session, clock):
    """A medication taken at 08:00 and 20:00 since five days ago; it is 21:00 today."""
    today = clock.today()
    clock.set_local(today, "21:00")
    me = Settings(session).current_patient_id()
    medication = Medications(session).create(
        me, "Sertraline", "50 mg", "twice daily", schedule=["08:00", "20:00"],
        start_date=(today - dt.timedelta(days=5)).isoformat())
    return me, medication.id, today


def _log(session, medication_id, day: dt.date, at: str, status: str) -> None:
    Medications(session).log_dose(medication_id, status, slot=f"{day.isoformat()}T{at}")


def test_every_dose_taken_makes_a_day_and_a_missed_one_ends_the_streak(session, twice_daily):
    me, medication, today = twice_daily
    for day in _days(today, 5, 4, 3, 2, 1):
        _log(session, medication, day, "08:00", "taken")
        _log(session, medication, day, "20:00", "taken")
    counter = StreakCounter(session)
    # Today's 20:00 dose is not logged yet: today is passed over, not a break.
    _log(session, medication, today, "08:00", "taken")
    assert counter.streaks(me, today).doses_current == 5
    _log(session, medication, today, "20:00", "late")
    assert counter.streaks(me, today).doses_current == 6

    _log(session, medication, today - dt.timedelta(days=3), "20:00", "missed")
    assert counter.streaks(me, today).doses_current == 3


def test_a_skipped_dose_passes_and_an_unlogged_past_dose_breaks(session, twice_daily):
    me, medication, today = twice_daily
    yesterday, before = _days(today, 1, 2)
    for day in (yesterday, before):
        _log(session, medication, day, "08:00", "taken")
    _log(session, medication, yesterday, "20:00", "skipped")  # on the doctor's advice
    _log(session, medication, before, "20:00", "skipped")
    _log(session, medication, today, "08:00", "skipped")
    _log(session, medication, today, "20:00", "skipped")  # all skipped: passed over
    streaks = StreakCounter(session).streaks(me, today)
    # Three days ago nothing was logged: the streak began after it.
    assert (streaks.doses_current, streaks.has_schedule) == (2, True)


def test_a_missed_dose_today_ends_the_streak_at_once(session, twice_daily):
    me, medication, today = twice_daily
    _log(session, medication, today - dt.timedelta(days=1), "08:00", "taken")
    _log(session, medication, today - dt.timedelta(days=1), "20:00", "taken")
    assert StreakCounter(session).streaks(me, today).doses_current == 1
    _log(session, medication, today, "08:00", "missed")
    assert StreakCounter(session).streaks(me, today).doses_current == 0


def test_without_a_scheduled_medication_there_is_no_dose_streak(session, clock):
    me = Settings(session).current_patient_id()
    Medications(session).create(me, "Ibuprofen", "200 mg", "as needed")
    streaks = StreakCounter(session).streaks(me, clock.today())
    assert (streaks.doses_current, streaks.has_schedule) == (0, False)


def test_a_streak_longer_than_the_first_window_is_counted_whole(session, clock):
    """Doses are read a month first, then in growing windows: the days where two
    windows meet are each counted once."""
    today = clock.today()
    clock.set_local(today, "21:00")
    me = Settings(session).current_patient_id()
    medication = Medications(session).create(
        me, "Levothyroxine", "50 µg", "once daily", schedule=["07:00"],
        start_date=(today - dt.timedelta(days=100)).isoformat())
    for back in range(0, 100):
        _log(session, medication.id, today - dt.timedelta(days=back), "07:00",
             "missed" if back == 70 else "taken")
    assert StreakCounter(session).streaks(me, today).doses_current == 70
