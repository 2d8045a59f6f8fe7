"""Logging today's doses in one or two keys: the sheet opens with every dose that is
due and not yet logged already ticked, so `t` then `t` marks them all taken. Space
ticks or unticks one; m, l and k mark the ticked ones missed, late or skipped. With
nothing ticked, a key marks the highlighted dose.

Due means its window has opened (services.medications.DoseWindow, the rule the shell
follows too): taken before that, the sheet asks first; after the window, the service
stores it as late."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList
from textual.widgets.selection_list import Selection

from luna_tui.services.medications import DoseWindow, Medications, slot_moment
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from luna_tui.services.medications import DoseSlot


def slot_label(slot: DoseSlot) -> Text:
    text = Text(f"{slot.scheduled_at[-5:]}  ", style="bold")
    text.append(plain(f"{slot.medication.name} {slot.medication.dosage}"))
    if slot.dose is not None:
        text.append(f"  already {slot.dose.status}", style="dim")
    return text


def is_due(slot: DoseSlot, now: dt.datetime, window: DoseWindow) -> bool:
    """Due: its window has opened and nothing is logged for it yet."""
    return slot.dose is None and window.opens(slot_moment(slot.scheduled_at)) <= now


class DoseSheet(UsesVault, ModalScreen[int | None]):
    """Dismisses with how many doses were logged (None when closed without logging)."""

    BINDINGS = [
        Binding("t", "log('taken')", "Taken", id="doses.taken"),
        Binding("m", "log('missed')", "Missed", id="doses.missed"),
        Binding("l", "log('late')", "Late", id="doses.late"),
        Binding("k", "log('skipped')", "Skipped", id="doses.skipped"),
        Binding("a", "tick_all", "Tick all", id="doses.all"),
        Binding("escape", "dismiss(None)", "Close", id="doses.close"),
    ]

    def __init__(self, slots: list[DoseSlot], now: dt.datetime, window: DoseWindow) -> None:
        super().__init__()
        self.slots, self.now, self.window = slots, now, window

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Today's doses", classes="heading")
            yield SelectionList[int](*[
                Selection(slot_label(slot), index, is_due(slot, self.now, self.window))
                for index, slot in enumerate(self.slots)
            ], id="dose-slots")
            yield Label("Space ticks doses; a key marks every ticked one, or the highlighted "
                        "one if none is ticked.", classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        listing = self.query_one("#dose-slots", SelectionList)
        listing.focus()
        unlogged = [i for i, slot in enumerate(self.slots) if slot.dose is None]
        if unlogged:
            listing.highlighted = unlogged[0]  # the next dose to see to

    def action_tick_all(self) -> None:
        self.query_one("#dose-slots", SelectionList).select_all()

    async def action_log(self, status: str) -> None:
        listing = self.query_one("#dose-slots", SelectionList)
        picked = listing.selected or (
            [] if listing.highlighted is None else [listing.highlighted])
        chosen = [self.slots[i] for i in picked]
        if not chosen:
            return
        now = self.vault.clock.now().astimezone().replace(tzinfo=None)
        early = [slot for slot in chosen if status in ("taken", "late")
                 and self.window.judge(slot_moment(slot.scheduled_at), now) == "early"]
        if not early:
            await self._log(chosen, status, early=False)
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._log(chosen, status, early=True)

        first = early[0]
        opens = self.window.opens(slot_moment(first.scheduled_at)).strftime("%H:%M")
        more = f" and {len(early) - 1} more" if len(early) > 1 else ""
        await self.app.push_screen(ConfirmDialog(
            f"Log the {first.scheduled_at[-5:]} dose{more} as {status} now, ahead of time?",
            f"Its window opens at {opens}. Say yes only if you took it now.",
            "Log it", danger=False), answered)

    async def _log(self, chosen: list[DoseSlot], status: str, *, early: bool) -> None:
        session = self.vault.session
        if session is None:
            return
        pairs = [(slot.medication.id, slot.scheduled_at) for slot in chosen]
        try:
            await self.vault.call(Medications(session).log_doses, pairs, status, early=early)
        except ServiceFailed:
            return
        count = len(pairs)
        self.notify(f"Logged {count} dose{'s' if count != 1 else ''} as {status}.")
        self.dismiss(count)
