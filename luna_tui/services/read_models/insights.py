"""The Insights place: the medication changes with their verdicts, the pairs of series,
and the chart of whichever is selected. The data is read in one trip to the DB thread
(`InsightsPlace.inputs`); the statistics (`compute`) run off it, in a worker thread."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.insights.before_after import AnalysisSettings
from luna_tui.services.insights.rows import InsightRow, PairRow
from luna_tui.services.insights.summary import (
    InsightInputs,
    Insights,
    analyse_changes,
    analyse_pairs,
    pair_series,
)


@dataclass(frozen=True)
class ChartLine:
    label: str
    side: str  # "left" or "right": which y axis it is read on
    points: tuple[tuple[int, float], ...]  # (day from the chart's first day, value)


@dataclass(frozen=True)
class InsightChart:
    title: str
    start: dt.date
    days: int
    lines: tuple[ChartLine, ...]
    marks: tuple[tuple[int, str], ...]  # (day, label): the change, and its lag when clear


@dataclass(frozen=True)
class InsightsView:
    rows: list[InsightRow]
    pairs: list[PairRow]
    inputs: InsightInputs

    def change_chart(self, row: InsightRow) -> InsightChart:
        """The measure around the change: before and after in two colours, the change
        marked (and the start of the after-window, for a clear change at a lag)."""
        settings = self.inputs.settings
        day = dt.date.fromisoformat(row.date)
        start = day - dt.timedelta(days=settings.window)
        measure = next(m for m in self.inputs.measures if m.key == row.measure)
        values = measure.between(start, settings.segment_days)
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        unit = f" ({row.unit})" if row.unit else ""
        marks = [(settings.window, f"{row.medication} {row.event}")]
        if row.lag_days:
            marks.append((settings.window + row.lag_days, f"+{row.lag_days} days"))
        return InsightChart(
            f"{row.measure_label}{unit} around {row.medication} {row.event}", start,
            settings.segment_days,
            (ChartLine("before", "left", tuple(p for p in points if p[0] < settings.window)),
             ChartLine("after", "left", tuple(p for p in points if p[0] >= settings.window))),
            tuple(marks))

    def pair_chart(self, pair: PairRow) -> InsightChart:
        """The two series of a pair on one time axis, the first on the left."""
        inputs = self.inputs
        series = next(s for s in pair_series(inputs) if s[:2] == (pair.first, pair.second))
        days = (inputs.pairs_end - inputs.pairs_start).days + 1
        lines = tuple(
            ChartLine(label, side, tuple(
                ((dt.date.fromisoformat(day) - inputs.pairs_start).days, value)
                for day, value in sorted(values.items())
                if inputs.pairs_start.isoformat() <= day <= inputs.pairs_end.isoformat()))
            for label, side, values in ((pair.first_label, "left", series[4]),
                                        (pair.second_label, "right", series[5])))
        return InsightChart(f"{pair.first_label} and {pair.second_label}",
                            inputs.pairs_start, days, lines, ())


class InsightsPlace(DomainService):
    @on_db_thread
    def inputs(self, patient_id: str, *, window: int = AnalysisSettings.window,
               include_private: bool = True,
               settings: AnalysisSettings | None = None) -> InsightInputs:
        """Every medication change and the data around it; the person's own private
        entries count (it is their own screen)."""
        return Insights(self.session).inputs(
            patient_id, include_private=include_private,
            settings=settings or AnalysisSettings(window=window))


def compute(inputs: InsightInputs) -> InsightsView:
    """The statistics of the place (seconds of numpy at most: run it off the event
    loop and off the DB thread)."""
    return InsightsView(analyse_changes(inputs), analyse_pairs(inputs), inputs)
