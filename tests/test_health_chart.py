"""The data behind a vitals chart: each period holds its own readings, the journal's mood
and sleep over the same days, and only the medication changes among them.

Periods end today: days are counted back from `clock.today()`, and the tests marked
`dates` run at each "today" of the date matrix (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from luna_tui.errors import ValidationError
from luna_tui.services.health_chart import PERIODS, HealthChart
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


@pytest.fixture
def days_ago(clock):
    def days_ago(days: int) -> str:
        return (clock.today() - dt.timedelta(days=days)).isoformat()

    return days_ago


@pytest.fixture
def history(session, me, days_ago):
    """Weights 10, 60, 200 and 500 days ago; moods and sleep 5 and 45 days ago;
    a medication started 100 days ago whose dose changed 20 days ago."""
    vitals = Vitals(session)
    for days in (10, 60, 200, 500):
        vitals.record(me, "weight", 70 + days / 100, measured_at=f"{days_ago(days)}T08:00")
    journal = Journal(session)
    for days, mood, sleep in ((5, 7, 8), (45, 4, 5.5)):
        journal.create(me, EntryDraft(content="How I was", entry_date=days_ago(days),
                                      mood_scale=mood, sleep_hours=sleep))
    meds = Medications(session)
    sertraline = meds.create(me, "Sertraline", "50 mg", "once daily", start_date=days_ago(100))
    meds.update(sertraline.id, dosage="100 mg", effective=days_ago(20))
    return sertraline


@pytest.mark.dates
@pytest.mark.parametrize(("period", "readings", "moods", "events"), [
    ("30d", 1, 1, 1), ("90d", 2, 2, 1), ("1y", 3, 2, 2), ("all", 4, 2, 2)])
def test_each_period_holds_its_own_points(session, me, history, clock, period, readings, moods,
                                          events):
    data = HealthChart(session).data(me, "weight", period)
    assert (len(data.points), len(data.mood), len(data.sleep), len(data.events)) == (
        readings, moods, moods, events)
    assert data.end == clock.today() and data.period == period
    assert (data.label, data.unit) == ("Weight", "kg")


@pytest.mark.dates
def test_periods_start_where_they_say(session, me, history, clock):
    chart = HealthChart(session)
    starts = {period: chart.data(me, "weight", period).start for period in PERIODS}
    back = {"30d": 29, "90d": 89, "1y": 364, "all": 500}
    assert starts == {period: clock.today() - dt.timedelta(days=days)
                      for period, days in back.items()}
    assert chart.data(me, "weight", "30d").days == 30


def test_all_starts_at_the_earliest_point_of_any_series(session, me):
    Journal(session).create(me, EntryDraft(content="Long ago", entry_date="2020-01-02",
                                           mood_scale=5))
    Vitals(session).record(me, "heart_rate", 60, measured_at="2024-03-01T08:00")
    data = HealthChart(session).data(me, "heart_rate", "all")
    assert data.start == dt.date(2020, 1, 2) and len(data.mood) == 1
    assert HealthChart(session).data(me, "glucose", "all").start == dt.date(2020, 1, 2)


@pytest.mark.dates
def test_an_empty_vault_charts_today_alone(session, me, clock):
    data = HealthChart(session).data(me, "spo2", "all")
    assert (data.start, data.end, data.points, data.unit) == (
        clock.today(), clock.today(), (), "%")


@pytest.mark.dates
def test_only_medication_events_in_range_are_included(session, me, history, days_ago):
    data = HealthChart(session).data(me, "weight", "90d")
    [change] = data.events
    assert (change.day, change.medication, change.event_type) == (
        days_ago(20), "Sertraline", "dose_changed")
    assert (change.old_dose, change.new_dose) == ("50 mg", "100 mg")
    assert change.summary == "Sertraline 50 → 100 mg"
    assert [e.event_type for e in HealthChart(session).data(me, "weight", "1y").events] == [
        "started", "dose_changed"]


def test_blood_pressure_carries_both_values(session, me, days_ago):
    Vitals(session).record(me, "bp", 128, 84, measured_at=f"{days_ago(3)}T07:30")
    data = HealthChart(session).data(me, "blood pressure", "30d")
    [point] = data.points
    assert (point.moment, point.value, point.value2) == (f"{days_ago(3)}T07:30", 128, 84)
    assert (data.kind, data.label, data.unit, data.second_label) == (
        "blood_pressure", "Blood pressure", "mmHg", "diastolic")


def test_readings_in_another_unit_are_converted_or_counted_aside(session, me, days_ago):
    vitals = Vitals(session)
    vitals.record(me, "weight", 154.324, unit="lb", measured_at=f"{days_ago(4)}T08:00")
    vitals.record(me, "weight", 69.5, unit="kg", measured_at=f"{days_ago(2)}T08:00")
    data = HealthChart(session).data(me, "weight", "30d")
    assert data.unit == "kg"
    assert [round(p.value, 1) for p in data.points] == [70.0, 69.5]
    vitals.record(me, "peak flow", 400, unit="L/min", measured_at=f"{days_ago(4)}T08:00")
    vitals.record(me, "peak flow", 6.5, unit="L/s", measured_at=f"{days_ago(2)}T08:00")
    own = HealthChart(session).data(me, "peak_flow", "30d")
    assert (own.label, own.unit, len(own.points), own.other_units) == ("Peak flow", "L/s", 1, 1)


def test_an_unknown_period_is_refused_in_a_sentence(session, me):
    with pytest.raises(ValidationError, match="not a period; choose one of: 30d, 90d, 1y, all"):
        HealthChart(session).data(me, "weight", "week")


@pytest.mark.dates
def test_all_time_is_drawn_by_week(session, me, clock, days_ago):
    """Ten years of days are more points than a terminal has columns."""
    vitals, journal = Vitals(session), Journal(session)
    tuesday = clock.today().weekday() + 6  # last week's Tuesday and Wednesday: one week
    wednesday = tuesday - 1
    for days, weight in ((tuesday, 80.0), (wednesday, 82.0), (400, 90.0)):
        vitals.record(me, "weight", weight, measured_at=f"{days_ago(days)}T08:00")
    for days, mood in ((wednesday, 4), (tuesday, 8)):
        journal.create(me, EntryDraft(content="x", entry_date=days_ago(days), mood_scale=mood))
    chart = HealthChart(session).data(me, "weight", "all")
    assert [p.value for p in chart.points] == [90.0, 81.0]
    assert [m.value for m in chart.mood] == [6.0]
    assert chart.points[-1].moment.startswith(days_ago(tuesday))  # dated by the week's first
    assert len(HealthChart(session).data(me, "weight", "1y").points) == 2  # a year: by day


def test_the_week_that_holds_new_year_is_one_week(session, me):
    """Tuesday 30 December 2025 to Friday 2 January 2026 is one week (Monday to Sunday);
    strftime('%W') would call it week 52 and week 00, two points of half a week each."""
    vitals, journal = Vitals(session), Journal(session)
    for day, weight, mood in (("2025-12-30", 80.0, 4), ("2026-01-02", 82.0, 6),
                              ("2026-01-05", 90.0, 9)):
        vitals.record(me, "weight", weight, measured_at=f"{day}T08:00")
        journal.create(me, EntryDraft(content="x", entry_date=day, mood_scale=mood))
    readings = Vitals(session).readings(me, "weight", by_week=True)
    assert [(r.measured_at[:10], r.value) for r in readings] == [
        ("2025-12-30", 81.0), ("2026-01-05", 90.0)]
    weeks = Journal(session).mood_and_sleep(me, dt.date(2025, 12, 1), dt.date(2026, 1, 31),
                                            by_week=True)
    assert [(day, mood) for day, mood, _ in weeks] == [("2025-12-30", 5.0), ("2026-01-05", 9.0)]
