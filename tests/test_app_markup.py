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
from luna_tui.store.models.journal import JournalEntry

TITLE = "[red]x[/red] and [/b]"
WINDOW_TITLE = "\x1b]0;pwned\x07"  # would retitle the terminal's window


@pytest.fixture
def vault(session, layout):
    me = Settings(session).current_patient_id()
    Patients(session).update(me, name="[b]Sam[/b]")
    Journal(session).create(me, EntryDraft(content="body", title=TITLE, entry_date="2026-11-20",
                                           tags=["knee"]))
    retitled = Journal(session).create(me, EntryDraft(content="body", title="Retitled",
                                                      entry_date="2026-11-19"))
    # Stored as before control characters were refused (tests/test_control_characters.py).
    session.run(lambda: JournalEntry.update(title=f"Retitled{WINDOW_TITLE}").where(
        JournalEntry.id == retitled.id).execute())
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


BROKEN = "[/b]"  # a closing tag with nothing open: markup would stop the screen


@pytest.fixture
def broken_markup(session, layout, clock, tmp_path_factory):
    """Vault text that is broken markup wherever the app once read it as markup: one's
    own vital kind, a provider's name, an attachment's type (an import could carry it)
    and the folder a restore kept the old vault in."""
    import datetime as dt

    from luna_tui.services.appointments import Appointments
    from luna_tui.services.attachments import Attachments
    from luna_tui.services.vitals import Vitals
    from luna_tui.store.models.records import Attachment

    me = Settings(session).current_patient_id()
    Vitals(session).record(me, f"pain{BROKEN}", 3, unit="x")
    Appointments(session).create(me, clock.today() + dt.timedelta(days=2),
                                 appointment_time="09:30", provider_name=f"Dr {BROKEN} Who")
    record = Records(session).create(me, title="Scan", record_type="lab",
                                     event_date="2026-11-20")
    source = tmp_path_factory.mktemp("files") / "notes.txt"
    source.write_text("words")
    attached = Attachments(session).add(record.id, source)
    session.run(lambda: Attachment.update(mime_type=f"text/{BROKEN}").where(
        Attachment.id == attached.id).execute())
    (layout.backups_dir / "before-restore-[red]x").mkdir(parents=True)  # no / in a name
    session.close()
    return layout


async def test_ones_own_vital_kind_is_a_choice_shown_as_typed(broken_markup, clock):
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    app = make_app(broken_markup, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#kind", Select).focus()
        await pilot.press("enter")  # opens the list of kinds
        await settle(pilot)
        overlay = app.screen.query_one(SelectOverlay)
        prompts = [str(overlay.get_option_at_index(i).prompt)
                   for i in range(overlay.option_count)]
        assert f"Pain{BROKEN}" in prompts


async def test_a_providers_name_is_shown_as_typed_in_the_calendar_dialog(broken_markup,
                                                                          clock):
    from textual.widgets import RadioButton

    app = make_app(broken_markup, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        label = app.screen.query_one("#one", RadioButton).label
        assert str(label).endswith(f"with Dr {BROKEN} Who")


async def test_an_attachments_type_is_shown_as_typed(broken_markup, clock):
    app = make_app(broken_markup, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert table_rows(pilot, "#files")[0][2] == f"text/{BROKEN}"


async def test_the_folder_of_a_replaced_vault_is_shown_as_typed(broken_markup, clock):
    from textual.widgets import Label

    app = make_app(broken_markup, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("9")
        await settle(pilot)
        hint = app.screen.query_one("#backups-hint", Label).visual  # as drawn
        assert "(the newest: before-restore-[red]x)" in str(hint)
