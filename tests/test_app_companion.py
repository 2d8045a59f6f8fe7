"""The AI companion in the app (key 7), against a real streaming model server on
127.0.0.1 (tests/ai_server.py): start a session, send, watch the reply stream in, pin
it, preview the context, delete; and with no model reachable, the sentence and the kept
question. Each test checks the screen, then the vault."""

from __future__ import annotations

import pytest
from ai_server import FakeModel, refused_url
from test_app_backups import labels_text, unlock

from app_helpers import SIZE, make_app, notifications, screen_text, settle
from conftest import PASSPHRASE
from luna_tui.services.ai.memory import Memory
from luna_tui.services.ai.sessions import ChatSessions, MessageView
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession

CANARY = "CANARY-private-app-9d2e"


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


def prepare(session, base_url: str) -> None:
    """The model's address, an active medication and a private entry; then close."""
    settings = Settings(session)
    settings.set("ai.base_url", base_url)
    settings.set("ai.model", "tiny")
    settings.set("ai.timeout_seconds", 2)
    me = settings.current_patient_id()
    Medications(session).create(me, "Metformin", "500 mg", "twice daily")
    Journal(session).create(me, EntryDraft(content=f"Only mine: {CANARY}",
                                           privacy_level="private", entry_date="2026-11-21"))
    session.close()


def in_vault(layout, fn):
    """`fn(session, me)` on the DB thread of the vault opened again."""
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        return session.run(fn, session, me)


def first_sessions_messages(session, me) -> list[MessageView]:
    """The messages of the session listed first (DB thread)."""
    sessions = ChatSessions(session)
    return sessions.messages(sessions.list(me)[0].id)


async def shows(pilot, words: str, seconds: float = 5.0) -> str:
    """Wait (without waiting for the send worker to end) until the screen shows `words`."""
    for _ in range(int(seconds / 0.05)):
        await pilot.pause(0.05)
        text = screen_text(pilot)
        if words in text:
            return text
    raise AssertionError(f"{words!r} never showed; the screen:\n{screen_text(pilot)}")


async def open_companion(pilot) -> None:
    await unlock(pilot)
    assert "7 AI" in screen_text(pilot)  # the dashboard's footer lists it
    await pilot.press("7")
    await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "CompanionScreen"


async def ask(pilot, question: str) -> None:
    from textual.widgets import Input

    field = pilot.app.screen.query_one("#message", Input)
    assert pilot.app.focused is field  # the screen opens ready to type
    field.value = question
    await pilot.press("enter")


async def test_send_streams_the_reply_then_pin_it(layout, session, model: FakeModel):
    prepare(session, model.base_url)
    model.mode = "hold"  # the first words come, the rest wait for `release`
    model.reply = ["Your **sleep** ", "was steady ", "all week."]
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        assert "No session yet" in screen_text(pilot)
        await ask(pilot, "How did I sleep?")
        text = await shows(pilot, "Your sleep")
        assert "How did I sleep?" in text and "all week" not in text  # mid-stream
        assert "Escape stops it" in text
        model.release.set()
        text = await shows(pilot, "was steady all week.")
        await settle(pilot)
        assert "sleep" in text and "**" not in text  # Markdown rendered
        usage = str(app.screen.query_one("#ai-usage").content).split("\n")
        assert usage[1:] == [f"{'requests':<10}{'1':>8}{'1':>10}",
                             f"{'tokens':<10}{'328':>8}{'328':>10}"]
        # Tab to the chat: the reply is picked; m pins it as a medication, importance 0.9.
        await pilot.press("escape")
        await pilot.press("m")
        await settle(pilot)
        from textual.widgets import Input, Select

        dialog = app.screen
        dialog.query_one("#category", Select).value = "medication"
        dialog.query_one("#importance", Input).value = "0.9"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("Pinned as medication" in n for n in notifications(pilot))
    sent = model.requests[0]["messages"]
    assert sent[-1] == {"role": "user", "content": "How did I sleep?"}
    assert "Metformin" in sent[0]["content"] and CANARY not in str(sent)

    def kept(session, me):
        sessions = ChatSessions(session)
        convo = sessions.list(me)[0]
        return (convo.title, [(m.role, m.content) for m in sessions.messages(convo.id)],
                Memory(session).pins(me))

    title, messages, pins = in_vault(layout, kept)
    assert title == "How did I sleep?"
    assert messages == [("user", "How did I sleep?"),
                        ("assistant", "Your **sleep** was steady all week.")]
    assert [(p.content, p.medical_category, p.importance_score) for p in pins] == [
        ("Your **sleep** was steady all week.", "medication", 0.9)]


