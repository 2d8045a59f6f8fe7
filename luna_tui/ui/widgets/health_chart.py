"""A vitals chart: one kind's readings on the left axis, the journal's mood (1–10) and
sleep (hours) on the right, medication changes as red lines with a short label.

The x axis counts days from the period's first day, with our own date labels: plotext
reads date strings as UTC but prints them in local time, which shifts a day's label
west of Greenwich. What was drawn is kept in `counts` ("the chart shows N points").
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from luna_tui.terminal_text import terminal_text
from luna_tui.ui.plain_text import plain

if TYPE_CHECKING:
    from luna_tui.services.health_chart import ChartData

# Terminal colour numbers: plotext and Rich name colours differently ("orange" is Rich's
# "yellow"), numbers mean the same to both, so the legend matches the lines.
VITAL_COLOUR = 6  # cyan
SECOND_COLOUR = 4  # blue
MOOD_COLOUR = 3  # yellow
SLEEP_COLOUR = 2  # green
EVENT_COLOUR = 1  # red
MOOD_TOP = 10
LEFT_TICKS_WIDTH = 7  # columns plotext keeps for the left axis' numbers, about
TICK_SPACING = 12  # columns between two date labels at least
LABEL_LENGTH = 22  # characters of an event's label beside its line
LABEL_ROWS = 3  # labels of events close together step down this many rows


class HealthChartPlot(PlotextPlot):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.data: ChartData | None = None
        self.overlay = True
        self.can_add = True
        self.counts: dict[str, int] = {}

    def show(self, data: ChartData, *, overlay: bool, can_add: bool = True) -> None:
        """Draw `data`; `overlay` adds mood and sleep; `can_add` offers the n key."""
        self.data, self.overlay, self.can_add = data, overlay, can_add
        self.counts = {
            "value": len(data.points),
            "value2": sum(p.value2 is not None for p in data.points),
            "mood": len(data.mood) if overlay else 0,
            "sleep": len(data.sleep) if overlay else 0,
            "events": len(data.events) if self._has_series() else 0,
        }
        self.set_class(not self._has_series(), "empty")
        self.refresh()

    @property
    def empty_message(self) -> str:
        data = self.data
        if data is None:
            return ""
        hint = " — press n to add one" if self.can_add else ""
        return f"No {data.label.lower()} readings in {data.period_words}{hint}"

    @property
    def title(self) -> str:
        data = self.data
        if data is None:
            return ""
        if not data.points:
            return self.empty_message
        unit = f" ({data.unit})" if data.unit else ""
        return f"{data.label}{unit} · {data.period_words.removeprefix('the ')}"

    def legend(self) -> Text:
        """What each colour means, for a line under the chart. (Medication changes are
        red lines; the screen lists them in words.)"""
        data = self.data
        legend = Text()
        if data is None:
            return legend
        if data.points:
            legend.append("left ", style="dim")
            self._key(legend, "systolic" if data.second_label else data.label.lower(),
                      VITAL_COLOUR)
            if data.second_label:
                self._key(legend, data.second_label, SECOND_COLOUR)
        if self.overlay and (data.mood or data.sleep):
            legend.append(" right ", style="dim")
            self._key(legend, "mood 1–10", MOOD_COLOUR)
            self._key(legend, "sleep h", SLEEP_COLOUR)
        return legend

    @staticmethod
    def _key(legend: Text, words: str, colour: int, mark: str = "━") -> None:
        legend.append(f"{mark} ", style=f"color({colour})")
        legend.append(plain(f"{words}  "))

    # -- drawing ------------------------------------------------------------------------

    def _has_series(self) -> bool:
        data = self.data
        return data is not None and bool(
            data.points or (self.overlay and (data.mood or data.sleep)))

    def render(self) -> RenderResult:
        if self.data is None:
            return Text("")
        if not self._has_series():
            return Text(terminal_text(self.empty_message, multiline=True), justify="center")
        self._draw(self.data)
        return super().render()

    def _draw(self, data: ChartData) -> None:
        """Rebuild the figure: the x labels depend on the width, known only now."""
        plt = self.plt
        plt.clear_data()
        plt.title(terminal_text(self.title))
        plt.xlim(0, data.days)
        ticks, labels = _date_ticks(data, max(1, self.size.width - LEFT_TICKS_WIDTH))
        plt.xticks(ticks, labels)
        if self.overlay:
            self._draw_overlay(data)  # first, so the readings are drawn over it
        if data.points:
            lower, upper = self._draw_vital(data)
            self._draw_events(data, lower, upper, "left")
        else:
            self._draw_events(data, 0, self._right_top(data), "right")

    def _draw_vital(self, data: ChartData) -> tuple[float, float]:
        """The readings on the left axis, with a dot on each; returns the axis' limits."""
        plt = self.plt
        xs = [_day_offset(data.start, p.moment) for p in data.points]
        series = [(xs, [p.value for p in data.points], VITAL_COLOUR)]
        if data.second_label:
            pairs = [(x, p.value2) for x, p in zip(xs, data.points, strict=True)
                     if p.value2 is not None]
            series.append(([x for x, _ in pairs], [v for _, v in pairs], SECOND_COLOUR))
        for x_values, y_values, colour in series:
            plt.plot(x_values, y_values, color=colour, marker="braille")
            plt.scatter(x_values, y_values, color=colour, marker="•")
        every = [v for _, y_values, _ in series for v in y_values]
        lower, upper, ticks = _nice_axis(min(every), max(every))
        plt.ylim(lower, upper)
        plt.yticks(ticks, [f"{t:g}" for t in ticks])
        return lower, upper

    def _draw_overlay(self, data: ChartData) -> None:
        plt = self.plt
        for series, colour in ((data.mood, MOOD_COLOUR), (data.sleep, SLEEP_COLOUR)):
            if series:
                xs = [_day_offset(data.start, d.day) + 0.5 for d in series]
                # Dots, not lines: a day-to-day zigzag would hide the readings; a band
                # of dots still shows mood or sleep shifting after a change.
                plt.scatter(xs, [d.value for d in series], color=colour, marker="braille",
                            yside="right")
        if data.mood or data.sleep:
            top = self._right_top(data)
            plt.ylim(0, top, yside="right")
            ticks = list(range(0, int(top) + 1, 2))
            plt.yticks(ticks, [str(t) for t in ticks], yside="right")

    @staticmethod
    def _right_top(data: ChartData) -> float:
        """Mood's 10, or more when someone slept longer; even, for ticks every 2."""
        top = max([MOOD_TOP] + [d.value for d in data.sleep])
        return float(math.ceil(top / 2) * 2)

    def _draw_events(self, data: ChartData, lower: float, upper: float, side: str) -> None:
        """A line per change, its label at the top; a label that would run into the one
        before steps down a row."""
        plt = self.plt
        days_per_column = data.days / max(1, self.size.width - LEFT_TICKS_WIDTH)
        row = (upper - lower) / max(1, self.size.height - 4)
        previous_end, step = -math.inf, 0
        for event in data.events:
            x = _day_offset(data.start, event.day)
            plt.vline(x, color=EVENT_COLOUR)
            label = terminal_text(event.short_label)[:LABEL_LENGTH]
            extent = (len(label) + 1) * days_per_column
            to_the_left = x + extent > data.days  # near the right edge: end at the line
            start = x - extent if to_the_left else x
            step = (step + 1) % LABEL_ROWS if start <= previous_end + days_per_column else 0
            previous_end = x if to_the_left else x + extent
            plt.text(label, x - days_per_column if to_the_left else x + days_per_column,
                     upper - step * row, color=EVENT_COLOUR,
                     alignment="right" if to_the_left else "left", yside=side)


