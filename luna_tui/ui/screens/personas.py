"""Who can answer in the companion (o there): each persona, what it is for and what it
may read. n adds one, e or Enter edits the highlighted one (persona_form.py), x deletes
one of the person's own; the built-in ones can be edited, not deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from luna_tui.services.ai.personas import Personas
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.persona_form import PersonaFormScreen
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.list_table import ListTable

if TYPE_CHECKING:
    from luna_tui.services.ai.personas import PersonaView


class PersonasDialog(UsesVault, ModalScreen[None]):
    """Who can answer: each persona, what it is for and what it may read. n adds one,
    e or Enter edits the highlighted one, x deletes it; Escape closes."""

    BINDINGS = [
        Binding("escape,o", "dismiss(None)", "Close", id="personas.close"),
        Binding("n", "new", "New", id="personas.new"),
        Binding("e", "edit", "Edit", id="personas.edit"),
        Binding("x", "delete", "Delete", id="personas.delete"),
    ]

    def __init__(self, personas: list[PersonaView]) -> None:
        super().__init__()
        self.personas = personas

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Personas", classes="heading")
            yield ListTable(id="persona-list")
            yield Static("", id="persona-about")
            yield Label("n new · e or Enter edits · x deletes · Escape closes · n on the "
                        "companion screen starts a session with one", classes="muted")

    def on_mount(self) -> None:
        table = self.query_one("#persona-list", DataTable)
        table.add_column("Persona", key="name")
        table.add_column("Reads", key="reads")
        self._fill(None)
        table.focus()

    def _fill(self, keep: str | None) -> None:
        table = self.query_one("#persona-list", DataTable)
        table.clear()
        for persona in self.personas:
            name = plain(persona.name)
            if persona.builtin:
                name.append("  (built in)", style="dim")
            table.add_row(name, plain(", ".join(persona.data_access) or "nothing"),
                          key=persona.id)
        ids = [p.id for p in self.personas]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        self._describe()

    def _highlighted(self) -> PersonaView | None:
        table = self.query_one("#persona-list", DataTable)
        if not self.personas or table.cursor_row is None:
            return None
        return self.personas[min(table.cursor_row, len(self.personas) - 1)]

    @on(DataTable.RowHighlighted, "#persona-list")
    def _describe(self) -> None:
        persona = self._highlighted()
        text = Text()
        if persona is not None:
            if persona.description:
                text.append(plain(persona.description + "\n"))
            text.append(plain(f"reads: {', '.join(persona.data_access) or 'nothing'} · "
                              f"temperature {persona.temperature:g} · up to "
                              f"{persona.max_tokens} tokens", "dim"))
        self.query_one("#persona-about", Static).update(text)

    async def _reload(self, keep: str | None) -> None:
        try:
            self.personas = await self.vault.call(Personas(self.vault.open_session).list)
        except ServiceFailed:
            return
        self._fill(keep)

    async def action_new(self) -> None:
        await self._open_form(None)

    @on(DataTable.RowSelected, "#persona-list")
    async def action_edit(self) -> None:
        persona = self._highlighted()
        if persona is not None:
            await self._open_form(persona)

    async def _open_form(self, persona: PersonaView | None) -> None:
        if not self.vault.writable("create a persona" if persona is None else "edit a persona"):
            return

        async def saved(made: PersonaView | None) -> None:
            if made is not None:
                await self._reload(made.id)

        await self.app.push_screen(PersonaFormScreen(persona), saved)

    async def action_delete(self) -> None:
        persona = self._highlighted()
        if persona is None or not self.vault.writable("delete a persona"):
            return
        if persona.builtin:
            self.notify(f"'{persona.name}' is built in: it can be edited but not deleted.",
                        severity="warning")
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(Personas(self.vault.open_session).delete, persona.id)
            except ServiceFailed:
                return
            self.notify(f"Persona '{persona.name}' deleted.")
            await self._reload(None)

        await self.app.push_screen(ConfirmDialog(
            f"Delete the persona '{persona.name}'?",
            "Sessions that used it stay, with their messages; the Journal companion "
            "answers them from now on.", "Delete", danger=True), answered)
