"""An insight's chart: its series on one time axis (days from the chart's first day,
with our own date labels, as the vitals chart has them), a second series on the right
axis when it is in other units, and the medication change as a red line."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from luna_tui.terminal_text import terminal_text
from luna_tui.ui.plain_text import plain

if TYPE_CHECKING:
    from luna_tui.services.read_models.insights import InsightChart

LINE_COLOURS = (3, 6)  # yellow, cyan: terminal colour numbers, the same to plotext and Rich
MARK_COLOUR = 1  # red
LEFT_TICKS_WIDTH = 7
TICK_SPACING = 12  # columns between two date labels at least
LABEL_LENGTH = 18


class InsightChartPlot(PlotextPlot):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.chart: InsightChart | None = None
        self.counts: dict[str, int] = {}  # what was drawn: points per line, and marks

    def show(self, chart: InsightChart | None) -> None:
        self.chart = chart
        self.counts = {} if chart is None else {
            **{line.label: len(line.points) for line in chart.lines},
            "marks": len(chart.marks)}
        self.set_class(chart is None or not any(line.points for line in chart.lines),
                       "empty")
        self.refresh()

    def legend(self) -> Text:
        """What each colour means, for a line under the chart."""
        legend = Text()
        if self.chart is None:
            return legend
        for line, colour in zip(self.chart.lines, LINE_COLOURS, strict=False):
            legend.append("━ ", style=f"color({colour})")
            side = " (right)" if line.side == "right" else ""
            legend.append(plain(f"{line.label}{side}  "))
        if self.chart.marks:
            legend.append("│ ", style=f"color({MARK_COLOUR})")
            legend.append("the change")
        return legend

    def render(self) -> RenderResult:
        chart = self.chart
        if chart is None:
            return Text("")
        if not any(line.points for line in chart.lines):
            return Text("No data to draw in these days", justify="center")
        self._draw(chart)
        return super().render()

    def _draw(self, chart: InsightChart) -> None:
        plt = self.plt
        plt.clear_data()
        plt.title(terminal_text(chart.title))
        plt.xlim(0, chart.days)
        plt.xticks(*_date_ticks(chart.start, chart.days,
                                max(1, self.size.width - LEFT_TICKS_WIDTH)))
        for line, colour in zip(chart.lines, LINE_COLOURS, strict=False):
            if line.points:
                xs = [day + 0.5 for day, _ in line.points]
                ys = [value for _, value in line.points]
                plt.plot(xs, ys, color=colour, marker="braille", yside=line.side)
                plt.scatter(xs, ys, color=colour, marker="•", yside=line.side)
        values = [v for line in chart.lines if line.side == "left" for _, v in line.points]
        # The change's label at the top, the lag's at the bottom: they are days apart,
        # closer than a label is long.
        heights = (max(values), min(values)) if values else (1.0, 0.0)
        for (day, label), height in zip(chart.marks, heights, strict=False):
            plt.vline(day, color=MARK_COLOUR)
            plt.text(terminal_text(label)[:LABEL_LENGTH], day + 0.5, height,
                     color=MARK_COLOUR)


def _date_ticks(start: dt.date, days: int, width: int) -> tuple[list[float], list[str]]:
    """Evenly spread days from first to last, as many as fit the width."""
    count = max(2, min(6, width // TICK_SPACING, days))
    spread = sorted({round(i * (days - 1) / (count - 1)) for i in range(count)})
    return ([d + 0.5 for d in spread],
            [(start + dt.timedelta(days=d)).strftime("%-d %b") for d in spread])
