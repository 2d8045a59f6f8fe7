"""The journal in the app: write, find, filter, edit, delete, scroll, switch patient —
by keyboard, checking the screen and then the vault."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Select

from app_helpers import (
    SIZE,
    make_app,
    notifications,
    screen_text,
    settle,
    settle_until,
    table_rows,
    type_text,
    unlock,
    widget_text,
)
from conftest import PASSPHRASE
from luna_tui.services.journal import EntryDraft, Journal, JournalFilter
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


def entries_in_vault(layout, **filters):
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        return Journal(session).page(me, JournalFilter(**filters), limit=500).entries


def close_with_entries(session, count: int) -> None:
    """`count` entries "entry 0", "entry 1", … on one day; then the session is closed
    for the app to open the vault."""
    me = Settings(session).current_patient_id()
    Journal(session).import_entries(me, [EntryDraft(content=f"entry {i}",
                                                    entry_date="2026-10-01")
                                         for i in range(count)], source="test")
    session.close()


@pytest.fixture
def closed_vault(layout, session):
    """A vault with a few entries, closed, as the app finds it."""
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    journal.create(me, EntryDraft(content="Quiet walk by the river", mood="calm",
                                  mood_scale=7, tags=["walk"], entry_date="2026-11-20",
                                  entry_time="18:00"))
    journal.create(me, EntryDraft(content="Busy day, headache by noon", mood="tense",
                                  mood_scale=4, tags=["work"], entry_date="2026-11-21",
                                  entry_time="21:00"))
    session.close()
    return layout


async def open_journal(pilot) -> None:
    await unlock(pilot)
    await pilot.press("2")
    await settle(pilot)


async def test_write_an_entry_with_the_keyboard(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        assert "Your journal is empty" in screen_text(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Slept badly, knee sore.")
        await pilot.press("tab")  # title
        await type_text(pilot, "Bad night")
        await pilot.press("tab", "tab", "tab")  # date, time, mood word
        await type_text(pilot, "tired")
        await pilot.press("tab", "tab")  # mood scale, sleep
        await type_text(pilot, "5.5")
        await pilot.press("tab", "tab")  # feeling, tags
        await type_text(pilot, "#sleep #knee")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "JournalScreen"
        rows = table_rows(pilot, "#entries")
        assert len(rows) == 1 and rows[0][2] == "Bad night"
        assert rows[0][4] == "#sleep #knee"
    [entry] = entries_in_vault(layout)
    assert (entry.title, entry.content, entry.mood, entry.sleep_hours, entry.tags) == (
        "Bad night", "Slept badly, knee sore.", "tired", 5.5, ("sleep", "knee"))


async def test_a_bad_value_is_shown_under_its_field_and_nothing_is_saved(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Some words")
        await pilot.press("tab", "tab", "tab")  # title, date, time (its text selected)
        await type_text(pilot, "25:99")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryEditorScreen"
        assert "entry time as HH:MM" in screen_text(pilot)
    assert entries_in_vault(layout) == []


async def test_find_an_entry_by_search_as_you_type(closed_vault):
    app = make_app(closed_vault)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        assert len(table_rows(pilot, "#entries")) == 2
        text = screen_text(pilot)  # columns as wide as their contents, not their headers
        assert "Sat 21 Nov 2026" in text and "Busy day, headache by noon" in text
        await pilot.press("slash")
        await type_text(pilot, "head")
        await pilot.pause(0.4)  # the search waits for a pause in typing
        await settle(pilot)
        rows = table_rows(pilot, "#entries")
        assert len(rows) == 1 and "Busy day" in rows[0][2]
        assert "1 entry match" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert len(table_rows(pilot, "#entries")) == 2
        assert not app.screen.query_one("#search").display
        await pilot.press("1")
        await settle(pilot)
        await app.run_action("search_journal")  # the command palette's "Search the journal"
        await settle(pilot)
        assert app.screen.focused is app.screen.query_one("#search")


async def test_filter_by_mood(closed_vault):
    app = make_app(closed_vault)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        await pilot.press("ctrl+f")
        await pilot.pause()
        app.screen.query_one("#filter-mood", Select).value = "calm"
        await settle(pilot)
        rows = table_rows(pilot, "#entries")
        assert len(rows) == 1 and "river" in rows[0][2]
        app.screen.query_one("#filter-mood", Select).clear()
        await settle(pilot)
        assert len(table_rows(pilot, "#entries")) == 2


async def test_edit_favorite_and_delete_an_entry(closed_vault):
    app = make_app(closed_vault)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        await pilot.press("e")  # the newest: "Busy day"
        await settle(pilot)
        await pilot.press("tab")
        await type_text(pilot, "Headache")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert table_rows(pilot, "#entries")[0][2] == "Headache"
        assert table_rows(pilot, "#entries")[0][5] == "★"
        await pilot.press("down", "x")
        await settle(pilot)
        assert "Delete the entry of 2026-11-20" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert len(table_rows(pilot, "#entries")) == 1
    entries = entries_in_vault(closed_vault)
    assert [(e.title, e.favorite) for e in entries] == [("Headache", True)]


async def test_reading_an_entry_renders_it(closed_vault):
    app = make_app(closed_vault)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Busy day, headache by noon" in text and "tense · 4/10" in text
        assert "#work" in text and "shared with therapist" in text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "JournalScreen"


async def test_leaving_the_editor_with_changes_asks_first(closed_vault):
    app = make_app(closed_vault)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("escape")  # nothing typed: leaves at once
        await settle(pilot)
        assert app.screen.__class__.__name__ == "JournalScreen"
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Half a thought")
        await pilot.press("escape")
        await settle(pilot)
        assert "Leave without saving?" in screen_text(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryEditorScreen"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "JournalScreen"
    assert len(entries_in_vault(closed_vault)) == 2


async def test_the_list_loads_pages_as_you_scroll(layout, session):
    close_with_entries(session, 130)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        table = app.screen.query_one("#entries", DataTable)
        assert table.row_count == 50  # one page, not every row
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 100
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 130
        assert "130 entries shown" in screen_text(pilot)


async def test_the_next_page_is_read_ahead_while_the_rows_are_looked_at(layout, session,
                                                                       monkeypatch):
    """End adds the page read ahead at once: no query waited for, none made then."""
    close_with_entries(session, 130)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        table = app.screen.query_one("#entries", DataTable)
        assert table.row_count == 50  # read ahead, not shown before it is asked for
        second_page = app.screen.next_cursor  # where the rows shown end
        asked = []
        page = Journal.page
        monkeypatch.setattr(Journal, "page", lambda *a, **k: asked.append(k["after"]) or
                            page(*a, **k))
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 100
        assert second_page not in asked  # it was read already
        assert asked == [app.screen.next_cursor]  # the third, read ahead in turn
        assert "100 entries shown" in screen_text(pilot)


async def test_the_new_count_is_painted_in_the_frame_of_the_rows_it_counts(layout, session):
    """End: the status line's "100 entries shown" goes out with the rows it counts. Left to
    Textual, the label told the screen it changed only once its own queue idled, after
    the rows' frame, and the count was painted a frame (16–25 ms) after them."""
    close_with_entries(session, 130)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        screen = app.screen
        table = screen.query_one("#entries", DataTable)
        status = screen.query_one("#journal-status")
        frames = []  # at each frame: (rows, whether the status line is repainted in it)
        timer = screen._update_timer  # what paints a frame, at most 60 times a second
        frame = timer._callback

        def painting() -> None:
            frames.append((table.row_count, status in screen._dirty_widgets
                           or screen._layout_required))
            frame()

        timer._callback = painting
        await pilot.press("end")
        await settle(pilot)
        assert "100 entries shown" in screen_text(pilot)
        first_with_the_rows = next(repainted for rows, repainted in frames if rows == 100)
        assert first_with_the_rows


