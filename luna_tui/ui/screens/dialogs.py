"""Small screens over the current one: confirm, pick a patient, see every key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Label, OptionList
from textual.widgets.option_list import Option

from luna_tui.ui.plain_text import plain

if TYPE_CHECKING:
    from luna_tui.services.patients import PatientView


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question that says what will happen. y or Enter on the button; n, Escape."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", confirm_label: str = "Yes", *,
                 danger: bool = True) -> None:
        super().__init__()
        self.question, self.detail, self.confirm_label = question, detail, confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Questions name what they are about ("Delete “Blood test”?"): plain text.
            yield Label(plain(self.question), classes="heading")
            if self.detail:
                yield Label(plain(self.detail), classes="muted")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.confirm_label} (y)", id="yes",
                             variant="error" if self.danger else "primary")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PatientPicker(ModalScreen[str | None]):
    """Whose data the screens show. Enter picks; Escape keeps the current one."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="picker.cancel")]

    def __init__(self, patients: list[PatientView], current: str | None) -> None:
        super().__init__()
        self.patients, self.current = patients, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Show whose data?", classes="heading")
            yield OptionList(*[
                Option(plain(("● " if p.id == self.current else "  ") + p.name
                             + (f"  ({p.relationship})" if p.relationship else "")), id=p.id)
                for p in self.patients
            ], id="patients")
            yield Label("Enter to choose · Escape to cancel · 8 for the patients list",
                        classes="muted")

    def on_mount(self) -> None:
        options = self.query_one("#patients", OptionList)
        options.focus()
        ids = [p.id for p in self.patients]
        if self.current in ids:
            options.highlighted = ids.index(self.current)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class KeysScreen(ModalScreen[None]):
    """`?`: every key of the screen underneath, with what it does."""

    BINDINGS = [Binding("escape,question_mark", "dismiss(None)", "Close", id="keys.close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.under = screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Keys on this screen", classes="heading")
            yield DataTable(id="keys", cursor_type="none", show_cursor=False)
            yield Label("Single-letter keys work when no text field has the focus. "
                        "Ctrl+P finds any command by name. Remap a key by its id in "
                        "config.toml (see the README).", classes="muted")

    def on_mount(self) -> None:
        from textual.app import App

        table = self.query_one("#keys", DataTable)
        table.add_columns("key", "does", "id (for config.toml)", "")
        actives = list(self.under.active_bindings.values())
        # Luna's own actions first (this screen's, then everywhere's), then how the focused
        # widget moves: people look for what they can do before how to scroll.
        actives.sort(key=lambda a: 0 if isinstance(a.node, Screen) else
                     1 if isinstance(a.node, App) else 2)
        seen = set()
        for active in actives:
            binding = active.binding
            action = binding.action.removeprefix("app.")  # a screen may repeat an app key
            if action in seen or not binding.description:
                continue
            seen.add(action)
            note = "" if active.enabled else "not available here"
            table.add_row(Text(self.app.get_key_display(binding), style="bold"),
                          binding.description, Text(binding.id or "", style="dim"),
                          Text(note, style="dim"))
