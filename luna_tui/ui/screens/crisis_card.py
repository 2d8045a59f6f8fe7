"""The crisis card over the unlock screen: the lines the person chose from their safety
plan to see without the passphrase (services/safety/crisis_card.py). The plan key
(f1) opens it while the vault is locked; escape (or the key again) closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from luna_tui.services.safety.crisis_card import CardLine
from luna_tui.ui.plain_text import plain


class CrisisCardScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="crisis_card.close")]

    def __init__(self, lines: list[CardLine]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="crisis-card"):
            yield Label("Your crisis card", classes="heading")
            for number, line in enumerate(self.lines):
                yield Label(plain(f"• {line.text}"), id=f"card-line-{number}")
                yield Label(plain(f"  {line.section}"), classes="muted")
            yield Label("You chose these lines from your safety plan; the rest of the plan "
                        "opens with the same key once you unlock. Escape closes this.",
                        classes="muted", id="card-note")