def _day_offset(start: dt.date, moment: str) -> float:
    """Days from the start of the period's first day to `moment` (a date or date-time)."""
    when = dt.datetime.fromisoformat(moment)
    return (when - dt.datetime.combine(start, dt.time())).total_seconds() / 86400


def _date_ticks(data: ChartData, width: int) -> tuple[list[float], list[str]]:
    """Evenly spread days from first to last, as many as fit the width."""
    count = max(2, min(8, width // TICK_SPACING, data.days))
    form = "%-d %b" if data.days <= 400 else "%b %Y"
    days = sorted({round(i * (data.days - 1) / (count - 1)) for i in range(count)})
    return ([d + 0.5 for d in days],
            [(data.start + dt.timedelta(days=d)).strftime(form) for d in days])


def _nice_axis(low: float, high: float, steps: int = 4) -> tuple[float, float, list[float]]:
    """Limits a little beyond the readings, on round numbers, and the ticks between:
    76–80.4 kg becomes 75–81 with a tick every 1 kg, not 75.43, 76.25, …"""
    margin = (high - low) * 0.1 or max(0.5, abs(high) * 0.02)  # a flat line sits mid-way
    low, high = low - margin, high + margin
    rough = (high - low) / steps
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    lower, upper = math.floor(low / step) * step, math.ceil(high / step) * step
    ticks = [round(lower + i * step, 10) for i in range(round((upper - lower) / step) + 1)]
    return lower, upper, ticks
