"""Vitals: the kinds on the left with their latest reading; on the right the chart of
the highlighted kind (with mood and sleep from the journal and medication changes) and
its readings, newest first, a page at a time as you scroll.

n adds a reading, x deletes the highlighted one, r cycles the period (30 days, 90 days,
a year, all), m shows or hides mood and sleep."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static

from luna_tui.services.health_chart import PERIODS, HealthChart, kind_label
from luna_tui.services.read_models.vitals import VitalsPlace
from luna_tui.services.vitals import KINDS, Vitals
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.health_chart import HealthChartPlot
from luna_tui.ui.widgets.list_table import ListTable, cell_text
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.health_chart import ChartData
    from luna_tui.services.vitals import VitalCursor, VitalPage, VitalView

PAGE_SIZE = 50
LOAD_AHEAD = 10  # fetch the next page when the cursor is this close to the end
# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "record a reading", "delete": "delete a reading"}
NOTES_WIDTH = 30


def reading_row(vital: VitalView) -> tuple:
    when = cell_text(dt.datetime.fromisoformat(vital.measured_at).strftime("%a %d %b %Y  %H:%M"))
    notes = " ".join((vital.notes or "").split())
    if len(notes) > NOTES_WIDTH:
        notes = notes[: NOTES_WIDTH - 1] + "…"
    return when, plain(vital.display_value, style="bold"), plain(notes, style="dim")


def settings_text(period: str, overlay: bool) -> Text:
    """The chart's two switches, each after its key, the current period highlighted."""
    text = Text()
    text.append("r ", style="bold")
    text.append("period ", style="dim")
    for choice in PERIODS:
        text.append(f" {choice} ", style="reverse bold" if choice == period else "")
    text.append("\nm ", style="bold")
    text.append("mood & sleep ", style="dim")
    text.append(" shown" if overlay else " hidden")
    return text


def summary_text(data: ChartData) -> Group:
    """The period in numbers and the medication changes in it, for the side column."""
    text = Text()
    text.append(plain(f"{data.label} · {data.period_words.removeprefix('the ')}\n", "bold"))
    if data.points:
        text.append(plain(_in_numbers(data)))
    else:
        text.append("no readings\n", style="dim")
    return Group(text, _events_table(data))


def _in_numbers(data: ChartData) -> str:
    """'18 readings, 77.7–81.2 kg / average 79.5 kg / −3.5 kg since 29 Aug'."""
    points, unit = data.points, data.unit
    if len(points) == 1:
        return f"1 reading: {_pair(points[0].value, points[0].value2)} {unit}\n"
    values = [p.value for p in points]
    seconds = [p.value2 for p in points if p.value2 is not None]
    average = _pair(sum(values) / len(values), sum(seconds) / len(seconds) if seconds else None)
    change = values[-1] - values[0]
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    since = dt.date.fromisoformat(points[0].moment[:10]).strftime("%-d %b")
    return (f"{len(points)} readings, {_number(min(values))}–{_number(max(values))} {unit}\n"
            f"average {average} {unit}\n"
            f"{sign}{_number(abs(change))} {unit} since {since}\n")


def _events_table(data: ChartData, shown: int = 4) -> Table | Text:
    """The newest medication changes, dated: the chart's red lines in words."""
    if not data.events:
        return Text("")
    table = Table.grid(padding=(0, 1))
    table.title = Text("Medication changes", style="bold")
    table.title_justify = "left"
    table.add_column(style="red", no_wrap=True)
    table.add_column()
    newest = list(reversed(data.events))
    for event in newest[:shown]:
        table.add_row(dt.date.fromisoformat(event.day).strftime("%-d %b"), plain(event.summary))
    if len(newest) > shown:
        table.add_row("", Text(f"and {len(newest) - shown} earlier", style="dim"))
    return table


def _pair(value: float, value2: float | None) -> str:
    return _number(value) + ("" if value2 is None else "/" + _number(value2))


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


class VitalsScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "New", id="vitals.new"),
        Binding("x", "delete", "Delete", id="vitals.delete"),
        Binding("r", "period", "Period", id="vitals.period"),
        Binding("m", "overlay", "Mood & sleep", id="vitals.overlay"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind = "weight"
        self.period = PERIODS[0]
        self.overlay = True
        self.latest: dict[str, VitalView] = {}
        self.readings: dict[str, VitalView] = {}
        self.next_cursor: VitalCursor | None = None
        self.loading_more = False

    def compose(self) -> ComposeResult:
        yield TopBar("Vitals")
        with Horizontal(id="vitals-body"):
            with Vertical(id="vitals-side"):
                yield ListTable(id="kinds")
                yield Static(id="chart-settings")
                yield Static(id="kind-summary")
                yield Label("↑↓ kind · Enter: its readings", id="vitals-keys",
                            classes="muted")
            with Vertical(id="vitals-main"):
                yield HealthChartPlot(id="chart")
                yield Static(id="chart-legend")
                yield Label("", id="readings-status", classes="muted")
                yield ListTable(id="readings")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        _, self.latest_column = self.query_one("#kinds", DataTable).add_columns("Kind", "Latest")
        readings = self.query_one("#readings", DataTable)
        readings.add_columns("When", "Reading", "Notes")
        self.watch(readings, "scroll_y", self._scrolled, init=False)
        self.query_one("#kinds", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None  # shown, greyed: the key's rights, not the screen, forbid it
        return True

    @property
    def chart(self) -> HealthChartPlot:
        return self.query_one("#chart", HealthChartPlot)

    # -- loading ------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        patient, session = self.vault.patient_id, self.session
        if patient is None:
            return
        kind, period = self.kind, self.period
        try:
            view = await self.vault.call(VitalsPlace(session).overview, patient, kind, period,
                                        page_size=PAGE_SIZE)
        except ServiceFailed:
            return
        latest, in_use, chart, page = (view.latest, view.kinds_in_use, view.shown.chart,
                                       view.shown.page)
        self._fill_kinds(latest, in_use)
        self._show_chart(chart)
        self._show_first_page(page)

    def _fill_kinds(self, latest: dict[str, VitalView], in_use: list[str]) -> None:
        self.latest = latest
        table = self.query_one("#kinds", DataTable)
        kinds = list(KINDS) + [k for k in in_use if k not in KINDS]
        if [row.value for row in table.rows] == kinds:
            # Same rows: update in place, so the cursor stays and no highlight fires.
            for kind in kinds:
                table.update_cell(kind, self.latest_column, self._latest_cell(kind),
                                  update_width=True)
        else:
            table.clear()
            for kind in kinds:
                table.add_row(plain(kind_label(kind)), self._latest_cell(kind), key=kind)
        if self.kind not in kinds:
            self.kind = kinds[0]
        if table.cursor_row != kinds.index(self.kind):
            table.move_cursor(row=kinds.index(self.kind))

    def _latest_cell(self, kind: str) -> Text:
        reading = self.latest.get(kind)
        return plain(reading.display_value) if reading else Text("—", style="dim")

    def _show_chart(self, data: ChartData) -> None:
        chart = self.chart
        chart.show(data, overlay=self.overlay, can_add=not self.vault.read_only)
        self.query_one("#chart-legend", Static).update(chart.legend())
        self.query_one("#kind-summary", Static).update(summary_text(data))
        self.query_one("#chart-settings", Static).update(settings_text(self.period,
                                                                       self.overlay))

    def _show_first_page(self, page: VitalPage) -> None:
        self.query_one("#readings", DataTable).clear()
        self.readings.clear()
        self._add(page)

    def _add(self, page: VitalPage) -> None:
        table = self.query_one("#readings", DataTable)
        for vital in page.vitals:
            if vital.id not in self.readings:
                self.readings[vital.id] = vital
                table.add_row(*reading_row(vital), key=vital.id)
        self.next_cursor = page.next_cursor
        self._status()

    def _status(self) -> None:
        count, label = len(self.readings), kind_label(self.kind).lower()
        if count == 0:
            text = f"No {label} readings yet." + ("" if self.vault.read_only
                                                  else " Press n to add one.")
        else:
            more = " · more as you scroll" if self.next_cursor else ""
            text = f"{count} {label} reading{'' if count == 1 else 's'}, newest first{more}"
        self.query_one("#readings-status", Label).update(plain(text))

    @on(DataTable.RowHighlighted, "#kinds")
    def kind_highlighted(self, event: DataTable.RowHighlighted) -> None:
        kind = str(event.row_key.value)
        if kind != self.kind:
            self.kind = kind
            self.load_kind()

    @on(DataTable.RowSelected, "#kinds")
    def to_readings(self) -> None:
        self.query_one("#readings", DataTable).focus()

    @work(exclusive=True, group="vitals-kind", exit_on_error=False)
    async def load_kind(self) -> None:
        """The chart and first page of the highlighted kind; moving on cancels it."""
        patient, session, kind, period = (self.vault.patient_id, self.session, self.kind,
                                          self.period)
        try:
            shown = await self.vault.call(VitalsPlace(session).kind, patient, kind, period,
                                         page_size=PAGE_SIZE)
        except ServiceFailed:
            return
        chart, page = shown.chart, shown.page
        if (kind, period) == (self.kind, self.period):  # else a newer load is under way
            self._show_chart(chart)
            self._show_first_page(page)

    async def _load_chart(self) -> None:
        kind, period = self.kind, self.period
        try:
            chart = await self.vault.call(HealthChart(self.session).data, self.vault.patient_id,
                                         kind, period)
        except ServiceFailed:
            return
        if (kind, period) == (self.kind, self.period):
            self._show_chart(chart)

    async def _load_more(self) -> None:
        if self.loading_more or self.next_cursor is None:
            return
        self.loading_more = True
        try:
            page = await self.vault.call(Vitals(self.session).page, self.vault.patient_id,
                                        kind=self.kind, limit=PAGE_SIZE, after=self.next_cursor)
            self._add(page)
        except ServiceFailed:
            pass
        finally:
            self.loading_more = False

    @on(DataTable.RowHighlighted, "#readings")
    async def near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - LOAD_AHEAD:
            await self._load_more()

    async def _scrolled(self, scroll_y: float) -> None:
        """Scrolling (mouse, End, Page Down) near the bottom loads the next page too."""
        table = self.query_one("#readings", DataTable)
        if scroll_y >= table.max_scroll_y - LOAD_AHEAD:
            await self._load_more()

    # -- the chart's settings -------------------------------------------------------------

    async def action_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        await self._load_chart()

    def action_overlay(self) -> None:
        self.overlay = not self.overlay
        chart = self.chart
        if chart.data is not None:
            self._show_chart(chart.data)

    # -- acting on readings -----------------------------------------------------------------

    def _selected(self) -> VitalView | None:
        table = self.query_one("#readings", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.readings.get(str(key.value))

    async def action_new(self) -> None:
        from luna_tui.ui.screens.vital_form import VitalFormScreen

        if self.vault.writable("record a reading"):
            await self.app.push_screen(VitalFormScreen(self.kind, self.latest),
                                       self._after_form)

    async def _after_form(self, saved: VitalView | None) -> None:
        if saved is not None:
            self.kind = saved.kind
            await self.refresh_data()

    async def action_delete(self) -> None:
        from luna_tui.ui.screens.dialogs import ConfirmDialog

        vital = self._selected()
        if vital is None:
            self.notify(f"There is no {kind_label(self.kind).lower()} reading to delete.")
            return
        if not self.vault.writable("delete a reading"):
            return
        when = dt.datetime.fromisoformat(vital.measured_at).strftime("%d %b %Y %H:%M")
        question = f"Delete the {kind_label(vital.kind).lower()} reading of {when}?"

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._delete(vital)

        await self.app.push_screen(ConfirmDialog(
            question, f"{vital.display_value} goes from the chart and the list, for good.",
            "Delete"), answered)

    async def _delete(self, vital: VitalView) -> None:
        try:
            await self.vault.call(Vitals(self.session).delete, vital.id)
        except ServiceFailed:
            return
        self.notify(f"Reading of {vital.display_value} deleted.")
        await self.refresh_data()
