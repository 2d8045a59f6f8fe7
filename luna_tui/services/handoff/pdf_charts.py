"""Simple line charts drawn with the PDF library's own lines: a series or two of
readings over the hand-off's period, the adult normal range shaded behind them, and
dashed vertical marks where a medication changed (numbered; the section lists them).

No plotting library: a chart here is a frame, a band, a polyline and a few labels,
which the PDF library draws directly, as vectors that print sharply at any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from luna_tui.services.handoff.pdf_text import FAMILY, drawable
from luna_tui.services.handoff.reference_ranges import ReferenceRange

BAND_FILL = (222, 241, 222)  # the normal range: a pale green
FRAME = (150, 150, 150)
MARK = (214, 120, 0)  # a medication change
SERIES_COLOURS = ((31, 90, 170), (150, 60, 150))
LABEL_SIZE = 6.5


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[dt.date, float]]


@dataclass(frozen=True)
class Chart:
    title: str
    start: dt.date
    end: dt.date
    series: Sequence[Series]
    bands: Sequence[ReferenceRange] = ()
    marks: Sequence[tuple[dt.date, str]] = field(default_factory=tuple)  # (day, label)
    scale: tuple[float, float] | None = None  # a fixed y axis (mood: 1 to 10)

    def value_span(self) -> tuple[float, float]:
        """The values the y axis shows: its fixed scale, else every reading and every
        band, with a margin."""
        if self.scale is not None:
            return self.scale
        values = [v for s in self.series for _, v in s.points]
        values += [b.low for b in self.bands] + [b.high for b in self.bands]
        low, high = min(values), max(values)
        margin = (high - low) * 0.1 or max(1.0, abs(high) * 0.1)
        return low - margin, high + margin


def draw_chart(pdf: Any, chart: Chart, x: float, y: float, w: float, h: float) -> None:
    """Draw `chart` in the box (x, y, w, h), in millimetres from the page's top left."""
    low, high = chart.value_span()
    days = max(1, (chart.end - chart.start).days)

    def at(day: dt.date, value: float) -> tuple[float, float]:
        return (x + w * (day - chart.start).days / days,
                y + h - h * (value - low) / (high - low))

    _bands(pdf, chart.bands, x, w, at, chart.start)
    pdf.set_draw_color(*FRAME)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, w, h)
    _marks(pdf, chart.marks, y, h, at)
    for colour, series in zip(SERIES_COLOURS, chart.series, strict=False):
        _line(pdf, series, colour, at)
    _labels(pdf, chart, low, high, x, y, w, h)


def _bands(pdf: Any, bands: Sequence[ReferenceRange], x: float, w: float, at: Any,
           start: dt.date) -> None:
    pdf.set_fill_color(*BAND_FILL)
    for band in bands:
        _, top = at(start, band.high)
        _, bottom = at(start, band.low)
        pdf.rect(x, top, w, bottom - top, style="F")


def _marks(pdf: Any, marks: Sequence[tuple[dt.date, str]], y: float, h: float,
           at: Any) -> None:
    pdf.set_draw_color(*MARK)
    pdf.set_text_color(*MARK)
    pdf.set_font(FAMILY, "B", LABEL_SIZE)
    pdf.set_dash_pattern(dash=1, gap=1)
    for day, label in marks:
        mx, _ = at(day, 0)
        pdf.line(mx, y, mx, y + h)
        pdf.text(mx + 0.6, y + 2.5, drawable(pdf, label))
    pdf.set_dash_pattern()
    pdf.set_text_color(0, 0, 0)


def _line(pdf: Any, series: Series, colour: tuple[int, int, int], at: Any) -> None:
    points = [at(day, value) for day, value in sorted(series.points)]
    pdf.set_draw_color(*colour)
    pdf.set_fill_color(*colour)
    pdf.set_line_width(0.35)
    if len(points) > 1:
        pdf.polyline(points)
    for px, py in points:  # each reading a dot, so a lone one shows too
        pdf.rect(px - 0.45, py - 0.45, 0.9, 0.9, style="F")
    pdf.set_line_width(0.2)


def _labels(pdf: Any, chart: Chart, low: float, high: float, x: float, y: float,
            w: float, h: float) -> None:
    pdf.set_font(FAMILY, "", LABEL_SIZE)
    pdf.set_text_color(90, 90, 90)
    pdf.text(x + 0.8, y + 2.5, f"{high:.3g}")
    pdf.text(x + 0.8, y + h - 0.8, f"{low:.3g}")
    pdf.text(x, y + h + 3, chart.start.isoformat())
    end = chart.end.isoformat()
    pdf.text(x + w - pdf.get_string_width(end), y + h + 3, end)
    legend = "   ".join(
        [f"— {s.label}" for s in chart.series]
        + [f"shaded: normal {b.what} {b.low:g}–{b.high:g} {b.unit}" for b in chart.bands])
    pdf.text(x + w / 2 - pdf.get_string_width(drawable(pdf, legend)) / 2, y + h + 3,
             drawable(pdf, legend))
    pdf.set_text_color(0, 0, 0)