async def test_preview_shows_the_context_for_what_is_typed(layout, session, model):
    prepare(session, model.base_url)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        await pilot.press("escape", "n")  # n starts a session (from the chat, not the field)
        await settle(pilot)
        await pilot.press("enter")  # the default persona and kind
        await settle(pilot)
        from textual.widgets import Input, Static

        app.screen.query_one("#message", Input).value = "Should I ask about my dose?"
        await pilot.press("escape", "v")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PreviewScreen"
        shown = str(app.screen.query_one("#preview-text", Static).content)
        assert "Metformin" in shown and "Should I ask about my dose?" in shown
        assert CANARY not in shown
        assert "Exactly what goes to tiny at " + model.base_url in labels_text(pilot)

        assert shown.startswith("[system]\n")  # Sender.preview's text, as sent
        assert shown.endswith("[user]\nShould I ask about my dose?")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CompanionScreen"
        message = app.screen.query_one("#message", Input)
        message.focus()
        await pilot.press("ctrl+o")  # while typing: a letter would go into the message
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PreviewScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert message.value == "Should I ask about my dose?"
    assert model.requests == []  # a preview sends nothing


async def test_no_model_reachable_says_how_to_connect_and_keeps_the_question(layout, session):
    prepare(session, refused_url())
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        await ask(pilot, "Is anyone there?")
        await shows(pilot, "Not answered")
        text = labels_text(pilot) + " " + screen_text(pilot)
        assert "nothing is listening there" in text
        assert "luna ai config" in text
        assert "Your message is kept in this session" in text
        assert "Is anyone there?" in screen_text(pilot)
        await app.screen.refresh_data()  # as when the vault changes: the reason stays
        await settle(pilot)
        assert "Not answered" in screen_text(pilot)
    messages = in_vault(layout, lambda session, me: [
        (m.role, m.content) for m in first_sessions_messages(session, me)])
    assert messages == [("user", "Is anyone there?")]


async def test_delete_asks_and_says_journal_entries_stay(layout, session, model):
    me = Settings(session).current_patient_id()
    sessions = ChatSessions(session)
    keep = sessions.create(me, title="Keep this one")
    sessions.set_saved(keep.id, True)
    sessions.create(me, title="Throw away")
    prepare(session, model.base_url)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        text = screen_text(pilot)
        assert text.index("★ Keep this one") < text.index("Throw away")  # saved on top
        await pilot.press("escape", "shift+tab", "down")  # the sessions list, second row
        await settle(pilot)
        assert "Throw away  ·" in screen_text(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert "Journal entries saved from it stay" in labels_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Throw away" not in screen_text(pilot)
    titles = in_vault(layout, lambda session, me: [
        s.title for s in ChatSessions(session).list(me)])
    assert titles == ["Keep this one"]


async def test_escape_stops_the_reply_and_keeps_the_words_so_far(layout, session, model):
    prepare(session, model.base_url)
    model.mode = "hold"
    model.reply = ["The first words ", "and the rest", " never shown."]
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        await ask(pilot, "Tell me a long story")
        await shows(pilot, "The first words")
        await pilot.press("escape")  # while it streams, Escape stops it
        model.release.set()
        text = await shows(pilot, "Stopped.")
        assert "never shown" not in text
    messages = in_vault(layout, lambda session, me: [
        (m.role, m.finish_reason) for m in first_sessions_messages(session, me)])
    assert messages[0] == ("user", None)
    assert messages[1:] == [("assistant", "cancelled")]  # the words so far are kept
