"""Appointments: upcoming (soonest first) or past (latest first, more as you scroll),
the selected one's reason, preparation and outcome below. c records how it went,
f books its follow-up, i exports it (or all upcoming) to a calendar file."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from luna_tui.services.appointments import Appointments
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.appointment_form import AppointmentFormScreen
from luna_tui.ui.screens.calendar_dialog import CalendarExportDialog
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.appointments import AppointmentCursor, AppointmentView

PAGE_SIZE = 50
LOAD_AHEAD = 10
# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "add an appointment", "edit": "change an appointment",
                 "complete": "change an appointment", "follow_up": "book a follow-up",
                 "delete": "delete an appointment"}
TYPE_LABELS = {"routine": "routine", "follow_up": "follow-up", "specialist": "specialist",
               "emergency": "emergency", "other": "other"}
STATUS_STYLES = {"scheduled": "", "rescheduled": "yellow", "completed": "green",
                 "cancelled": "dim strike"}


def appointment_row(appointment: AppointmentView) -> tuple[object, ...]:
    day = dt.date.fromisoformat(appointment.appointment_date)
    status = Text(appointment.status, style=STATUS_STYLES.get(appointment.status, ""))
    follow_up = Text("follow-up due", style="yellow") if appointment.follow_up_required else ""
    return (day.strftime("%a %d %b %Y"), appointment.appointment_time or "all day",
            plain(TYPE_LABELS.get(appointment.appointment_type, appointment.appointment_type)),
            plain(appointment.provider_name or ""), plain(appointment.location or ""), status,
            follow_up)


def details_text(appointment: AppointmentView, follow_ups: list[AppointmentView]) -> Text:
    text = Text()
    when = dt.date.fromisoformat(appointment.appointment_date).strftime("%A %-d %B %Y")
    if appointment.appointment_time:
        when += f", {appointment.appointment_time}"
        if appointment.duration_minutes:
            when += f" for {appointment.duration_minutes} min"
    text.append(when + "\n", style="bold")
    for label, value in (("Reason", appointment.reason),
                         ("Preparation", appointment.preparation_notes),
                         ("Outcome", appointment.outcome_summary)):
        if value:
            text.append(f"{label}: ", style="bold")
            text.append(plain(f"{value}\n"))
    if appointment.follow_up_of:
        text.append("A follow-up of an earlier appointment.\n", style="dim")
    for follow_up in follow_ups:
        text.append(f"Follow-up booked: {follow_up.appointment_date} "
                    f"{follow_up.appointment_time or ''}\n", style="dim")
    if appointment.follow_up_required and not follow_ups:
        text.append("A follow-up is needed: press f to book it.\n", style="yellow")
    return text


class AppointmentsScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "Add", id="appointments.new"),
        Binding("e", "edit", "Edit", id="appointments.edit"),
        Binding("c", "complete", "Outcome", id="appointments.complete"),
        Binding("f", "follow_up", "Follow-up", id="appointments.follow_up"),
        Binding("i", "export", "Calendar", id="appointments.export"),
        Binding("x", "delete", "Delete", id="appointments.delete"),
        Binding("u", "toggle_past", "Past", id="appointments.past"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.appointments: dict[str, AppointmentView] = {}
        self.showing_past = False
        self.next_cursor: AppointmentCursor | None = None
        self.loading_more = False

    def compose(self) -> ComposeResult:
        yield TopBar("Appointments")
        yield Label("", id="appointments-status", classes="muted")
        yield ListTable(id="appointments")
        with VerticalScroll(id="appointment-details", classes="panel"):
            yield Static(id="appointment-body")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#appointments", DataTable)
        table.add_columns("Date", "Time", "Type", "Provider", "Location", "Status", "")
        self.query_one("#appointment-details").border_title = "Details"
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None
        return True

    # -- loading --------------------------------------------------------------------------

    def _lister(self):  # noqa: ANN202 - a bound service method

        service = Appointments(self.session)
        return service.past if self.showing_past else service.upcoming

    async def refresh_data(self) -> None:
        patient = self.vault.patient_id
        if patient is None:
            return
        try:
            page = await self.vault.call(self._lister(), patient, limit=PAGE_SIZE)
        except ServiceFailed:
            return
        table = self.query_one("#appointments", DataTable)
        selected = self._selected()
        table.clear()
        self.appointments.clear()
        self._add(page.appointments)
        self.next_cursor = page.next_cursor
        ids = list(self.appointments)
        if selected is not None and selected.id in ids:
            table.move_cursor(row=ids.index(selected.id))
        self._show_status()
        await self._show_details()

    def _add(self, appointments: list[AppointmentView]) -> None:
        table = self.query_one("#appointments", DataTable)
        for appointment in appointments:
            if appointment.id not in self.appointments:
                self.appointments[appointment.id] = appointment
                table.add_row(*appointment_row(appointment), key=appointment.id)

    async def _load_more(self) -> None:
        if self.loading_more or self.next_cursor is None:
            return
        self.loading_more = True
        try:
            page = await self.vault.call(self._lister(), self.vault.patient_id, limit=PAGE_SIZE,
                                        after=self.next_cursor)
            self._add(page.appointments)
            self.next_cursor = page.next_cursor
            self._show_status()
        except ServiceFailed:
            pass
        finally:
            self.loading_more = False

    def _show_status(self) -> None:
        count = len(self.appointments)
        which = "past" if self.showing_past else "upcoming"
        other = "upcoming" if self.showing_past else "past"
        if count == 0:
            text = (f"No {which} appointments. Press n to add one, u to see {other} ones.")
        else:
            more = " · more as you scroll" if self.next_cursor else ""
            text = f"{count} {which}{more} · u shows {other} ones"
        self.query_one("#appointments-status", Label).update(text)

    def _selected(self) -> AppointmentView | None:
        table = self.query_one("#appointments", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.appointments.get(str(key.value))

    @on(DataTable.RowHighlighted, "#appointments")
    async def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - LOAD_AHEAD:
            await self._load_more()
        await self._show_details()

    async def _show_details(self) -> None:
        body = self.query_one("#appointment-body", Static)
        appointment = self._selected()
        if appointment is None:
            body.update(Text("Nothing to show.", style="dim"))
            return
        try:
            follow_ups = await self.vault.call(Appointments(self.session).follow_ups,
                                              appointment.id)
        except ServiceFailed:
            return
        if self._selected() is appointment:
            body.update(details_text(appointment, follow_ups))

    @on(DataTable.RowSelected, "#appointments")
    async def _open(self) -> None:
        await self.action_edit()

    # -- changing -------------------------------------------------------------------------

    async def action_toggle_past(self) -> None:
        self.showing_past = not self.showing_past
        self.query_one("#appointments", DataTable).move_cursor(row=0)
        await self.refresh_data()

    async def action_new(self) -> None:
        if self.vault.writable("add an appointment"):
            await self.app.push_screen(AppointmentFormScreen(None), self._after_form(None))

    async def action_edit(self, *, completing: bool = False) -> None:
        appointment = self._selected()
        if appointment is not None and self.vault.writable("change an appointment"):
            await self.app.push_screen(AppointmentFormScreen(appointment, completing=completing),
                                       self._after_form(appointment))

    async def action_complete(self) -> None:
        await self.action_edit(completing=True)

    async def action_follow_up(self) -> None:
        appointment = self._selected()
        if appointment is not None and self.vault.writable("book a follow-up"):
            await self.app.push_screen(AppointmentFormScreen(None, follow_up_of=appointment),
                                       self._after_form(None))

    def _after_form(self, before: AppointmentView | None):  # noqa: ANN202 - a callback
        """Reload after a save; offer to book the follow-up the moment one is needed."""

        async def after(saved: AppointmentView | None) -> None:
            if saved is None:
                return
            await self.refresh_data()
            if saved.follow_up_required and not (before and before.follow_up_required):
                await self._offer_follow_up(saved)

        return after

    async def _offer_follow_up(self, appointment: AppointmentView) -> None:
        async def answered(yes: bool | None) -> None:
            if yes:
                await self.app.push_screen(
                    AppointmentFormScreen(None, follow_up_of=appointment), self._after_form(None))

        await self.app.push_screen(ConfirmDialog(
            "Book the follow-up now?", "You can also book it later: select the appointment "
            "and press f.", "Book it", danger=False), answered)

    async def action_delete(self) -> None:
        appointment = self._selected()
        if appointment is None or not self.vault.writable("delete an appointment"):
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(Appointments(self.session).delete, appointment.id)
            except ServiceFailed:
                return
            self.notify("Appointment deleted.")
            await self.refresh_data()

        who = appointment.provider_name or "the appointment"
        await self.app.push_screen(ConfirmDialog(
            f"Delete {who} on {appointment.appointment_date}?",
            "Its notes and outcome go too; a follow-up booked from it stays. Setting its "
            "status to cancelled (e) keeps it instead.", "Delete"), answered)

    async def action_export(self) -> None:
        await self.app.push_screen(CalendarExportDialog(
            self._selected(), upcoming=not self.showing_past))
