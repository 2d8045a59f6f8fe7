"""Free text holds no control characters but tabs and line breaks: every service that
writes what a person typed refuses ESC, BEL, DEL, C1 and a lone CR with a sentence naming
the field, so nothing stored can drive the terminal of a form field being edited. Text
stored before keeps its row changeable in its other fields."""

from __future__ import annotations

import pytest

from luna_tui.errors import ValidationError
from luna_tui.services import validation
from luna_tui.services.ai.personas import Personas
from luna_tui.services.ai.sending import Sender
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments
from luna_tui.services.drafts import Drafts
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals

RETITLE = "hello \x1b]2;PWNED\x07 world"  # would retitle the terminal's window


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[2J", "\\x1b"), ("ring \x07", "\\x07"), ("a\x7fb", "\\x7f"), ("c1 \x9b", "\\x9b"),
    ("over\rwrite", "\\r"), ("nul\x00", "\\x00"),
])
def test_a_control_character_is_refused_naming_the_field_and_showing_it(text, shown):
    with pytest.raises(ValidationError) as error:
        validation.refuse_controls({"provider_name": "Dr Who", "notes": ["fine", text]})
    assert error.value.field == "notes"
    assert f"The notes holds a control character ({shown})" in str(error.value)
    assert "\x1b" not in str(error.value) and "\x07" not in str(error.value)


def test_tabs_line_breaks_and_direction_marks_are_text():
    validation.refuse_controls({"content": "a\tb\nc\r\nd \u202eevil\u202c", "mood": None,
                                "mood_scale": 7, "tags": ["knee", "sleep"]})


def test_every_service_that_writes_free_text_refuses_them(session, me, tmp_path):
    def refused(field, write):
        with pytest.raises(ValidationError) as error:
            write()
        assert error.value.field == field, error.value

    journal, records, medications = Journal(session), Records(session), Medications(session)
    refused("content", lambda: journal.create(me, EntryDraft(content=RETITLE)))
    refused("title", lambda: journal.create(me, EntryDraft(content="ok", title=RETITLE)))
    refused("tags", lambda: journal.create(me, EntryDraft(content="ok", tags=["a\x1bb"])))
    refused("title", lambda: records.create(me, title=RETITLE))
    refused("description", lambda: records.create(me, title="Scan", description=RETITLE))
    refused("name", lambda: medications.create(me, RETITLE, "500 mg", "daily"))
    refused("notes", lambda: medications.create(me, "Metformin", "500 mg", "daily",
                                                notes=RETITLE))
    refused("provider_name", lambda: Appointments(session).create(
        me, "2026-11-24", provider_name=RETITLE))
    refused("kind", lambda: Vitals(session).record(me, "pain\x1b", 3, unit="x"))
    refused("notes", lambda: Vitals(session).record(me, "weight", 70, notes=RETITLE))
    refused("name", lambda: Patients(session).create(RETITLE))
    refused("allergies", lambda: Patients(session).update(me, allergies=RETITLE))
    refused("system_prompt", lambda: Personas(session).create("Coach", RETITLE))
    refused("content", lambda: Drafts(session).keep("d-1", "journal_entry",
                                                    {"content": RETITLE}))
    source = tmp_path / "scan\x1b]2;x\x07.txt"
    source.write_text("words")
    record = records.create(me, title="Scan")
    refused("file_name", lambda: Attachments(session).add(record.id, source))
    assert journal.count(me) == 0 and Drafts(session).pending() == []


def test_a_row_holding_such_text_from_before_stays_changeable(session, me):
    from luna_tui.store.models.journal import JournalEntry

    entry = Journal(session).create(me, EntryDraft(content="placeholder"))
    session.run(lambda: JournalEntry.update(content=RETITLE).where(
        JournalEntry.id == entry.id).execute())
    assert Journal(session).toggle_favorite(entry.id).favorite
    assert Journal(session).update(entry.id, mood="calm").content == RETITLE
    with pytest.raises(ValidationError, match="content holds a control character"):
        Journal(session).update(entry.id, content=RETITLE + "!")


# -- in the app: a form field never holds one ------------------------------------------------

def stored_before_the_rule(session, me) -> str:
    """An entry whose text and title hold ESC and BEL, written past the service as an
    older Luna (or a file it imported) could have; returns its id."""
    from luna_tui.store.models.journal import JournalEntry

    entry = Journal(session).create(me, EntryDraft(content="placeholder", title="t",
                                                   entry_date="2026-11-20"))
    session.run(lambda: JournalEntry.update(content=RETITLE, title="Scan \x1b[2J").where(
        JournalEntry.id == entry.id).execute())
    return entry.id


async def test_a_form_filled_from_such_text_shows_it_escaped_and_saves_it_so(
        layout, session, me):
    from textual.widgets import Input, TextArea

    from app_helpers import SIZE, make_app, settle, unlock
    from conftest import PASSPHRASE
    from luna_tui.services.vault_session import VaultSession

    entry_id = stored_before_the_rule(session, me)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        assert type(editor).__name__ == "EntryEditorScreen"
        assert editor.query_one("#content", TextArea).text == "hello \\x1b]2;PWNED\\x07 world"
        assert editor.query_one("#title", Input).value == "Scan \\x1b[2J"
        assert not any(validation.CONTROL.search(widget.value) for widget in
                       editor.query(Input))
        assert not editor.dirty  # escaping is not a change of the person's
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "JournalScreen"
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        saved = Journal(reopened).get(entry_id)
    assert (saved.content, saved.title) == ("hello \\x1b]2;PWNED\\x07 world", "Scan \\x1b[2J")


async def test_a_pasted_control_is_refused_under_its_field_and_the_draft_keeps_it_escaped(
        layout, session):
    from textual.widgets import Input, Label

    from app_helpers import SIZE, make_app, settle, type_text, unlock
    from conftest import PASSPHRASE
    from luna_tui.services.vault_session import VaultSession

    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "words")
        app.screen.query_one("#title", Input).insert_text_at_cursor("a\x1bb")  # a paste
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "EntryEditorScreen"  # not saved
        error = app.screen.query_one("#error-title", Label)
        assert error.has_class("shown")
        await pilot.press("ctrl+l")
        await settle(pilot)
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        [draft] = Drafts(reopened).pending()
        me = Settings(reopened).current_patient_id()
        assert Journal(reopened).count(me) == 0
    assert (draft.fields["content"], draft.fields["title"]) == ("words", "a\\x1bb")


def test_the_companions_reply_is_kept_with_its_controls_escaped_and_can_be_journaled(
        session, me):
    """A model may answer with controls (quoting an imported file, say): no person typed
    them, so the reply is kept escaped, and saving it to the journal works."""
    from ai_server import FakeModel

    server = FakeModel().start()
    try:
        server.reply = ["Your entry said ", "\x1b[2J\x07", " loudly.\r\nBye"]
        settings = Settings(session)
        settings.set("ai.base_url", server.base_url)
        settings.set("ai.timeout_seconds", 1)
        sessions = ChatSessions(session)
        sender = Sender(session)
        convo = sessions.create(me)
        with pytest.raises(ValidationError) as error:
            sender.send(convo.id, "Why\x1b[2J?")
        assert error.value.field == "message"
        reply = sender.send(convo.id, "What did I write?").reply
    finally:
        server.stop()
    assert reply.content == "Your entry said \\x1b[2J\\x07 loudly.\r\nBye"
    entry = sessions.save_reply_to_journal(reply.id)
    assert entry.content == reply.content
