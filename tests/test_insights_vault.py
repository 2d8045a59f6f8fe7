"""Insights from a vault: a planted effect after a medication start is found with its
sign and lag, other changes and poor adherence are named as confounders, private
entries count only when asked, and `describe` says each verdict in one sentence."""

from __future__ import annotations

import datetime as dt

from insight_data import PLANTED_LAG, plant_mood
from luna_tui.services.insights.before_after import AnalysisSettings
from luna_tui.services.insights.rows import PairRow, describe
from luna_tui.services.insights.summary import insights_summary
from luna_tui.services.medications import Medications
from luna_tui.services.vitals import Vitals

FAST = AnalysisSettings(permutations=400, resamples=400)


def mood_row(rows):
    [row] = [r for r in rows if r.measure == "mood"]
    return row


def test_a_planted_rise_in_mood_is_a_clear_change_at_its_lag(session, clock):
    me, start = plant_mood(session, clock)
    row = mood_row(insights_summary(session, me, start, start, include_private=True,
                                    settings=FAST))
    assert (row.medication, row.event, row.date) == ("Metformin", "started",
                                                     start.isoformat())
    assert row.verdict == "clear change"
    assert row.difference > 1 and row.ci_low > 0
    assert abs(row.lag_days - PLANTED_LAG) <= 1
    assert (row.days_before, row.days_after) == (14, 14)
    assert describe(row).startswith(
        f"Mood rose by {row.difference:.1f} after Metformin started on ")
    assert f"from {row.lag_days} days after it: a clear change" in describe(row)


def test_the_same_vault_gives_the_same_numbers(session, clock):
    me, start = plant_mood(session, clock)
    first = insights_summary(session, me, start, start, include_private=True, settings=FAST)
    assert insights_summary(session, me, start, start, include_private=True,
                            settings=FAST) == first


def test_private_mood_counts_only_when_asked(session, clock):
    me, start = plant_mood(session, clock, privacy="private")
    assert insights_summary(session, me, start, start, settings=FAST) == []  # no measure
    shared_too = insights_summary(session, me, start, start, include_private=True,
                                  settings=FAST)
    assert [r.measure for r in shared_too] == ["mood"]


def test_no_change_planted_and_few_days(session, clock):
    me, start = plant_mood(session, clock, rise=0, privacy="shared")
    quiet = mood_row(insights_summary(session, me, start, start, settings=FAST))
    assert quiet.verdict == "no clear change" and quiet.lag_days is None
    assert describe(quiet).startswith(
        f"Mood after Metformin started on {start.day} {start:%b %Y}: no clear change (")
    # Blood pressure on only 5 days after the start: not enough data, said so.
    for day in range(5):
        Vitals(session).record(me, "bp", 120, 80, measured_at=(
            start + dt.timedelta(days=day)).isoformat() + "T08:00")
    rows = insights_summary(session, me, start, start, settings=FAST)
    systolic = next(r for r in rows if r.measure == "blood_pressure_systolic")
    assert (systolic.verdict, systolic.days_before, systolic.days_after) == (
        "not enough data", 0, 5)
    assert systolic.before_mean is None and systolic.lag_days is None
    assert "not enough data (0 days with data before, 5 after; 8 are needed" in describe(
        systolic)


def test_another_change_and_low_adherence_are_confounders(session, clock):
    me, start = plant_mood(session, clock, schedule="08:00", privacy="shared")
    metformin = Medications(session).find(me, "Metformin")
    for day in range(10):  # 10 of the window's scheduled doses taken
        Medications(session).log_dose(metformin.id, "taken", slot=(
            start + dt.timedelta(days=day)).isoformat() + "T08:00")
    other = Medications(session).create(me, "Sertraline", "50 mg", "once daily",
                                        start_date=(start - dt.timedelta(days=20)).isoformat())
    Medications(session).update(other.id, dosage="100 mg",
                                effective=(start + dt.timedelta(days=5)).isoformat())
    row = mood_row(r for r in insights_summary(session, me, start, start, settings=FAST)
                   if r.medication == "Metformin")
    changed, adherence = row.confounders
    assert changed.startswith("Sertraline dose changed (50 mg → 100 mg) on ")
    assert changed.endswith(", 5 days after.")
    assert adherence.startswith("Metformin was taken on ")
    assert "below 80 %" in adherence
    assert describe(row).endswith("Also in the window: " + " ".join(row.confounders))
    # The start of Sertraline, 20 days before, is outside Metformin's window.
    assert not any(c.startswith("Sertraline started") for c in row.confounders)


def test_pairs_are_described_with_their_verdict():
    clear = PairRow("sleep", "mood", "Sleep", "Mood", 0.62, 0.41, 0.78, 60, 1,
                    "clear association", 0.002)
    assert describe(clear) == (
        "Sleep and Mood rise together, with mood 1 day later: a clear association (rank "
        "correlation +0.62, 95 % interval +0.41 to +0.78, 60 days).")
    none = PairRow("mood", "weight", "Mood", "Weight", -0.1, -0.4, 0.2, 40, None,
                   "no clear association", 0.4)
    assert describe(none) == ("Mood and Weight: no clear association (rank correlation "
                              "−0.10, 95 % interval −0.40 to +0.20, 40 days).")
    thin = PairRow("mood", "weight", "Mood", "Weight", None, None, None, 5, None,
                   "not enough data", None)
    assert describe(thin) == "Mood and Weight: not enough data (5 days with both; 8 are needed)."
