"""Exporting appointments to a calendar file (.ics): the selected one or every upcoming
one, to a path the person can change. The file is not encrypted, and the dialog says so
before anything is written."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from luna_tui.errors import LunaError
from luna_tui.services.calendar_export import CalendarExport
from luna_tui.services.export_files import private_output
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error

if TYPE_CHECKING:
    from luna_tui.services.appointments import AppointmentView
    from luna_tui.services.calendar_export import CalendarFile


def default_path(appointment: AppointmentView | None) -> str:
    name = (f"appointment-{appointment.appointment_date}.ics" if appointment
            else "luna-appointments.ics")
    return str(Path("~") / name)


class CalendarExportDialog(UsesVault, ModalScreen[int | None]):
    """Dismisses with how many appointments were written, or None."""

    BINDINGS = [
        Binding("ctrl+s,f2", "export", "Export", id="ics.export", priority=True),
        Binding("escape", "dismiss(None)", "Cancel", id="ics.cancel"),
    ]

    def __init__(self, appointment: AppointmentView | None, *, upcoming: bool = True) -> None:
        super().__init__()
        self.appointment = appointment
        self.upcoming = upcoming


    def compose(self) -> ComposeResult:
        one = self.appointment
        with Vertical(classes="dialog wide"):
            yield Label("Export to your calendar (.ics)", classes="heading")
            with RadioSet(id="which"):
                if one is not None:
                    who = f" with {one.provider_name}" if one.provider_name else ""
                    yield RadioButton(plain(f"This appointment: {one.appointment_date}{who}"),
                                      value=True, id="one")
                yield RadioButton("Every appointment from today on", value=one is None,
                                  id="upcoming")
            yield Field("save as", Input(default_path(one), id="path", compact=True))
            yield Label("The file is NOT encrypted, and calendar apps may copy it to the "
                        "cloud. Delete it once your calendar has it.", classes="warning-text")
            with Horizontal(classes="buttons"):
                yield Button("Export (ctrl+s)", id="export", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(RadioSet.Changed, "#which")
    def _suggest_path(self, event: RadioSet.Changed) -> None:
        path = self.query_one("#path", Input)
        suggestions = {default_path(self.appointment), default_path(None)}
        if path.value in suggestions:  # left as suggested: follow the choice
            chosen = self.appointment if event.pressed.id == "one" else None
            path.value = default_path(chosen)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#path")
    async def action_export(self) -> None:
        clear_errors(self)
        text = self.query_one("#path", Input).value.strip()
        if not text:
            show_field_error(self, "path", "Say where to save the file, e.g. ~/visit.ics.")
            return
        chosen = self._chosen()
        target = await asyncio.to_thread(_resolved_target, text, chosen)
        try:
            written = await self.vault.attempt(self._write, target, chosen)
        except (LunaError, ServiceFailed) as error:
            show_field_error(self, "path", str(error))
            return
        plural = "s" if written.count != 1 else ""
        self.notify(f"Wrote {written.count} appointment{plural} to {target}. It is not "
                    "encrypted: delete it once your calendar has it."
                    + written.left_out_sentence(), timeout=10)
        self.dismiss(written.count)

    def _chosen(self) -> AppointmentView | None:
        one = self.query("#one")
        return self.appointment if one and one.first(RadioButton).value else None

    def _write(self, target: Path, chosen: AppointmentView | None) -> CalendarFile:
        """Runs in a thread: the service reads on the DB thread, then the file is written."""
        session = self.vault.session
        if session is None:
            raise LunaError("The vault is locked.")
        export = CalendarExport(session)
        calendar = (export.one(chosen.id) if chosen is not None
                    else export.upcoming(self.vault.patient_id))
        if calendar.count == 0:
            raise LunaError("There are no appointments from today on to export.")
        with private_output(str(target), binary=True) as out:
            out.write(calendar.data)
        return calendar


def _resolved_target(text: str, chosen: AppointmentView | None) -> Path:
    """Where the file goes: a folder typed gets the default name (reads the disk, so it
    runs in a thread)."""
    target = Path(text).expanduser()
    if target.is_dir():
        target = target / Path(default_path(chosen)).name
    return target
