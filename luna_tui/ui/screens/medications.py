"""Medications: the list (active first), the selected one's details — adherence over
7 / 30 / 90 days, supply, side effects and its history of starts, stops and dose
changes — and today's doses. t logs today's doses (t again: all due ones taken)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Static

from luna_tui.services.medications import Medications
from luna_tui.services.read_models.medications import MedicationsPlace
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.dose_sheet import DoseSheet
from luna_tui.ui.screens.medication_form import MedicationFormScreen, StopDialog
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.medications import (
        Adherence,
        DoseSlot,
        EventView,
        MedicationDetails,
        MedicationView,
    )

# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "add a medication", "edit": "change a medication",
                 "stop": "stop a medication", "delete": "delete a medication",
                 "log_doses": "log a dose"}
DOSE_MARKS = {"taken": ("✔", "green"), "late": ("✔", "yellow"), "missed": ("✘", "red"),
              "skipped": ("–", "dim")}
EVENT_WORDS = {"started": "started", "stopped": "stopped", "resumed": "resumed",
               "dose_changed": "dose changed"}


def medication_row(medication: MedicationView) -> tuple[object, ...]:
    name = plain(medication.name, style="" if medication.active else "dim")
    if not medication.active:
        name.append(" (stopped)", style="dim")
    return (name, *(plain(value or "") for value in (
        medication.dosage, medication.frequency, medication.route,
        medication.prescribing_doctor, medication.pharmacy, medication.rx_number)))


def adherence_text(adherence: Adherence) -> Text:
    percent = adherence.percent
    if percent is None:
        return Text("–", style="dim")
    style = "green" if percent >= 90 else "yellow" if percent >= 70 else "red"
    return Text(f"{percent:.0f}%", style=style)


def details_text(details: MedicationDetails, today: dt.date) -> Text:
    med = details.medication
    text = Text()
    text.append(plain(f"{med.name} {med.dosage}\n", "bold"))
    slots = " ".join(med.schedule) if med.schedule else "no set times"
    text.append(plain(f"{med.frequency} · {slots}", "dim"))
    if med.route:
        text.append(plain(f" · {med.route}", "dim"))
    text.append("\n")
    text.append_text(_adherence_grid(details.adherence))
    text.append_text(_supply_text(details, today))
    if med.side_effects:
        text.append("Side effects: ", style="bold")
        text.append(plain(f"{med.side_effects}\n"))
    if med.notes:
        text.append("Notes: ", style="bold")
        text.append(plain(f"{med.notes}\n"))
    text.append("History\n", style="bold")
    for event in reversed(details.events):
        text.append_text(_event_text(event))
    if not details.events:
        text.append("nothing recorded yet\n", style="dim")
    return text


def _adherence_grid(periods: dict[int, Adherence]) -> Text:
    """Doses taken of those due, and how many are not logged, per period."""
    text = Text()
    text.append("Adherence".ljust(14), style="bold")
    for days in periods:
        text.append(f"{days} d".rjust(7), style="dim")
    text.append("\n" + "  taken".ljust(14))
    for adherence in periods.values():
        shown = adherence_text(adherence)
        text.append(" " * (7 - len(shown.plain)))
        text.append_text(shown)
    text.append("\n" + "  of them late".ljust(14), style="dim")
    for adherence in periods.values():
        text.append(str(adherence.late).rjust(7), style="dim")
    text.append("\n" + "  not logged".ljust(14), style="dim")
    for adherence in periods.values():
        text.append(str(adherence.unlogged).rjust(7), style="dim")
    return text.append("\n")


def _supply_text(details: MedicationDetails, today: dt.date) -> Text:
    med, text = details.medication, Text()
    parts = []
    if details.days_of_supply is not None:
        parts.append(f"about {details.days_of_supply:.0f} days of supply left")
    if med.refill_date:
        due = dt.date.fromisoformat(med.refill_date)
        when = "today" if due == today else (f"in {(due - today).days} days" if due > today
                                             else f"{(today - due).days} days ago")
        parts.append(f"refill {med.refill_date} ({when})")
    if parts:
        short = details.days_of_supply is not None and details.days_of_supply < 7
        text.append("; ".join(parts).capitalize() + "\n", style="yellow" if short else "")
    return text


def _event_text(event: EventView) -> Text:
    text = Text(f"{event.event_date}  ", style="dim")
    text.append(plain(EVENT_WORDS.get(event.event_type, event.event_type)))
    if event.event_type == "dose_changed":
        text.append(plain(f" {event.old_value} → {event.new_value}"))
    elif event.new_value or event.old_value:
        text.append(plain(f" {event.new_value or event.old_value}", "dim"))
    if event.notes:
        text.append(plain(f" — {event.notes}", "italic"))
    return text.append("\n")


def doses_text(slots: list[DoseSlot]) -> Text:
    text = Text()
    if not slots:
        text.append("No doses scheduled today.", style="dim")
    for slot in slots:
        status = slot.dose.status if slot.dose else ""
        mark, style = DOSE_MARKS.get(status, ("○", ""))
        text.append(f"{mark} ", style=style)
        text.append(f"{slot.scheduled_at[-5:]}  ", style="dim")
        text.append(plain(f"{slot.medication.name} {slot.medication.dosage}"))
        if slot.dose:
            taken = f" {slot.dose.taken_at[-5:]}" if slot.dose.taken_at else ""
            text.append(f"  {status}{taken}", style=style)
        text.append("\n")
    return text


class MedicationsScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "Add", id="medications.new"),
        Binding("e", "edit", "Edit", id="medications.edit"),
        Binding("t", "log_doses", "Log doses", id="medications.log_doses"),
        Binding("s", "stop", "Stop/resume", id="medications.stop"),
        Binding("x", "delete", "Delete", id="medications.delete"),
        Binding("h", "toggle_stopped", "Show stopped", id="medications.stopped"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.medications: dict[str, MedicationView] = {}
        self.show_stopped = False
        self.slots: list[DoseSlot] = []

    def compose(self) -> ComposeResult:
        yield TopBar("Medications")
        yield Label("", id="medications-status", classes="muted")
        yield ListTable(id="medications")
        with Horizontal(id="medication-panels"):
            with VerticalScroll(id="medication-details", classes="panel"):
                yield Static(id="details-body")
            with VerticalScroll(id="today-doses", classes="panel"):
                yield Static(id="doses-body")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#medications", DataTable)
        table.add_columns("Name", "Dosage", "Frequency", "Route", "Prescriber", "Pharmacy",
                          "Rx")
        self.query_one("#medication-details").border_title = "Details"
        self.query_one("#today-doses").border_title = "Today's doses · t to log"
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None
        return True

    # -- loading --------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        patient = self.vault.patient_id
        if patient is None:
            return
        today = self.vault.clock.now().astimezone().date()
        place = MedicationsPlace(self.session)
        try:
            view = await self.vault.call(place.overview, patient, today,
                                        include_stopped=self.show_stopped)
        except ServiceFailed:
            return
        listed, self.slots = view.medications, view.doses
        self._fill_table(listed)
        self.query_one("#doses-body", Static).update(doses_text(self.slots))
        await self._show_details()

    def _fill_table(self, listed: list[MedicationView]) -> None:
        table = self.query_one("#medications", DataTable)
        selected = self._selected()
        table.clear()
        self.medications = {m.id: m for m in listed}
        for medication in listed:
            table.add_row(*medication_row(medication), key=medication.id)
        ids = list(self.medications)
        if selected is not None and selected.id in ids:
            table.move_cursor(row=ids.index(selected.id))
        active = sum(1 for m in listed if m.active)
        if not listed:
            status = ("No medications yet. Press n to add one." if not self.show_stopped
                      else "No medications, active or stopped. Press n to add one.")
        else:
            status = f"{active} active" + (
                f", {len(listed) - active} stopped" if self.show_stopped
                else " · h shows stopped ones too")
        self.query_one("#medications-status", Label).update(status)

    def _selected(self) -> MedicationView | None:
        table = self.query_one("#medications", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.medications.get(str(key.value))

    @on(DataTable.RowHighlighted, "#medications")
    async def _highlighted(self) -> None:
        await self._show_details()

    async def _show_details(self) -> None:
        body = self.query_one("#details-body", Static)
        medication = self._selected()
        if medication is None:
            body.update(Text("Choose a medication to see its adherence and history.",
                             style="dim"))
            return
        try:
            details = await self.vault.call(Medications(self.session).details, medication.id)
        except ServiceFailed:
            return
        if self._selected() is medication:  # still the one under the cursor
            today = self.vault.clock.now().astimezone().date()
            body.update(details_text(details, today))

    @on(DataTable.RowSelected, "#medications")
    async def _open(self) -> None:
        await self.action_edit()

    # -- changing -------------------------------------------------------------------------

    async def action_toggle_stopped(self) -> None:
        self.show_stopped = not self.show_stopped
        await self.refresh_data()

    async def action_new(self) -> None:
        if self.vault.writable("add a medication"):
            await self.app.push_screen(MedicationFormScreen(None), self._after_form)

    async def action_edit(self) -> None:
        medication = self._selected()
        if medication is not None and self.vault.writable("change a medication"):
            await self.app.push_screen(MedicationFormScreen(medication), self._after_form)

    async def _after_form(self, saved: MedicationView | None) -> None:
        if saved is not None:
            await self.refresh_data()

    async def action_stop(self) -> None:
        medication = self._selected()
        if medication is None or not self.vault.writable("stop a medication"):
            return
        service = Medications(self.session)
        if not medication.active:
            try:
                await self.vault.call(service.resume, medication.id)
            except ServiceFailed:
                return
            self.notify(f"{medication.name} resumed from today.")
            await self.refresh_data()
            return

        async def stopped(result: MedicationView | None) -> None:
            if result is not None:
                self.notify(f"{result.name} stopped on {result.end_date}; h shows stopped "
                            "medications.")
                await self.refresh_data()

        await self.app.push_screen(StopDialog(medication), stopped)

    async def action_delete(self) -> None:
        medication = self._selected()
        if medication is None or not self.vault.writable("delete a medication"):
            return
        service = Medications(self.session)
        try:
            details = await self.vault.call(service.details, medication.id)
        except ServiceFailed:
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(service.delete, medication.id)
            except ServiceFailed:
                return
            self.notify(f"{medication.name} deleted.")
            await self.refresh_data()

        doses = details.doses_logged
        await self.app.push_screen(ConfirmDialog(
            f"Delete {medication.name} {medication.dosage}?",
            f"This also deletes its {doses} logged dose{'s' if doses != 1 else ''} and its "
            "history. Stopping it (s) keeps them instead.", "Delete"), answered)

    async def action_log_doses(self) -> None:
        if not self.vault.writable("log a dose"):
            return
        if not self.slots:
            self.notify("No doses are scheduled today. Give a medication dose times (e) to "
                        "log them here.")
            return

        async def logged(count: int | None) -> None:
            if count:
                await self.refresh_data()

        session = self.vault.session
        if session is None:
            return
        try:
            window = await self.vault.call(Medications(session).dose_window)
        except ServiceFailed:
            return
        now = self.vault.clock.now().astimezone().replace(tzinfo=None)
        await self.app.push_screen(DoseSheet(self.slots, now, window), logged)
