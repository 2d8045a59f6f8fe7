"""A patient's insights: every medication change against every measure, and the pairs
of series over the last days, from the vault's data.

Loading (`Insights.inputs`, on the DB thread) is apart from computing (`analyse_changes`,
`analyse_pairs`: numpy, anywhere), so the app computes in a worker thread without
holding the vault's one connection. `insights_summary` does both, for the hand-off
packet; it leaves private entries' mood out unless asked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.insights.before_after import AnalysisSettings, analyse_change
from luna_tui.services.insights.daily_series import DailySeries, Measure
from luna_tui.services.insights.lagged_correlation import analyse_pair
from luna_tui.services.insights.medication_changes import MedicationChange, MedicationChanges
from luna_tui.services.insights.resampling import seed_from
from luna_tui.services.insights.rows import InsightRow, PairRow
from luna_tui.services.medications import Medications
from luna_tui.services.vault_session import VaultSession

PAIR_DAYS = 90  # pairs are looked at over the last this many days
SOURCES = ("mood", "sleep", "vitals")  # Measure.source: what a measure is read from
Progress = Callable[[int, int], None]  # (analyses done, analyses in all)


@dataclass(frozen=True)
class AdherenceSeries:
    medication: str
    days: dict[str, float]  # YYYY-MM-DD → percent of the day's doses taken


@dataclass(frozen=True)
class InsightInputs:
    """Everything the analyses read, loaded in one trip to the DB thread."""

    changes: list[MedicationChange]
    confounders: list[list[str]]  # for each change
    measures: list[Measure]
    adherence: list[AdherenceSeries]
    pairs_start: dt.date
    pairs_end: dt.date
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)


class Insights(DomainService):
    @on_db_thread
    def inputs(self, patient_id: str, start: dt.date | None = None,
               end: dt.date | None = None, *, include_private: bool = True,
               settings: AnalysisSettings | None = None,
               pair_days: int = PAIR_DAYS) -> InsightInputs:
        """The changes from `start` to `end` (default: all, up to today) with the data
        around them, and the last `pair_days` days up to `end` for the pairs."""
        settings = settings or AnalysisSettings()
        end = end or self.today()
        pairs_start = end - dt.timedelta(days=pair_days - 1)
        every = MedicationChanges(self.session)
        changes = every.changes(patient_id, start, end)
        all_changes = every.changes(patient_id)
        first = min([c.day for c in changes] + [pairs_start]) - dt.timedelta(
            days=settings.window)
        last = max([c.day for c in changes] + [end]) + dt.timedelta(
            days=settings.segment_days - settings.window - 1)
        confounders = [every.confounders(change, all_changes, *_window(change, settings))
                       for change in changes]
        measures = DailySeries(self.session).measures(patient_id, first, last,
                                                      include_private=include_private)
        adherence = [AdherenceSeries(m.name, every.daily_adherence(m.id, pairs_start, end))
                     for m in Medications(self.session).list(patient_id,
                                                             include_stopped=True)
                     if m.schedule]
        return InsightInputs(changes, confounders, measures,
                             [a for a in adherence if a.days], pairs_start, end, settings)


def _window(change: MedicationChange, settings: AnalysisSettings) -> tuple[dt.date, dt.date]:
    """The first and last day an analysis of `change` reads."""
    first = change.day - dt.timedelta(days=settings.window)
    return first, first + dt.timedelta(days=settings.segment_days - 1)


def analyse_changes(inputs: InsightInputs, progress: Progress | None = None
                    ) -> list[InsightRow]:
    """One row per (change, measure), newest change first; `progress` is told after
    each (the permutation tests make a long record take seconds)."""
    settings = inputs.settings
    total = len(inputs.changes) * len(inputs.measures)
    rows = []
    for change, confounders in zip(inputs.changes, inputs.confounders, strict=True):
        first, _ = _window(change, settings)
        for measure in inputs.measures:
            values = measure.between(first, settings.segment_days)
            seed = seed_from(f"{change.medication_id}|{change.day}|{change.event}|"
                             f"{measure.key}|{settings}", values)
            result = analyse_change(values, settings, seed)
            rows.append(InsightRow(
                medication=change.medication, event=change.event,
                date=change.day.isoformat(), measure=measure.key,
                measure_label=measure.label, unit=measure.unit,
                before_mean=result.before_mean, after_mean=result.after_mean,
                difference=result.difference, ci_low=result.ci_low, ci_high=result.ci_high,
                days_before=result.days_before, days_after=result.days_after,
                lag_days=result.lag_days, verdict=result.verdict,
                confounders=tuple(confounders), window=settings.window,
                p_value=result.p_value, medication_id=change.medication_id))
            if progress is not None:
                progress(len(rows), total)
    rows.sort(key=lambda row: row.date, reverse=True)  # stable: measures stay in order
    return rows


def pair_series(inputs: InsightInputs) -> list[tuple[str, str, str, str, dict[str, float],
                                                     dict[str, float]]]:
    """The pairs looked at, each as (first key, second key, first label, second label,
    first days, second days), the first series leading: sleep then mood; mood then
    each vital; each medication's adherence then sleep."""
    by_key = {m.key: m for m in inputs.measures}
    mood, sleep = by_key.get("mood"), by_key.get("sleep")
    pairs = []
    if sleep and mood:
        pairs.append((sleep.key, mood.key, sleep.label, mood.label, sleep.days, mood.days))
    if mood:
        pairs += [(mood.key, m.key, mood.label, m.label, mood.days, m.days)
                  for m in inputs.measures if m.key not in ("mood", "sleep")]
    if sleep:
        pairs += [(f"adherence:{a.medication}", sleep.key, f"{a.medication} doses taken",
                   sleep.label, a.days, sleep.days) for a in inputs.adherence]
    return pairs


def analyse_pairs(inputs: InsightInputs) -> list[PairRow]:
    settings = inputs.settings
    days = (inputs.pairs_end - inputs.pairs_start).days + 1
    rows = []
    for first_key, second_key, first_label, second_label, first, second in pair_series(
            inputs):
        xs = Measure(first_key, first_label, "", first).between(inputs.pairs_start, days)
        ys = Measure(second_key, second_label, "", second).between(inputs.pairs_start, days)
        result = analyse_pair(xs, ys, max_lag=settings.max_lag,
                              permutations=settings.permutations,
                              resamples=settings.resamples,
                              seed=seed_from(f"{first_key}|{second_key}", xs, ys))
        rows.append(PairRow(first_key, second_key, first_label, second_label, result.rho,
                            result.ci_low, result.ci_high, result.paired_days,
                            result.lag_days, result.verdict, result.p_value))
    return rows


def insights_summary(session: VaultSession, patient_id: str, start: dt.date, end: dt.date,
                     include_private: bool = False,
                     settings: AnalysisSettings | None = None, *,
                     sources: Collection[str] = SOURCES,
                     progress: Progress | None = None) -> list[InsightRow]:
    """The rows for the changes from `start` to `end`, as the hand-off packet shows
    them (private entries' mood left out unless `include_private`), for the measures
    read from `sources` only (a hand-off without its vitals weighs no vital). Not on
    the DB thread: the reads go there, the analyses run here."""
    inputs = Insights(session).inputs(patient_id, start, end,
                                      include_private=include_private, settings=settings)
    inputs = dataclasses.replace(inputs, measures=[m for m in inputs.measures
                                                   if m.source in sources])
    return analyse_changes(inputs, progress)
