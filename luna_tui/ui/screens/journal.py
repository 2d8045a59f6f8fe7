"""The journal: every entry, newest first, a page at a time as you scroll; `/` searches
as you type; ctrl+f filters by mood, tag, favorite, type, privacy and dates."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Checkbox, DataTable, Input, Label, Select

from luna_tui.errors import LunaError, ValidationError
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.search_snippet import highlighted_snippet, taken_from
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable, cell_text
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    import asyncio

    from luna_tui.services.journal import (
        Entry,
        JournalCursor,
        JournalFilter,
        JournalPage,
        SearchHit,
    )

PAGE_SIZE = 50
LOAD_AHEAD = 10  # fetch the next page when the cursor is this close to the end
SEARCH_DELAY = 0.25  # seconds of quiet typing before a search runs
# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "write an entry", "edit": "change an entry",
                 "favorite": "change an entry", "delete": "delete an entry"}
ENTRY_COLUMN = 2
TYPES = [("free", "free"), ("prompted", "prompted"), ("mood check", "mood_check")]
PRIVACY = [("shared with therapist", "shared"), ("private", "private")]


ENTRY_WIDTH = 44  # characters: with the other columns, a row fits 100 columns
# Narrower than 100 columns the entry, its mood and its tags are cut shorter, so the ★
# column stays on the screen: the table does not scroll sideways from the keyboard.
OTHER_COLUMNS = 58  # date, time, mood and tags as cut below, ★, and each column's gaps
NARROW_MOOD = NARROW_TAGS = 10
NARROWEST_ENTRY = 12


class Widths(NamedTuple):
    entry: int = ENTRY_WIDTH
    mood: int | None = None  # None: whole
    tags: int | None = None


WIDE = Widths()


def widths_for(screen_width: int) -> Widths:
    if screen_width >= 100:
        return WIDE
    return Widths(max(NARROWEST_ENTRY, min(ENTRY_WIDTH, screen_width - OTHER_COLUMNS)),
                  NARROW_MOOD, NARROW_TAGS)


def entry_row(entry: Entry, snippet: Text | None = None, widths: Widths = WIDE) -> tuple:
    # Text, as the table would make of a string, without reading it as markup first.
    when = cell_text(dt.date.fromisoformat(entry.entry_date).strftime("%a %d %b %Y"))
    title = plain(_clip(entry.display_title, widths.entry))
    if snippet is not None:
        # A search shows where the words matched; an untitled entry's first line would
        # only repeat the snippet, and so would a title the snippet is taken from.
        title = (Text.assemble(plain(entry.title + " · ", "bold"), snippet)
                 if entry.title and not taken_from(snippet.plain, entry.title) else snippet)
        title.truncate(widths.entry, overflow="ellipsis")
    mood = plain(" ".join(p for p in (f"{entry.mood_scale}/10" if entry.mood_scale else "",
                                      entry.mood or "") if p))
    tags = plain(" ".join(f"#{t}" for t in entry.tags), style="cyan")
    for cell, width in ((mood, widths.mood), (tags, widths.tags)):
        if width is not None:
            cell.truncate(width, overflow="ellipsis")
    star = Text("★", style="yellow") if entry.favorite else ""
    return when, entry.entry_time and cell_text(entry.entry_time), title, mood, tags, star


def _clip(text: str, width: int = ENTRY_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def snippet_text(hit: SearchHit) -> Text:
    return highlighted_snippet(hit.snippet_parts())


class JournalScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "New", id="journal.new"),
        Binding("T", "templates", "Templates", id="journal.templates"),
        Binding("e", "edit", "Edit", id="journal.edit"),
        Binding("f", "favorite", "Favorite", id="journal.favorite"),
        Binding("x", "delete", "Delete", id="journal.delete"),
        Binding("slash", "search", "Search", id="journal.search"),
        Binding("ctrl+f", "filters", "Filters", id="journal.filters"),
        Binding("escape", "clear", "Clear", id="journal.clear", show=False),
        # From the search field to its results and back (priority: the field and the
        # table would take the keys first; check_action lets them through elsewhere).
        Binding("down", "to_results", "Results", id="journal.to_results", show=False,
                priority=True),
        Binding("up", "to_search", "Search field", id="journal.to_search", show=False,
                priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, Entry] = {}
        self.next_cursor: JournalCursor | None = None
        # The page after the rows shown, read while they are looked at, with what it was
        # read for (patient, filters, cursor).
        self._ahead: tuple[tuple, JournalPage] | None = None
        self.loading_more = False
        self.searching = ""
        self._search_timer: Timer | None = None
        self._status_shown = ""  # the status line's words
        # The first page, asked for as the screen is built (see compose).
        self._asked: tuple[tuple, asyncio.Task[JournalPage]] | None = None

    def compose(self) -> ComposeResult:
        # The first page is asked for as the screen is built: the DB thread reads it while
        # the widgets below are mounted and styled, instead of after them.
        self._asked = self._ask_first_page()
        yield TopBar("Journal")
        # The search field (/) is mounted on its first use, here, like the filter bar:
        # hidden, it cost every first paint of the journal a styled input.
        yield Horizontal(id="filters")  # filled the first time ctrl+f opens it
        yield Label("", id="journal-status", classes="muted")
        yield ListTable(id="entries")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#entries", DataTable)
        self.column_keys = table.add_columns("Date", "Time", "Entry", "Mood", "Tags", "★")
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.query_one("#filters").display = False
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "to_results":
            return self._search_field_focused()
        if action == "to_search":
            table = self.focused
            return (isinstance(table, DataTable) and table.id == "entries"
                    and table.cursor_row <= 0 and self._search_field_shown())
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None  # shown, greyed: the key's rights, not the screen, forbid it
        return True

    # -- loading ------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        if self.searching:
            await self._search(self.searching)
        else:
            await self._load_first_page()
        if self.query("#filter-mood"):
            await self._refresh_filter_choices()

    def _ask_first_page(self) -> tuple[tuple, asyncio.Task[JournalPage]] | None:
        """The first page without filters (the filter bar is not built yet), asked for
        now and awaited by the first load: (what it was asked for, its answer)."""
        from luna_tui.services.journal import Journal, JournalFilter

        patient = self.vault.patient_id
        if patient is None:
            return None
        filters = JournalFilter()
        return (patient, filters), self.vault.begin(Journal(self.session).page, patient,
                                                    filters, limit=PAGE_SIZE)

    async def _load_first_page(self) -> None:
        from luna_tui.services.journal import Journal

        patient = self.vault.patient_id
        if patient is None:
            return
        asked, self._asked = self._asked, None
        try:
            filters = self._filters()
            if asked is not None and asked[0] == (patient, filters):
                page = await asked[1]
            else:
                page = await self.vault.call(Journal(self.session).page, patient, filters,
                                            limit=PAGE_SIZE)
        except (ServiceFailed, ValidationError):
            return
        table = self.query_one("#entries", DataTable)
        table.clear()
        self.entries.clear()
        self._add(page.entries)
        self.next_cursor = page.next_cursor
        self._status_for_list()
        self._read_ahead_after_paint()

    async def _load_more(self) -> None:
        from luna_tui.services.journal import Journal

        if self.loading_more or self.next_cursor is None or self.searching:
            return
        self.loading_more = True
        try:
            wanted = self._next_page_key()
            ahead, self._ahead = self._ahead, None
            if ahead is not None and ahead[0] == wanted:
                # Read ahead: added at once, in the same paint as the scroll that asked
                # for it (a query awaited here let the scroll paint first, and adding
                # rows renders every row shown again).
                page = ahead[1]
            else:
                page = await self.vault.call(Journal(self.session).page, *wanted[:2],
                                            limit=PAGE_SIZE, after=wanted[2])
            self._add(page.entries)
            self.next_cursor = page.next_cursor
            self._status_for_list()
            self._read_ahead_after_paint()
        except (ServiceFailed, ValidationError):
            pass
        finally:
            self.loading_more = False

    def _next_page_key(self) -> tuple:
        """What the next page is read for: whose, which filters, after which row."""
        return self.vault.patient_id, self._filters(), self.next_cursor

    def _read_ahead_after_paint(self) -> None:
        # Not before: the query's Python work on the DB thread would slow the paint.
        self._ahead = None
        self.call_after_refresh(self._read_ahead)

    def _read_ahead(self) -> None:
        self._ahead = None
        if self.next_cursor is None or self.searching:
            return
        try:
            self._read_next_page(self._next_page_key())
        except ValidationError:
            pass  # a date filter being typed: the page is read when asked

    @work(exclusive=True, group="read-ahead", exit_on_error=False)
    async def _read_next_page(self, key: tuple) -> None:
        """Read the page after the rows shown while the person looks at them. A failure
        is said if that page is asked for (this is not what they asked)."""
        from luna_tui.services.journal import Journal

        try:
            page = await self.vault.attempt(Journal(self.session).page, *key[:2],
                                            limit=PAGE_SIZE, after=key[2])
        except (LunaError, ServiceFailed):
            return
        if not self.searching and self.next_cursor is not None:
            try:
                current = self._next_page_key()
            except ValidationError:
                return
            if current == key:
                self._ahead = (key, page)

    def _add(self, entries: list[Entry], snippets: dict[str, Text] | None = None) -> None:
        table = self.query_one("#entries", DataTable)
        widths = self._widths()
        for entry in entries:
            if entry.id in self.entries:
                continue
            self.entries[entry.id] = entry
            table.add_row(*entry_row(entry, (snippets or {}).get(entry.id), widths),
                          key=entry.id)

    def _widths(self) -> Widths:
        return widths_for(self.app.size.width)

    def _status_for_list(self) -> None:
        count = len(self.entries)
        more = " · more as you scroll" if self.next_cursor else ""
        if count == 0:
            text = ("No entries match these filters." if self._filters_active()
                    else "Your journal is empty. Press n to write the first entry.")
        else:
            text = f"{count} entr{'y' if count == 1 else 'ies'} shown{more}"
        self._show_status(text)

    def _show_status(self, text: str | Text) -> None:
        """The line above the table, painted in the same frame as the rows it counts.

        Textual tells the screen that a widget changed when that widget's own message
        queue next idles; the rows added before (End) had the frame painted first, and
        the new count came a frame later, 17–25 ms after its rows. So the label tells the
        screen at once (Textual's own step, taken early). It is as wide as the screen
        (app.tcss), so a new count changes no size and needs no layout; only a text that
        may wrap onto another number of lines asks for one."""
        status = self.query_one("#journal-status", Label)
        width = status.content_size.width
        new = text.plain if isinstance(text, Text) else text
        one_line = width > 0 and "\n" not in new + self._status_shown and all(
            cell_len(shown) <= width for shown in (new, self._status_shown))
        self._status_shown = new
        status.update(text, layout=not one_line)
        status._check_refresh()  # noqa: SLF001 - Textual's idle step, taken now

    @on(DataTable.RowHighlighted, "#entries")
    async def near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - LOAD_AHEAD:
            await self._load_more()

    async def _scrolled(self, scroll_y: float) -> None:
        """Scrolling (mouse, End, Page Down) near the bottom loads the next page too."""
        table = self.query_one("#entries", DataTable)
        if scroll_y >= table.max_scroll_y - LOAD_AHEAD:
            await self._load_more()

    # -- search ---------------------------------------------------------------------------

    async def action_search(self) -> None:
        if not self.query("#search"):
            await self.mount(Input(id="search", placeholder="Search: words that must all "
                                   'appear; "quote" a phrase · Escape to close'),
                             before="#filters")
        field = self.query_one("#search", Input)
        field.display = True
        field.focus()

    def _search_field_shown(self) -> bool:
        fields = self.query("#search")  # none before the first search
        return bool(fields) and fields.first().display

    def _search_field_focused(self) -> bool:
        return self.focused is not None and self.focused.id == "search"

    def action_to_results(self) -> None:
        """Down from the search field: to the first result (the words typed are searched
        now if their search has not run yet), where Enter opens it and the keys act on
        it."""
        self._search_now(self.query_one("#search", Input).value)
        table = self.query_one("#entries", DataTable)
        table.focus()
        table.move_cursor(row=0)

    def action_to_search(self) -> None:
        """Up from the first result: back to the search field."""
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def search_soon(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value.strip()
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.run_search(text))

    @on(Input.Submitted, "#search")
    def search_now(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self.run_search(event.value.strip())
        self.query_one("#entries", DataTable).focus()

    def _search_now(self, value: str) -> None:
        """The search for `value`, unless it is the one shown or running."""
        if self._search_timer is not None:
            self._search_timer.stop()
        if value.strip() != self.searching:
            self.run_search(value.strip())

    @work(exclusive=True, group="search", exit_on_error=False)
    async def run_search(self, text: str) -> None:
        self.searching = text
        if text:
            await self._search(text)
        else:
            await self._load_first_page()

    async def _search(self, text: str) -> None:
        from luna_tui.services.journal import Journal

        try:
            hits = await self.vault.call(Journal(self.session).search, self.vault.patient_id,
                                        text, limit=PAGE_SIZE, prefix_last=True)
        except ServiceFailed:
            return
        if text != self.searching:
            return  # a newer search has started
        table = self.query_one("#entries", DataTable)
        table.clear()
        self.entries.clear()
        self.next_cursor = None
        self._add([h.entry for h in hits], {h.entry.id: snippet_text(h) for h in hits})
        found = len(hits)
        self._show_status(plain(
            f"{found} entr{'y matches' if found == 1 else 'ies match'} “{text}”, best first"
            if found else f"No entries match “{text}”."))

    async def action_clear(self) -> None:
        fields = self.query("#search")  # none before the first search
        if fields and fields.first().display:
            search = fields.first(Input)
            search.value = ""
            search.display = False
            self.searching = ""
            await self._load_first_page()
        elif self.query_one("#filters").display:
            self.query_one("#filters").display = False
        self.query_one("#entries", DataTable).focus()

    # -- filters -----------------------------------------------------------------------------

    async def action_filters(self) -> None:
        bar = self.query_one("#filters")
        if not bar.children:
            # Built on first use: four Selects cost a first paint most visits never need.
            # Compact, in two rows: every field within 80 columns (bordered, in one row,
            # the dates were cut off even at 120).
            await bar.mount_all([
                Horizontal(
                    Select([], prompt="any mood", id="filter-mood", compact=True),
                    Select([], prompt="any tag", id="filter-tag", compact=True),
                    Select(TYPES, prompt="any type", id="filter-type", compact=True),
                    Select(PRIVACY, prompt="any privacy", id="filter-privacy",
                           compact=True),
                    classes="filter-row"),
                Horizontal(
                    Checkbox("★ only", id="filter-favorite", compact=True),
                    Input(placeholder="from, e.g. last week", id="filter-from",
                          compact=True),
                    Input(placeholder="to, e.g. yesterday", id="filter-to", compact=True),
                    classes="filter-row"),
            ])
            await self._refresh_filter_choices()
        bar.display = not bar.display
        if bar.display:
            self.query_one("#filter-mood", Select).focus()
        else:
            self.query_one("#entries", DataTable).focus()

    async def _refresh_filter_choices(self) -> None:
        from luna_tui.services.journal import Journal

        patient = self.vault.patient_id
        try:
            moods = await self.vault.call(Journal(self.session).moods, patient)
            tags = await self.vault.call(Journal(self.session).tag_counts, patient)
        except ServiceFailed:
            return
        mood_select = self.query_one("#filter-mood", Select)
        tag_select = self.query_one("#filter-tag", Select)
        mood_value, tag_value = mood_select.value, tag_select.value
        mood_select.set_options([(plain(m), m) for m in moods])
        tag_select.set_options([(plain(f"#{t} ({n})"), t) for t, n in tags])
        if mood_value in moods:
            mood_select.value = mood_value
        if tag_value in {t for t, _ in tags}:
            tag_select.value = tag_value

    def _filters(self) -> JournalFilter:
        from luna_tui.services.journal import JournalFilter
        from luna_tui.services.validation import parse_optional_span

        if not self.query("#filter-mood"):
            return JournalFilter()  # the filter bar was never opened

        def chosen(select_id: str) -> str | None:
            value = self.query_one(select_id, Select).value
            return None if value is Select.NULL else str(value)

        today = self.vault.clock.now().astimezone().date()
        # "last week" in "from" starts at its Monday; in "to" it ends on its Sunday.
        date_from = parse_optional_span(self.query_one("#filter-from", Input).value,
                                        "from date", today)
        date_to = parse_optional_span(self.query_one("#filter-to", Input).value,
                                      "to date", today)
        return JournalFilter(
            mood=chosen("#filter-mood"), tag=chosen("#filter-tag"),
            journal_type=chosen("#filter-type"), privacy_level=chosen("#filter-privacy"),
            favorites_only=self.query_one("#filter-favorite", Checkbox).value,
            date_from=date_from[0] if date_from else None,
            date_to=date_to[1] if date_to else None,
        )

    def _filters_active(self) -> bool:
        try:
            filters = self._filters()
        except ValidationError:
            return True
        return any([filters.mood, filters.tag, filters.journal_type, filters.privacy_level,
                    filters.favorites_only, filters.date_from, filters.date_to])

    @on(Select.Changed)
    @on(Checkbox.Changed, "#filter-favorite")
    async def filters_changed(self) -> None:
        await self._load_first_page()

    @on(Input.Submitted, "#filter-from, #filter-to")
    async def dates_changed(self) -> None:
        try:
            self._filters()
        except ValidationError as error:
            self.notify(str(error), severity="error")
            return
        await self._load_first_page()

    # -- acting on entries -------------------------------------------------------------------

    def _selected(self) -> Entry | None:
        table = self.query_one("#entries", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.entries.get(str(key.value))

    @on(DataTable.RowSelected, "#entries")
    async def open_entry(self) -> None:
        from luna_tui.ui.screens.entry_reader import EntryReaderScreen

        entry = self._selected()
        if entry is not None:
            await self.push_own(EntryReaderScreen(entry), self._after_change)

    async def action_new(self) -> None:
        """A blank entry; with templates of the person's own, a choice of them first."""
        from luna_tui.services.entry_templates import EntryTemplates
        from luna_tui.ui.screens.entry_editor import EntryEditorScreen
        from luna_tui.ui.screens.template_chooser import TemplateChooser

        if not self.vault.writable("write an entry"):
            return
        try:
            mine = await self.vault.call(EntryTemplates(self.session).list)
        except ServiceFailed:
            return
        if not mine:
            await self.push_own(EntryEditorScreen(None), self._entry_saved)
        else:
            await self.app.push_screen(TemplateChooser(mine), self._new_from)

    async def _new_from(self, choice: str | None) -> None:
        """What the chooser gave: a blank entry, the templates list, or a template."""
        from luna_tui.services.entry_templates import EntryTemplates
        from luna_tui.ui.screens.entry_editor import EntryEditorScreen
        from luna_tui.ui.screens.template_chooser import BLANK, MANAGE

        if choice == BLANK:
            await self.push_own(EntryEditorScreen(None), self._entry_saved)
        elif choice == MANAGE:
            await self.action_templates()
        elif choice:
            try:
                filled = await self.vault.call(EntryTemplates(self.session).filled, choice)
            except ServiceFailed:
                return
            await self.push_own(EntryEditorScreen(None, filled), self._entry_saved)

    async def action_templates(self) -> None:
        from luna_tui.services.entry_templates import EntryTemplates
        from luna_tui.ui.screens.templates import TemplatesDialog

        try:
            mine = await self.vault.call(EntryTemplates(self.session).list)
        except ServiceFailed:
            return
        await self.app.push_screen(TemplatesDialog(mine))

    async def action_edit(self) -> None:
        from luna_tui.ui.screens.entry_editor import EntryEditorScreen

        entry = self._selected()
        if entry is not None and self.vault.writable("change an entry"):
            await self.push_own(EntryEditorScreen(entry), self._entry_saved)

    async def action_favorite(self) -> None:
        from luna_tui.services.journal import Journal

        entry = self._selected()
        if entry is None or not self.vault.writable("change an entry"):
            return
        try:
            changed = await self.vault.call(Journal(self.session).toggle_favorite, entry.id)
        except ServiceFailed:
            return
        self._replace_row(changed)

    async def action_delete(self) -> None:
        from luna_tui.ui.screens.dialogs import ConfirmDialog

        entry = self._selected()
        if entry is None or not self.vault.writable("delete an entry"):
            return
        question = f"Delete the entry of {entry.entry_date} “{_clip(entry.display_title, 40)}”?"

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._delete(entry.id)

        await self.push_own(
            ConfirmDialog(question, "It is removed from the journal and from search, for good.",
                          "Delete"), answered)

    async def _delete(self, entry_id: str) -> None:
        from luna_tui.services.journal import Journal

        try:
            await self.vault.call(Journal(self.session).delete, entry_id)
        except ServiceFailed:
            return
        if self.entries.pop(entry_id, None) is not None:  # a refresh may have dropped it already
            self.query_one("#entries", DataTable).remove_row(entry_id)
        self.notify("Entry deleted.")
        self._status_for_list()

    def _replace_row(self, entry: Entry) -> None:
        if entry.id not in self.entries:  # a refresh while we waited: the table is new
            return
        table = self.query_one("#entries", DataTable)
        self.entries[entry.id] = entry
        for index, (column, value) in enumerate(zip(self.column_keys,
                                                    entry_row(entry, widths=self._widths()),
                                                    strict=True)):
            if index != ENTRY_COLUMN or not self.searching:  # keep a search's snippet
                table.update_cell(entry.id, column, value)

    async def _after_change(self, changed: object) -> None:
        if changed:
            await self.refresh_data()

    async def _entry_saved(self, entry: Entry | None) -> None:
        """The editor saved `entry`: its row is changed in place when it stays where it
        was (same date and time, no search or filter it might leave); a new entry, or
        one moved, loads the page again."""
        if entry is None:
            return  # nothing saved
        shown = self.entries.get(entry.id)
        if (shown is None or self.searching or self._filters_active()
                or (shown.entry_date, shown.entry_time) != (entry.entry_date, entry.entry_time)):
            await self.refresh_data()
        else:
            self._replace_row(entry)
