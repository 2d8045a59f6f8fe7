"""The hot queries use their indexes (EXPLAIN QUERY PLAN), so they stay fast at
100,000 entries. A full scan of a big table is a failure, whatever the timing today."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from luna_tui.services.journal import EntryDraft, Journal, JournalCursor, JournalFilter
from luna_tui.services.settings import Settings


@pytest.fixture
def plans(session):
    """Capture the plan of every SELECT the services run."""
    from luna_tui.store.models.base import database

    captured: list[tuple[str, list[str]]] = []
    real = database.obj.execute_sql

    def explained(sql, params=None, *args, **kwargs):
        if sql.lstrip().upper().startswith("SELECT"):
            rows = real("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            captured.append((sql, [row[-1] for row in rows]))
        return real(sql, params, *args, **kwargs)

    session.run(setattr, database.obj, "execute_sql", explained)
    yield captured
    session.run(setattr, database.obj, "execute_sql", real)


def _names(sql: str, table: str) -> set[str]:
    """`table` and its aliases in `sql`: Peewee aliases tables (`"journal_entries" AS
    "t1"`), and plans name the alias."""
    return {table} | {alias for name, alias in re.findall(r'"(\w+)" AS "(\w+)"', sql)
                      if name == table}


def scans(captured, table):
    """Plans that read `table` row by row (a SCAN without an index)."""
    found = []
    for sql, plan in captured:
        for step in plan:
            parts = step.split()
            if parts[:1] == ["SCAN"] and parts[1] in _names(sql, table) and "USING" not in step:
                found.append((sql, plan))
    return found


def reads(captured, table) -> list[str]:
    """Every step of the captured plans that reads `table`, by a SCAN or a SEARCH."""
    return [step for sql, plan in captured for step in plan
            if step.split()[:1] in (["SCAN"], ["SEARCH"])
            and step.split()[1] in _names(sql, table)]


def test_a_query_without_an_index_is_caught(session, plans):
    from luna_tui.store.models.journal import JournalEntry

    session.run(lambda: list(JournalEntry.select().where(JournalEntry.content == "x")))
    assert scans(plans, "journal_entries")


def test_journal_pages_filters_and_search_use_indexes(session, plans):
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    journal.create(me, EntryDraft(content="knee", mood="calm", tags=["walk"]))
    plans.clear()
    journal.page(me)
    journal.page(me, after=JournalCursor("2026-11-22", "09:00", 5))
    journal.page(me, JournalFilter(mood="calm"))
    journal.page(me, JournalFilter(tag="walk"))
    journal.page(me, JournalFilter(favorites_only=True))
    journal.search(me, "knee")
    journal.mood_series(me, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    journal.tag_counts(me)
    assert plans, "no queries were captured"
    assert scans(plans, "journal_entries") == []
    assert scans(plans, "journal_entry_tags") == []
    moments = [plan for sql, plan in plans if "ORDER BY" in sql and "journal_entries" in sql
               and "journal_fts" not in sql]
    assert any("idx_journal_entries_patient_moment" in " ".join(p) for p in moments)


def test_the_other_lists_use_indexes(session, plans):
    from luna_tui.services.appointments import Appointments
    from luna_tui.services.medications import Medications
    from luna_tui.services.vitals import Vitals

    me = Settings(session).current_patient_id()
    med = Medications(session).create(me, "Metformin", "500 mg", "twice daily")
    appointments, medications, vitals = (Appointments(session), Medications(session),
                                         Vitals(session))
    calls = [
        ("upcoming appointments", lambda: appointments.upcoming(me), ["appointments"]),
        ("past appointments", lambda: appointments.past(me), ["appointments"]),
        ("a vitals series", lambda: vitals.series(me, "weight", dt.date(2026, 1, 1),
                                                  dt.date(2026, 12, 31)), ["vitals"]),
        ("a page of vitals", lambda: vitals.page(me), ["vitals"]),
        ("a day's dose slots", lambda: medications.day_slots(me, dt.date(2026, 11, 22)),
         ["medications", "medication_doses"]),
        ("adherence", lambda: medications.adherence(med.id, dt.date(2026, 1, 1),
                                                    dt.date(2026, 11, 22)),
         ["medications", "medication_doses"]),
    ]
    for name, call, tables in calls:
        plans.clear()
        call()
        for table in tables:
            steps = reads(plans, table)
            assert steps, f"no plan of {name} reads {table}: the query was not captured"
            assert all(" USING " in step for step in steps), (name, steps)
            assert scans(plans, table) == [], (name, table)


def _vm_steps(session, fn) -> int:
    """How much work SQLite did for `fn` (its virtual machine's steps, counted in tens):
    a measure of rows read that no timing noise moves."""
    from luna_tui.store.models.base import database

    steps = [0]

    def counted() -> None:
        def tick() -> int:
            steps[0] += 1
            return 0

        connection = database.obj.connection()
        connection.set_progress_handler(tick, 10)
        try:
            fn()
        finally:
            connection.set_progress_handler(None, 10)

    session.run(counted)
    return steps[0]


def test_the_latest_vitals_cost_the_same_at_any_number_of_readings(session):
    """The dashboard's latest readings and the vitals place's kinds look each kind up in
    the index: grouping by kind walked every reading of the patient (50,000 in ten
    years) on each load."""
    from luna_tui.services.vitals import Vitals

    me = Settings(session).current_patient_id()
    vitals = Vitals(session)
    vitals.record(me, "heart_rate", 60)
    vitals.record(me, "weight", 70, measured_at="2026-01-01T08:00")

    def both() -> None:
        assert set(vitals.latest(me)) == {"heart_rate", "weight"}
        assert vitals.kinds_in_use(me) == ["heart_rate", "weight"]

    few = _vm_steps(session, both)
    for day in range(2, 202):
        vitals.record(me, "weight", 70 + day / 100,
                      measured_at=(dt.date(2026, 1, 1) + dt.timedelta(days=day)).isoformat())
    many = _vm_steps(session, both)
    assert many < few * 1.5, (few, many)


def test_a_chart_reads_its_covering_indexes_only(session, plans):
    """Ten years of readings, moods and sleep without one table page: through SQLCipher
    each page read is a page decrypted."""
    from luna_tui.services.vitals import Vitals

    me = Settings(session).current_patient_id()
    plans.clear()
    for by_week in (False, True):
        Vitals(session).readings(me, "weight", dt.date(2016, 1, 1), by_week=by_week)
        Journal(session).mood_and_sleep(me, dt.date(2016, 1, 1), dt.date(2026, 11, 22),
                                        by_week=by_week)
    steps = [step for _sql, plan in plans for step in plan if "vitals" in step
             or "journal_entries" in step]
    assert len(steps) == 4
    assert all("USING COVERING INDEX" in step for step in steps), steps


def test_a_page_of_a_companion_session_walks_its_index(session, plans):
    """The newest messages, and those before the oldest shown, without reading (and
    sorting) the whole session: the page costs the same at 40 messages or 40,000."""
    from test_read_models import a_long_session

    from luna_tui.services.read_models.companion import CompanionPlace

    me = Settings(session).current_patient_id()
    talk = a_long_session(session, me, 30)
    place = CompanionPlace(session)
    plans.clear()
    newest = place.page(talk, page_size=10)
    place.page(talk, before=newest.messages[0].id, page_size=10)
    steps = reads(plans, "messages")
    assert len(steps) == 2, plans
    assert all("USING INDEX idx_messages_session_order (session_id=?" in s for s in steps)
    assert [step for _sql, plan in plans for step in plan if "TEMP B-TREE" in step] == []
