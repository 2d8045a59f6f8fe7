"""The app's side of issue 15's jrnl habits: the entry editor asks before saving an entry
dated in the future (friction 8), the journal's filter bar reads date phrases (`last
week`), and `luna edit ID` at a terminal opens the app's own editor on that entry."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Input, TextArea

from app_helpers import SIZE, make_app, settle, settle_until, table_rows, unlock
from conftest import PASSPHRASE, cheap_kdf
from luna_tui.errors import NotFound
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.ui.app import LunaApp

DAY = dt.timedelta(days=1)


def vault_entries(layout):
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        return Journal(session).page(me, limit=500).entries


async def new_entry(pilot, text: str, date: str) -> None:
    await unlock(pilot)
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#content", TextArea).text = text
    screen.query_one("#entry_date", Input).value = date


@pytest.mark.dates
async def test_a_future_dated_entry_asks_before_it_is_saved(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await new_entry(pilot, "Dentist", "tomorrow")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryEditorScreen"
        assert app.screen.focused is app.screen.query_one("#entry_date", Input)
        me = app.patient_id
        assert (await app.call(Journal(app.session).page, me)).entries == []
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "JournalScreen")
    [entry] = vault_entries(layout)
    assert entry.entry_date == (clock.today() + DAY).isoformat()


@pytest.mark.dates
async def test_a_past_phrase_saves_without_asking(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await new_entry(pilot, "Knee sore", "3 days ago")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "JournalScreen")
    [entry] = vault_entries(layout)
    assert entry.entry_date == (clock.today() - 3 * DAY).isoformat()


async def test_a_future_entry_keeps_its_date_when_its_text_changes(layout, session, clock):
    me = Settings(session).current_patient_id()
    entry = Journal(session).create(me, EntryDraft(content="Plans",
                                                   entry_date=clock.today() + 5 * DAY))
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#content", TextArea).text = "Plans, changed"
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "JournalScreen")
    [saved] = vault_entries(layout)
    assert (saved.id, saved.content) == (entry.id, "Plans, changed")


@pytest.mark.dates
async def test_the_filter_bar_reads_last_week(layout, session, clock):
    today = clock.today()
    monday = today - today.weekday() * DAY
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    for day, text in ((today, "this week"), (monday - 3 * DAY, "last week"),
                      (monday - 10 * DAY, "two weeks ago")):
        journal.create(me, EntryDraft(content=text, entry_date=day))
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        for field, value in (("#filter-from", "last week"), ("#filter-to", "last week")):
            app.screen.query_one(field, Input).value = value
        app.screen.query_one("#filter-to", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert [row[2] for row in table_rows(pilot, "#entries")] == ["last week"]


def edit_app(layout, clock, typed: str) -> LunaApp:
    return LunaApp(layout, clock=clock, new_vault_kdf=cheap_kdf(), idle_check_seconds=3600,
                   automatic_backups=False, edit_entry=typed)


async def test_luna_edit_opens_the_apps_editor_on_the_entry(layout, session, clock):
    me = Settings(session).current_patient_id()
    entry = Journal(session).create(me, EntryDraft(content="Old words"))
    session.close()
    app = edit_app(layout, clock, entry.id[:8])
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "EntryEditorScreen")
        area = app.screen.query_one("#content", TextArea)
        assert area.text == "Old words"
        area.text = "New words"
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.edited is not None)
    assert app.edited.content == "New words" and app.session is None
    assert [e.content for e in vault_entries(layout)] == ["New words"]


async def test_luna_edit_of_an_unknown_id_ends_with_its_sentence(layout, session, clock):
    session.close()
    app = edit_app(layout, clock, "abcd1234")
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle_until(pilot, lambda: app.failure is not None)
    assert isinstance(app.failure, NotFound) and app.session is None


@pytest.mark.dates
async def test_a_date_with_a_time_sets_both(layout, session, clock):
    """The editor's date field reads the whole grammar: a time said there wins."""
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await new_entry(pilot, "Pharmacy", "yesterday at 3pm")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "JournalScreen")
    [entry] = vault_entries(layout)
    assert (entry.entry_date, entry.entry_time) == (
        (clock.today() - DAY).isoformat(), "15:00")


async def test_luna_edit_brings_back_changes_a_lock_kept(layout, session, clock):
    from luna_tui.services.drafts import Drafts

    me = Settings(session).current_patient_id()
    entry = Journal(session).create(me, EntryDraft(content="Old words"))
    Drafts(session).keep("kept-at-a-lock", "journal_entry",
                         {"content": "Words typed before the lock"}, item_id=entry.id,
                         patient_id=me)
    session.close()
    app = edit_app(layout, clock, entry.id[:8])
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "EntryEditorScreen")
        assert app.screen.query_one("#content", TextArea).text == "Words typed before the lock"
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.edited is not None)
    assert [e.content for e in vault_entries(layout)] == ["Words typed before the lock"]
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert Drafts(reopened).pending() == []