async def test_saving_an_edited_entry_changes_its_row_and_keeps_the_pages_loaded(layout,
                                                                                 session):
    """Saving an entry does not load the journal again: the rows scrolled in stay, the
    cursor stays on the entry, and only its row changes. A new entry loads the page."""
    close_with_entries(session, 80)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        table = app.screen.query_one("#entries", DataTable)
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 80
        await pilot.press("up", "up")
        edited_row = table.cursor_row
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab")
        await type_text(pilot, "Edited")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "JournalScreen"
        assert table.row_count == 80  # a reload would show the first 50 again
        assert table.cursor_row == edited_row
        assert table_rows(pilot, "#entries")[edited_row][2] == "Edited"
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "A new one")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert table.row_count == 50  # the newest first: the first page, loaded again
        assert table_rows(pilot, "#entries")[0][2] == "A new one"
    assert len(entries_in_vault(layout)) == 81


async def test_switching_patient_shows_their_journal(closed_vault):
    with VaultSession.open(closed_vault, PASSPHRASE) as session:
        mum = Patients(session).create("Mum")
        Journal(session).create(mum.id, EntryDraft(content="Mum's physio day"))
    app = make_app(closed_vault)
    async with app.run_test(size=SIZE) as pilot:
        await open_journal(pilot)
        mine = ["Busy day, headache by noon", "Quiet walk by the river"]
        rows_before = table_rows(pilot, "#entries")
        assert [r[2] for r in rows_before] == mine
        await pilot.press("p")
        await settle(pilot)
        assert "Show whose data?" in screen_text(pilot)
        await pilot.press("down", "enter")
        # The list is read again on the DB thread after the switch: wait for it, bounded.
        await settle_until(pilot, lambda: table_rows(pilot, "#entries") != rows_before)
        assert app.patient_id == mum.id
        assert widget_text(pilot, "#where") == "Luna · Journal · Mum ▾ (p)"
        # Hers, and nothing of the first patient's: not a row, not a word on screen.
        assert [r[2] for r in table_rows(pilot, "#entries")] == ["Mum's physio day"]
        assert widget_text(pilot, "#journal-status") == "1 entry shown"
        assert not any(text in screen_text(pilot) for text in mine)
        assert notifications(pilot) == []  # switching is not a failure to report
    with VaultSession.open(closed_vault, PASSPHRASE) as session:
        assert Settings(session).current_patient_id() == mum.id
