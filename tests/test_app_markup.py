"""In the app, text from the vault is text, never markup: a title typed as `[red]x[/red]`
shows as typed — in the journal, the records list, a notification — and a stray `[/b]`
can't break a screen."""

from __future__ import annotations

import pytest

from app_helpers import (
    SIZE,
    make_app,
    notifications,
    screen_text,
    settle,
    table_rows,
    unlock,
)
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings

TITLE = "[red]x[/red] and [/b]"
WINDOW_TITLE = "\x1b]0;pwned\x07"  # would retitle the terminal's window


@pytest.fixture
def vault(session, layout):
    me = Settings(session).current_patient_id()
    Patients(session).update(me, name="[b]Sam[/b]")
    Journal(session).create(me, EntryDraft(content="body", title=TITLE, entry_date="2026-11-20",
                                           tags=["knee"]))
    Journal(session).create(me, EntryDraft(content="body", title=f"Retitled{WINDOW_TITLE}",
                                           entry_date="2026-11-19"))
    Records(session).create(me, title=TITLE, record_type="lab", event_date="2026-11-20",
                            description="[i]notes[/i]")
    session.close()
    return layout


async def test_a_title_with_markup_shows_as_typed_in_the_journal(vault):
    app = make_app(vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "[b]Sam[/b]" in screen_text(pilot)  # the top bar's patient name
        await pilot.press("2")
        await settle(pilot)
        assert TITLE in screen_text(pilot)
        titles = [row[2] for row in table_rows(pilot, "#entries")]
        assert titles == [TITLE, "Retitled\\x1b]0;pwned\\x07"]  # shown, never sent


async def test_a_title_with_markup_shows_as_typed_in_records_and_notifications(vault):
    app = make_app(vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("6")
        await settle(pilot)
        shown = screen_text(pilot)
        assert TITLE in shown and "[i]notes[/i]" in shown
        await pilot.press("x")
        await settle(pilot)
        assert TITLE in screen_text(pilot)  # the question names it as typed
        await pilot.press("y")
        await settle(pilot)
        assert f"Record “{TITLE}” deleted." in notifications(pilot)
        shown_as = {n.message: n.markup for n in app._notifications}  # noqa: SLF001
        assert shown_as[f"Record “{TITLE}” deleted."] is False  # drawn as text, not markup


async def test_a_notification_never_reads_markup_nor_sends_controls(vault):
    app = make_app(vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        app.notify("[bold]x[/bold] \x1b[2J [/i]", markup=True)  # even when asked to
        await settle(pilot)
        last = list(app._notifications)[-1]  # noqa: SLF001
        assert (last.message, last.markup) == ("[bold]x[/bold] \\x1b[2J [/i]", False)
