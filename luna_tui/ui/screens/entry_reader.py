"""Reading one entry: the text rendered as Markdown, its details on the right."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static

from luna_tui.services.journal import Journal
from luna_tui.terminal_text import terminal_text
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.entry_editor import EntryEditorScreen
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.journal import Entry


def details(entry: Entry) -> Text:
    lines = Text()

    def line(label: str, value: object) -> None:
        if value not in (None, "", ()):
            lines.append(f"{label}\n", style="dim")
            lines.append(plain(f"{value}\n\n"))

    day = dt.date.fromisoformat(entry.entry_date).strftime("%A %d %B %Y")
    line("when", f"{day} {entry.entry_time}".strip())
    mood = " · ".join(p for p in (entry.mood, f"{entry.mood_scale}/10" if entry.mood_scale
                                  else None) if p)
    line("mood", mood)
    line("sleep", f"{entry.sleep_hours:g} hours" if entry.sleep_hours is not None else None)
    line("feeling", ", ".join(entry.emotions))
    line("tags", " ".join(f"#{t}" for t in entry.tags))
    line("type", entry.journal_type.replace("_", " "))
    line("prompt", entry.prompt)
    line("privacy", "private" if entry.privacy_level == "private" else "shared with therapist")
    line("favorite", "★" if entry.favorite else None)
    return lines


def lines_as_typed() -> MarkdownIt:
    """The parser Textual uses, but every line break is kept as typed: plain Markdown
    joins the lines of a paragraph into one (a soft break, shown as a space)."""
    parser = MarkdownIt("gfm-like", {"breaks": True})
    parser.core.ruler.push("keep_line_breaks", _hard_breaks)
    return parser


def _hard_breaks(state: StateCore) -> None:
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"


class EntryReaderScreen(UsesVault, Screen[bool]):
    """Dismisses with True when the entry changed (so the list reloads)."""

    READ_ONLY_REFUSES = {"edit": "change an entry", "favorite": "change an entry",
                         "delete": "delete an entry"}

    BINDINGS = [
        Binding("escape", "back", "Back", id="reader.back"),
        Binding("e", "edit", "Edit", id="reader.edit"),
        Binding("f", "favorite", "Favorite", id="reader.favorite"),
        Binding("x", "delete", "Delete", id="reader.delete"),
    ]

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self.entry = entry
        self.changed = False


    def compose(self) -> ComposeResult:
        yield TopBar("Journal")
        with Horizontal(id="reader"):
            with VerticalScroll(id="reader-text"):
                yield Static(plain(self.entry.title or ""), id="reader-title", classes="heading")
                # Markdown by design (people write it), but never terminal controls; a
                # line ended with Enter stays a line (no soft breaks joining them).
                yield Markdown(terminal_text(self.entry.content, multiline=True),
                               id="reader-body", parser_factory=lines_as_typed)
            yield Static(details(self.entry), id="reader-details", classes="panel")
        yield KeysFooter(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.READ_ONLY_REFUSES and self.vault.read_only:
            return None
        return True

    def _show(self, entry: Entry) -> None:
        self.entry = entry
        self.query_one("#reader-title", Static).update(plain(entry.title or ""))
        self.query_one("#reader-body", Markdown).update(
            terminal_text(entry.content, multiline=True))
        self.query_one("#reader-details", Static).update(details(entry))

    def action_back(self) -> None:
        self.dismiss(self.changed)

    async def action_edit(self) -> None:
        if not self.vault.writable("change an entry"):
            return

        def edited(entry: Entry | None) -> None:
            if entry is not None:
                self.changed = True
                self._show(entry)

        await self.app.push_screen(EntryEditorScreen(self.entry), edited)

    async def action_favorite(self) -> None:
        if not self.vault.writable("change an entry") or self.vault.session is None:
            return
        try:
            entry = await self.vault.call(Journal(self.vault.session).toggle_favorite,
                                         self.entry.id)
        except ServiceFailed:
            return
        self.changed = True
        self._show(entry)

    async def action_delete(self) -> None:
        if not self.vault.writable("delete an entry"):
            return

        async def answered(yes: bool | None) -> None:
            if not yes or self.vault.session is None:
                return
            try:
                await self.vault.call(Journal(self.vault.session).delete, self.entry.id)
            except ServiceFailed:
                return
            self.notify("Entry deleted.")
            self.dismiss(True)

        await self.app.push_screen(ConfirmDialog(
            f"Delete this entry of {self.entry.entry_date}?",
            "It is removed from the journal and from search, for good.", "Delete"), answered)
