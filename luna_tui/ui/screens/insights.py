"""Insights (key i): did a medication change move mood, sleep or a vital, and which
series move together; said honestly ("not enough data", "no clear change").

The first tab lists each (change, measure) with its verdict; the highlighted one's
sentence (services/insights/rows.describe, the wording of `luna insights` and of the
hand-off) and its chart: the measure before and after, the change marked. The second
tab does the same for pairs of series. The statistics run in a worker, off the event
loop and off the DB thread, and come back as a message; w changes the window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static, TabbedContent, TabPane

from luna_tui.services.insights.rows import describe
from luna_tui.services.read_models.insights import InsightsPlace, compute
from luna_tui.ui.messages import InsightsComputed
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.insight_chart import InsightChartPlot
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.insights.rows import InsightRow, PairRow
    from luna_tui.services.read_models.insights import InsightsView

WINDOWS = (14, 21, 28)  # days on each side, cycled by w
VERDICT_STYLES = {"clear change": "bold", "clear association": "bold"}


def verdict_cell(verdict: str) -> Text:
    return plain(verdict, style=VERDICT_STYLES.get(verdict, "dim"))


def detail_text(row: InsightRow | PairRow) -> Text:
    """The sentence, then how sure: the p-value corrected for choosing among lags."""
    text = plain(describe(row))
    if row.p_value is not None:
        text.append(f"\n\np = {row.p_value:.3f}, corrected for choosing among lags 0–7",
                    style="dim")
    return text


class InsightsScreen(PlaceScreen):
    CSS_PATH = "insights.tcss"
    BINDINGS = [Binding("w", "window", "Window", id="insights.window")]

    def __init__(self) -> None:
        super().__init__()
        self.window = WINDOWS[0]
        self.view: InsightsView | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("Insights")
        with TabbedContent(id="insights-tabs"):
            with TabPane("Medication changes", id="tab-changes"):
                yield ListTable(id="changes")
                with Horizontal(classes="insight-body"):
                    yield Static(id="change-detail", classes="insight-detail")
                    with Vertical(classes="insight-chart"):
                        yield InsightChartPlot(id="change-chart")
                        yield Static(id="change-legend", classes="insight-legend")
            with TabPane("Pairs", id="tab-pairs"):
                yield ListTable(id="pairs")
                with Horizontal(classes="insight-body"):
                    yield Static(id="pair-detail", classes="insight-detail")
                    with Vertical(classes="insight-chart"):
                        yield InsightChartPlot(id="pair-chart")
                        yield Static(id="pair-legend", classes="insight-legend")
        yield Label("", id="insights-status", classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#changes", DataTable).add_columns("Date", "Change", "Measure",
                                                          "Verdict")
        self.query_one("#pairs", DataTable).add_columns("First", "Then", "Verdict")
        self.query_one("#changes", DataTable).focus()

    async def refresh_data(self) -> None:
        if self.vault.patient_id is not None:
            self._status(f"Computing insights over {self.window} days each side…")
            self.compute_insights()

    @work(exclusive=True, group="insights", exit_on_error=False)
    async def compute_insights(self) -> None:
        """Read the data (DB thread), compute (a thread of its own), report back."""
        patient, session, window = self.vault.patient_id, self.session, self.window
        try:
            inputs = await self.vault.call(InsightsPlace(session).inputs, patient,
                                           window=window)
            view = await self.vault.call(compute, inputs)
        except ServiceFailed:
            return
        self.post_message(InsightsComputed(patient, window, view))

    @on(InsightsComputed)
    def show_insights(self, message: InsightsComputed) -> None:
        if (message.patient_id, message.window) != (self.vault.patient_id, self.window):
            return  # a newer computation is under way
        self.view = view = message.view
        changes = self.query_one("#changes", DataTable)
        changes.clear()
        for number, row in enumerate(view.rows):
            changes.add_row(plain(row.date), plain(f"{row.medication} {row.event}"),
                            plain(row.measure_label), verdict_cell(row.verdict),
                            key=str(number))
        pairs = self.query_one("#pairs", DataTable)
        pairs.clear()
        for number, pair in enumerate(view.pairs):
            pairs.add_row(plain(pair.first_label), plain(pair.second_label),
                          verdict_cell(pair.verdict), key=str(number))
        clear = sum(row.verdict == "clear change" for row in view.rows)
        self._status(f"{len(view.rows)} result{'s' if len(view.rows) != 1 else ''}, "
                     f"{clear} clear · {self.window} days each side · w: window")
        self._show_change(0)
        self._show_pair(0)

    @on(DataTable.RowHighlighted, "#changes")
    def change_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_change(event.cursor_row)

    @on(DataTable.RowHighlighted, "#pairs")
    def pair_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_pair(event.cursor_row)

    def _show_change(self, index: int) -> None:
        rows = self.view.rows if self.view is not None else []
        self._show("change", rows, index, lambda row: self.view.change_chart(row),
                   "No medication changes yet: insights compare the days before a medication "
                   "is started, stopped or changed with the days after.")

    def _show_pair(self, index: int) -> None:
        pairs = self.view.pairs if self.view is not None else []
        self._show("pair", pairs, index, lambda pair: self.view.pair_chart(pair),
                   "No pairs yet: mood with sleep or a vital, and sleep with a medication's "
                   "doses, once both are recorded.")

    def _show(self, tab: str, results: list, index: int, chart_of, empty: str) -> None:  # noqa: ANN001
        """One tab's detail, chart and legend: the result at `index`, or why there is none."""
        detail = self.query_one(f"#{tab}-detail", Static)
        chart = self.query_one(f"#{tab}-chart", InsightChartPlot)
        if not results:
            detail.update(empty)
            chart.show(None)
        else:
            result = results[min(index, len(results) - 1)]
            detail.update(detail_text(result))
            chart.show(chart_of(result))
        self.query_one(f"#{tab}-legend", Static).update(chart.legend())

    def _status(self, text: str) -> None:
        self.query_one("#insights-status", Label).update(plain(text))

    async def action_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        await self.refresh_data()
