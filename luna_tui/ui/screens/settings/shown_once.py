"""A key Luna generated (a new recovery key, an access key to hand over), shown once
until the person says they have written it down, as the welcome screen shows the
first recovery key."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from luna_tui.services.new_vault_words import recovery_key_groups
from luna_tui.ui.plain_text import plain


class ShownOnce(ModalScreen[None]):
    def __init__(self, title: str, explanation: str, secret: str, *,
                 shown: str | None = None) -> None:
        """`shown`: the secret as it is to be copied (default: a recovery key's groups)."""
        super().__init__()
        self.title_text, self.explanation, self.secret = title, explanation, secret
        self.shown = shown

    def compose(self) -> ComposeResult:
        groups = recovery_key_groups(self.secret)
        with Vertical(classes="dialog wide", id="shown-once"):
            yield Label(plain(self.title_text), classes="heading")
            yield Label(plain(self.explanation))
            yield Static(self.shown or "  ".join(groups[:4]) + "\n" + "  ".join(groups[4:]),
                         id="recovery-key")
            # On one line, compact: the whole dialog fits a terminal of 80×24.
            with Horizontal(classes="buttons"):
                yield Checkbox("I have written it down", id="written", compact=True)
                yield Button("Close", id="close", variant="primary", disabled=True,
                             compact=True)

    def on_mount(self) -> None:
        self.query_one("#written", Checkbox).focus()

    @on(Checkbox.Changed, "#written")
    def allow_close(self, event: Checkbox.Changed) -> None:
        self.query_one("#close", Button).disabled = not event.value

    @on(Button.Pressed, "#close")
    def close(self) -> None:
        self.secret = self.shown = ""
        self.dismiss(None)
