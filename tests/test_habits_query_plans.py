"""The habits' queries (on this day, the streaks, the templates) read indexes, never a
whole table: they run on the dashboard of a ten-year journal."""

from __future__ import annotations

import datetime as dt

from test_query_plans import _vm_steps, plans, reads, scans  # noqa: F401 - a fixture

from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.on_this_day import OnThisDay
from luna_tui.services.settings import Settings
from luna_tui.services.streaks import StreakCounter
from luna_tui.store.journal_days import DAYS_WRITTEN


def _entry(session, me: str, day: dt.date, text: str = "x") -> None:
    Journal(session).create(me, EntryDraft(content=text, entry_date=day.isoformat(),
                                           entry_time="08:00"))


def test_on_this_day_seeks_the_date_index_once_a_year(session, clock, plans):  # noqa: F811
    me = Settings(session).current_patient_id()
    today = clock.today()
    _entry(session, me, today.replace(year=today.year - 3, day=1))
    plans.clear()
    OnThisDay(session).entries(me, today)
    steps = reads(plans, "journal_entries")
    assert len(steps) == 2, plans  # the first day, then the days remembered
    assert all("USING" in step and "(patient_id=?" in step for step in steps), steps
    assert any("entry_date=?" in step for step in steps), steps
    assert scans(plans, "journal_entries") == []


def test_the_days_written_are_read_by_seeking_the_index(session):
    from luna_tui.store.models.base import database

    plan = session.run(lambda: [row[-1] for row in database.execute_sql(
        "EXPLAIN QUERY PLAN " + DAYS_WRITTEN, ("p", "2026-11-22", "p"))])
    steps = [step for step in plan if "journal_entries" in step]
    assert len(steps) == 2, plan
    assert all("USING COVERING INDEX" in step and "(patient_id=? AND entry_date<" in step
               for step in steps), steps


def test_the_journal_streak_costs_the_days_not_the_entries(session, clock):
    """Fifty entries on one day cost what one does: each day is one seek."""
    me = Settings(session).current_patient_id()
    today = clock.today()
    for back in range(5):
        _entry(session, me, today - dt.timedelta(days=back))
    counter = StreakCounter(session)
    few = _vm_steps(session, lambda: counter.streaks(me, today))
    for n in range(50):
        _entry(session, me, today - dt.timedelta(days=2), f"more {n}")
    many = _vm_steps(session, lambda: counter.streaks(me, today))
    assert many < few * 1.3, (few, many)


def test_the_dose_streak_reads_doses_and_medications_by_index(session, clock,
                                                              plans):  # noqa: F811
    me = Settings(session).current_patient_id()
    today = clock.today()
    medication = Medications(session).create(
        me, "Sertraline", "50 mg", "once daily", schedule=["08:00"],
        start_date=(today - dt.timedelta(days=3)).isoformat())
    Medications(session).log_dose(medication.id, "taken",
                                  slot=f"{(today - dt.timedelta(days=1)).isoformat()}T08:00")
    plans.clear()
    StreakCounter(session).streaks(me, today)
    for table in ("medications", "medication_doses", "medication_events"):
        steps = reads(plans, table)
        assert steps and all(" USING " in step for step in steps), (table, steps)
