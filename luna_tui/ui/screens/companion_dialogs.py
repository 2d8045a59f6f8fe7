"""The companion's dialogs: what would be sent (the preview), starting a session,
renaming one, and pinning a message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from luna_tui.services.ai.memory import PIN_CATEGORIES, URGENCIES
from luna_tui.services.ai.sessions import SESSION_TYPES
from luna_tui.ui.plain_text import field_text, plain

if TYPE_CHECKING:
    from luna_tui.services.ai.personas import PersonaView
    from luna_tui.services.ai.sending import Preview

TYPE_LABELS = {"chat": "Chat", "check_in": "Check-in", "appointment_prep": "Appointment prep",
               "journal_reflection": "Journal reflection"}


class PreviewScreen(ModalScreen[None]):
    """Exactly the text that would go to the model, scrollable. Escape closes."""

    BINDINGS = [Binding("escape,v,ctrl+o", "dismiss(None)", "Close", id="preview.close")]

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        preview = self.preview
        kinds = ", ".join(preview.context.kinds) or "nothing of your records"
        with Vertical(classes="dialog wide", id="preview-dialog"):
            yield Label(plain(f"Exactly what goes to {preview.model} at {preview.base_url}"),
                        classes="heading")
            yield Label(f"{len(preview.messages)} messages · context of about "
                        f"{preview.context.tokens:,} tokens with: {kinds}. The AI can read "
                        "this; it can't change anything.", classes="muted")
            with VerticalScroll(id="preview-scroll"):
                yield Static(plain(preview.text), id="preview-text")
            yield Label("↑↓ PgUp PgDn scroll · Escape closes", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#preview-scroll").focus()


class NewSessionDialog(ModalScreen[tuple[str, str, str | None] | None]):
    """A persona, a type and an optional title. Enter or Start; Escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="new-session.cancel")]

    def __init__(self, personas: list[PersonaView]) -> None:
        super().__init__()
        self.personas = personas

    def compose(self) -> ComposeResult:
        default = next((p.id for p in self.personas if p.id == "persona-journal-companion"),
                       self.personas[0].id if self.personas else Select.BLANK)
        with Vertical(classes="dialog"):
            yield Label("Start a session", classes="heading")
            yield Label("Who answers", classes="field-label")
            yield Select([(plain(p.name), p.id) for p in self.personas], value=default,
                         allow_blank=False, id="persona")
            yield Label("", id="persona-about", classes="muted")
            yield Label("Kind of session", classes="field-label")
            yield Select([(TYPE_LABELS[t], t) for t in SESSION_TYPES], value="chat",
                         allow_blank=False, id="session-type")
            yield Label("Title (optional: the first message names it)", classes="field-label")
            yield Input(id="title", placeholder="Enter starts the session")
            with Horizontal(classes="buttons"):
                yield Button("Start", id="go", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self._describe()
        self.query_one("#title", Input).focus()

    @on(Select.Changed, "#persona")
    def _describe(self) -> None:
        chosen = self.query_one("#persona", Select).value
        persona = next((p for p in self.personas if p.id == chosen), None)
        self.query_one("#persona-about", Label).update(
            plain((persona.description or "") if persona else ""))

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def go(self) -> None:
        title = self.query_one("#title", Input).value.strip() or None
        self.dismiss((str(self.query_one("#persona", Select).value),
                      str(self.query_one("#session-type", Select).value), title))

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)


class RenameDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="rename.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_now = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rename the session", classes="heading")
            yield Input(field_text(self.title_now), id="title", max_length=80)
            yield Label("Enter renames · Escape cancels", classes="muted")

    @on(Input.Submitted)
    def go(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class PinDialog(ModalScreen[tuple[str, str, str] | None]):
    """Pin a message: its category, importance (0 to 1) and urgency."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="pin.cancel"),
        Binding("ctrl+s", "go", "Pin", id="pin.save"),
    ]

    def __init__(self, content: str) -> None:
        super().__init__()
        self.content = content

    def compose(self) -> ComposeResult:
        flat = " ".join(self.content.split())
        with Vertical(classes="dialog"):
            yield Label("Pin this message", classes="heading")
            yield Label(plain(flat if len(flat) <= 160 else flat[:159] + "…"), classes="muted")
            yield Label("Category", classes="field-label")
            yield Select([(c, c) for c in PIN_CATEGORIES], value="other", allow_blank=False,
                         id="category")
            yield Label("Importance, 0 to 1", classes="field-label")
            yield Input("0.5", id="importance")
            yield Label("Urgency", classes="field-label")
            yield Select([(u, u) for u in URGENCIES], value="normal", allow_blank=False,
                         id="urgency")
            with Horizontal(classes="buttons"):
                yield Button("Pin (ctrl+s)", id="go", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#category", Select).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def action_go(self) -> None:
        self.dismiss((str(self.query_one("#category", Select).value),
                      self.query_one("#importance", Input).value,
                      str(self.query_one("#urgency", Select).value)))

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)
