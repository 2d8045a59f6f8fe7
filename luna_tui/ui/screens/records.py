"""Medical records: lab results, visit notes, scans — newest event first, the selected
one's details and files below. `/` searches as you type (titles, descriptions, tags,
notes and the text of attached files); `#tag` in the search keeps one tag; t cycles the
type shown. a attaches files, o opens the record's files (view, save a copy)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Static

from luna_tui.services.read_models.records import RecordsPlace
from luna_tui.services.records import RECORD_TYPES, Records, RecordView
from luna_tui.services.text_search import snippet_parts
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.attach_dialog import AttachFilesScreen
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.screens.record_files import RecordFilesScreen
from luna_tui.ui.screens.record_form import RecordFormScreen
from luna_tui.ui.search_snippet import highlighted_snippet, taken_from
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.records import RecordView

PAGE_SIZE = 100  # more load as the cursor nears the end
LOAD_AHEAD = 10
SEARCH_LIMIT = 100
SEARCH_DELAY = 0.25  # seconds of quiet typing before a search runs
TITLE_WIDTH = 36  # with the other columns, a row fits 100 columns
TAGS_WIDTH = 18
NOTE_LINES = 4  # of the person's own notes, in the details
# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "add a record", "edit": "change a record", "delete": "delete a record",
                 "attach": "attach files"}
EMPTY = "No records yet. Press n to add one — a lab result, a visit note, a scan."


def record_row(record: RecordView, snippet: Text | None = None) -> tuple[object, ...]:
    when = (dt.date.fromisoformat(record.event_date).strftime("%a %d %b %Y")
            if record.event_date else Text("no date", style="dim"))
    title = plain(record.title)
    if snippet is not None:  # a search shows where its words matched
        # (once: a snippet taken from the title is the title, highlighted)
        title = (snippet if taken_from(snippet.plain, record.title)
                 else Text.assemble(plain(record.title + " · ", "bold"), snippet))
    title.truncate(TITLE_WIDTH, overflow="ellipsis")
    tags = plain(" ".join(f"#{t}" for t in record.tags), style="cyan")
    tags.truncate(TAGS_WIDTH, overflow="ellipsis")
    count = len(record.attachments)
    files = f"{count} file{'' if count == 1 else 's'}" if count else ""
    return when, plain(record.type_label), title, tags, files


def snippet_text(snippet: str) -> Text:
    """A search snippet with its matched words highlighted, as the journal shows them."""
    return highlighted_snippet(snippet_parts(snippet))


def details_text(record: RecordView, snippet: Text | None, *, whole: bool = False) -> Text:
    """`whole`: every line of the notes (a read-only key can't open the editor to read
    them; the panel scrolls)."""
    text = Text()
    when = (dt.date.fromisoformat(record.event_date).strftime("%A %-d %B %Y")
            if record.event_date else "no date")
    text.append(plain(f"{record.type_label} · {when}", style="bold"))
    text.append("\n")
    if snippet is not None:
        text.append("Found: ", style="bold")
        text.append_text(snippet)
        text.append("\n")
    if record.description:
        text.append("Description: ", style="bold")
        text.append(plain(record.description + "\n"))
    if record.tags:
        text.append("Tags: ", style="bold")
        text.append(plain(" ".join(f"#{t}" for t in record.tags), style="cyan") + "\n")
    # The files before the notes: the panel is short, and what is attached is what
    # people come back for.
    if record.attachments:
        text.append(f"Files ({len(record.attachments)}, o opens them):\n", style="bold")
        for attachment in record.attachments:
            text.append(plain(f"  {attachment.file_name}  "))
            text.append(plain(f"{attachment.display_size} · {attachment.mime_type}", "dim"))
            if attachment.has_text:
                text.append(" · text searchable", style="green")
            text.append("\n")
    else:
        text.append("No files attached.\n", style="dim")
    if record.text:
        lines = record.text.splitlines()
        text.append("Notes:\n", style="bold")
        shown = lines if whole else lines[:NOTE_LINES]
        text.append(plain("".join(f"  {line}\n" for line in shown)))
        if len(lines) > len(shown):
            text.append(f"  … {len(lines) - NOTE_LINES} more lines (e opens them)\n",
                        style="dim")
    text.rstrip()
    return text


class RecordsScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "Add", id="records.new"),
        Binding("e", "edit", "Edit", id="records.edit"),
        Binding("a", "attach", "Attach", id="records.attach"),
        Binding("o", "files", "Files", id="records.files"),
        Binding("slash", "search", "Search", id="records.search"),
        Binding("t", "cycle_type", "Type", id="records.type"),
        Binding("x", "delete", "Delete", id="records.delete"),
        Binding("escape", "clear", "Clear", id="records.clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, RecordView] = {}
        self.snippets: dict[str, Text] = {}
        self.searching = ""  # the search field's text, as last run
        self.record_type: str | None = None  # the type shown, None for all
        self.types_in_use: list[str] = []
        self._search_timer: Timer | None = None
        self.more = False  # the list has more records than it shows yet
        self.loading_more = False

    def compose(self) -> ComposeResult:
        yield TopBar("Records")
        yield Input(id="records-search", placeholder="Search: words in titles, notes and "
                    "attached files; #tag keeps one tag · Escape to close")
        yield Label("", id="records-status", classes="muted")
        yield ListTable(id="records")
        with VerticalScroll(id="record-details", classes="panel"):
            yield Static(id="record-body")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#records", DataTable)
        table.add_columns("Date", "Type", "Title", "Tags", "Files")
        self.query_one("#record-details").border_title = "Details"
        self.query_one("#records-search").display = False
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None  # shown, greyed: the key's rights, not the screen, forbid it
        return True

    # -- loading --------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        patient = self.vault.patient_id
        if patient is None:
            return
        words, tag = split_search(self.searching)
        # As many as are shown: a refresh (after an edit, another Luna's change) keeps
        # the pages already scrolled through, and the cursor on its record.
        shown = max(PAGE_SIZE, len(self.records)) if not words else PAGE_SIZE
        searched = self.searching
        try:
            view = await self.vault.call(
                RecordsPlace(self.session).shown, patient, words=words,
                record_type=self.record_type, tag=tag, list_limit=shown,
                search_limit=SEARCH_LIMIT)
        except ServiceFailed:
            return
        kinds, listed, hits = view.types_in_use, view.records, view.hits
        if searched != self.searching:
            return  # a newer search has started meanwhile
        self.types_in_use = kinds
        if self.record_type not in kinds:
            self.record_type = None
        records = [h.record for h in hits] if words else listed
        self.snippets = {h.record.id: snippet_text(h.snippet) for h in hits if h.snippet}
        self.more = not words and len(listed) == shown
        self._fill(records)
        self._show_status(len(records), words, tag)
        self._show_details()

    def _fill(self, records: list[RecordView]) -> None:
        table = self.query_one("#records", DataTable)
        selected = self._selected()
        table.clear()
        self.records = {r.id: r for r in records}
        for record in records:
            table.add_row(*record_row(record, self.snippets.get(record.id)), key=record.id)
        ids = list(self.records)
        if selected is not None and selected.id in ids:
            table.move_cursor(row=ids.index(selected.id))

    def _show_status(self, count: int, words: str, tag: str | None) -> None:
        kind = RECORD_TYPES.get(self.record_type or "", "")
        narrowed = " · ".join(p for p in (kind and f"type: {kind}", tag and f"#{tag}") if p)
        cycle = " · t shows another type" if len(self.types_in_use) > 1 else ""
        if words:
            found = f"{count} record{' matches' if count == 1 else 's match'} “{words}”"
            text = f"{found}, best first" if count else f"No records match “{words}”"
        elif count == 0 and not narrowed:
            text = EMPTY if not self.vault.read_only else "No records yet."
        elif count == 0:
            text = "No records of this kind"
        else:
            text = f"{count} record{'' if count == 1 else 's'}" + (
                " · more as you scroll" if self.more else "")
        if narrowed:
            text += f" ({narrowed})"
        self.query_one("#records-status", Label).update(plain(text + (cycle if count or narrowed
                                                                      else "")))

    def _selected(self) -> RecordView | None:
        table = self.query_one("#records", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.records.get(str(key.value))

    @on(DataTable.RowHighlighted, "#records")
    async def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_details()
        if self.more and event.cursor_row >= event.data_table.row_count - LOAD_AHEAD:
            await self._load_more()

    async def _load_more(self) -> None:
        if self.loading_more:
            return
        words, tag = split_search(self.searching)
        if words:
            return  # a search shows its best matches, not pages
        self.loading_more = True
        shown = (self.searching, self.record_type)
        kind = self.record_type if self.record_type in self.types_in_use else None
        try:
            page = await self.vault.call(Records(self.session).list, self.vault.patient_id,
                                        record_type=kind, tag=tag, limit=PAGE_SIZE,
                                        offset=len(self.records))
        except ServiceFailed:
            return
        finally:
            self.loading_more = False
        if (self.searching, self.record_type) != shown:
            return  # the list was narrowed meanwhile: this page belongs to the old one
        table = self.query_one("#records", DataTable)
        for record in page:
            if record.id not in self.records:
                self.records[record.id] = record
                table.add_row(*record_row(record), key=record.id)
        self.more = len(page) == PAGE_SIZE
        self._show_status(len(self.records), words, tag)

    def _show_details(self) -> None:
        body = self.query_one("#record-body", Static)
        record = self._selected()
        if record is None:
            body.update(Text("Nothing to show.", style="dim"))
        else:
            body.update(details_text(record, self.snippets.get(record.id),
                                     whole=self.vault.read_only))

    @on(DataTable.RowSelected, "#records")
    async def _open(self) -> None:
        await self.action_edit()

    # -- search and filters ----------------------------------------------------------------

    def action_search(self) -> None:
        field = self.query_one("#records-search", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#records-search")
    def _search_soon(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if not event.input.display:
            return  # emptied by Escape, which has reloaded the list already
        text = event.value.strip()
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.run_search(text))

    @on(Input.Submitted, "#records-search")
    def _search_now(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self.run_search(event.value.strip())
        self.query_one("#records", DataTable).focus()

    @work(exclusive=True, group="search", exit_on_error=False)
    async def run_search(self, text: str) -> None:
        self.searching = text
        await self.refresh_data()

    async def action_cycle_type(self) -> None:
        """All types → each type in use, in turn → all again."""
        kinds = self.types_in_use
        if not kinds:
            self.notify("There are no records to filter yet.")
            return
        if self.record_type in kinds:
            index = kinds.index(self.record_type) + 1
            self.record_type = kinds[index] if index < len(kinds) else None
        else:
            self.record_type = kinds[0]
        self.query_one("#records", DataTable).move_cursor(row=0)
        await self.refresh_data()

    async def action_clear(self) -> None:
        """Escape: close the search, then drop the type filter."""
        search = self.query_one("#records-search", Input)
        if search.display:
            if self._search_timer is not None:
                self._search_timer.stop()
            search.value = ""
            search.display = False
            self.searching = ""
        elif self.record_type is not None:
            self.record_type = None
        else:
            return
        self.query_one("#records", DataTable).focus()
        await self.refresh_data()

    # -- changing -------------------------------------------------------------------------

    async def action_new(self) -> None:
        if self.vault.writable("add a record"):
            await self.app.push_screen(RecordFormScreen(None), self._after_change)

    async def action_edit(self) -> None:
        record = self._selected()
        if record is not None and self.vault.writable("change a record"):
            await self.app.push_screen(RecordFormScreen(record), self._after_change)

    async def action_attach(self) -> None:
        record = self._selected()
        if record is None:
            self.notify("Add a record first (n); files are attached to a record.")
        elif self.vault.writable("attach files"):
            await self.app.push_screen(AttachFilesScreen(record), self._after_change)

    async def action_files(self) -> None:
        record = self._selected()
        if record is not None:
            await self.app.push_screen(RecordFilesScreen(record))

    async def action_delete(self) -> None:
        record = self._selected()
        if record is None or not self.vault.writable("delete a record"):
            return
        count = len(record.attachments)
        files = (f"Its {count} attached file{'s go' if count > 1 else ' goes'} too (the "
                 "encrypted copies in the vault; the files you attached them from are not "
                 "touched)." if count else "It has no attached files.")

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                removed = await self.vault.call(Records(self.session).delete, record.id)
            except ServiceFailed:
                return
            with_files = f", with {removed} file{'s' if removed > 1 else ''}" if removed else ""
            self.notify(f"Record “{record.title}” deleted{with_files}.")
            await self.refresh_data()

        await self.app.push_screen(ConfirmDialog(
            f"Delete the record “{record.title}”?", f"{files} This can't be undone.",
            "Delete"), answered)

    async def _after_change(self, changed: object) -> None:
        if not changed:
            return
        await self.refresh_data()
        if isinstance(changed, RecordView) and changed.id in self.records:
            # The record just added or changed, wherever the list put it.
            table = self.query_one("#records", DataTable)
            table.move_cursor(row=list(self.records).index(changed.id))


def split_search(text: str) -> tuple[str, str | None]:
    """What was typed in the search field: its words, and the tag of a `#tag` among them
    (the first; a record has to carry it)."""
    words, tag = [], None
    for word in text.split():
        if word == "#":
            continue  # a tag being typed
        if word.startswith("#"):
            tag = tag or word[1:]
        else:
            words.append(word)
    return " ".join(words), tag
