"""The person's entry templates (T in the journal): n adds one, e or Enter edits the
highlighted one (template_form.py), x deletes it; Escape closes."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from luna_tui.services.entry_templates import EntryTemplates, TemplateView
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.template_form import TemplateFormScreen
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.list_table import ListTable

TYPE_NAMES = {"free": "free writing", "prompted": "prompted", "mood_check": "mood check"}


class TemplatesDialog(UsesVault, ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="templates.close"),
        Binding("n", "new", "New", id="templates.new"),
        Binding("e", "edit", "Edit", id="templates.edit"),
        Binding("x", "delete", "Delete", id="templates.delete"),
    ]

    def __init__(self, templates: list[TemplateView]) -> None:
        super().__init__()
        self.templates = templates

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Entry templates", classes="heading")
            yield ListTable(id="template-list")
            yield Static("", id="template-about")
            yield Label("n new · e or Enter edits · x deletes · Escape closes · n in the "
                        "journal writes from one", classes="muted")

    def on_mount(self) -> None:
        table = self.query_one("#template-list", DataTable)
        table.add_column("Template", key="name")
        table.add_column("Title", key="title")
        table.add_column("Type", key="type")
        self._fill(None)
        table.focus()

    def _fill(self, keep: str | None) -> None:
        table = self.query_one("#template-list", DataTable)
        table.clear()
        for template in self.templates:
            table.add_row(plain(template.name), plain(template.title or ""),
                          TYPE_NAMES.get(template.journal_type, template.journal_type),
                          key=template.id)
        ids = [t.id for t in self.templates]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        self._describe()

    def _highlighted(self) -> TemplateView | None:
        table = self.query_one("#template-list", DataTable)
        if not self.templates or table.cursor_row is None:
            return None
        return self.templates[min(table.cursor_row, len(self.templates) - 1)]

    @on(DataTable.RowHighlighted, "#template-list")
    def _describe(self) -> None:
        template = self._highlighted()
        text = Text()
        if template is None:
            text.append("No templates yet: n makes one (a name, a title like "
                        "\"Evening {date}\", headings to write under).", style="dim")
        else:
            asked = [what for what, yes in (("mood", template.asks_mood),
                                            ("sleep", template.asks_sleep)) if yes]
            text.append(plain(" ".join(f"#{tag}" for tag in template.tags) + "  ", "cyan"))
            text.append(plain(f"asks {' and '.join(asked) or 'neither mood nor sleep'}",
                              "dim"))
        self.query_one("#template-about", Static).update(text)

    async def _reload(self, keep: str | None) -> None:
        try:
            self.templates = await self.vault.call(EntryTemplates(self.vault.open_session).list)
        except ServiceFailed:
            return
        self._fill(keep)

    async def action_new(self) -> None:
        await self._open_form(None)

    @on(DataTable.RowSelected, "#template-list")
    async def action_edit(self) -> None:
        template = self._highlighted()
        if template is not None:
            await self._open_form(template)

    async def _open_form(self, template: TemplateView | None) -> None:
        if not self.vault.writable("save a template"):
            return

        async def saved(made: TemplateView | None) -> None:
            if made is not None:
                await self._reload(made.id)

        await self.app.push_screen(TemplateFormScreen(template), saved)

    async def action_delete(self) -> None:
        template = self._highlighted()
        if template is None or not self.vault.writable("delete a template"):
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(EntryTemplates(self.vault.open_session).delete,
                                      template.id)
            except ServiceFailed:
                return
            self.notify(f"Template '{template.name}' deleted.")
            await self._reload(None)

        await self.app.push_screen(ConfirmDialog(
            f"Delete the template '{template.name}'?",
            "Entries written from it stay as they are.", "Delete", danger=True), answered)
