"""A long session in the companion: only its newest page is mounted, the newest message
is in view, and the page before comes — in order, above — when the person scrolls to
the top or presses ↑ on the first message shown, until the first message of all."""

from __future__ import annotations

from test_app_backups import unlock
from test_read_models import a_long_session

from app_helpers import SIZE, make_app, screen_text, settle, settle_until
from luna_tui.services.ai.personas import Personas
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.read_models.companion import PAGE_SIZE
from luna_tui.services.settings import Settings
from luna_tui.store.models.ai import Message
from luna_tui.ui.widgets.chat_log import ChatLog, ChatMessage

COUNT = 200


def shown(pilot) -> list[str]:  # noqa: ANN001
    return [item.content for item in pilot.app.screen.query_one(ChatLog).items]


def numbered(first: int, last: int) -> list[str]:
    return [f"Message {number:03d}" for number in range(first, last + 1)]


async def open_long_session(pilot) -> ChatLog:  # noqa: ANN001
    await unlock(pilot)
    await pilot.press("7")
    await settle(pilot)
    log = pilot.app.screen.query_one(ChatLog)
    await settle_until(pilot, lambda: bool(log.items))
    return log


def in_view(log: ChatLog, item: ChatMessage) -> bool:
    top, bottom = log.scroll_y, log.scroll_y + log.scrollable_content_region.height
    region = item.virtual_region
    return top <= region.y and region.bottom <= bottom


async def test_a_long_session_mounts_its_newest_page_and_scrolling_up_brings_older(
        layout, session):
    me = Settings(session).current_patient_id()
    a_long_session(session, me, COUNT)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        log = await open_long_session(pilot)
        assert shown(pilot) == numbered(COUNT - PAGE_SIZE, COUNT - 1)
        assert len(app.screen.query(ChatMessage)) == PAGE_SIZE  # not one per message
        assert log.query_one("#chat-older").display  # says there is more above
        await settle_until(pilot, lambda: in_view(log, log.items[-1]))
        assert log.selected == PAGE_SIZE - 1  # the newest reply, picked

        pages = 1
        while log.has_older:
            log.scroll_home(animate=False, immediate=True)  # as the wheel or PgUp would
            pages += 1
            wanted = min(COUNT, pages * PAGE_SIZE)
            await settle_until(pilot, lambda: len(log.items) == wanted)  # noqa: B023
            assert shown(pilot) == numbered(max(0, COUNT - pages * PAGE_SIZE), COUNT - 1)
            # What was at the top stays in view: the person goes on scrolling up.
            first_of_before = log.items[len(log.items) - (pages - 1) * PAGE_SIZE]
            await settle_until(pilot, lambda: in_view(log, first_of_before))  # noqa: B023
        assert pages == COUNT // PAGE_SIZE
        assert shown(pilot) == numbered(0, COUNT - 1)
        assert not log.query_one("#chat-older").display  # the first message of all


async def test_up_on_the_first_message_shown_brings_the_page_before(layout, session):
    me = Settings(session).current_patient_id()
    a_long_session(session, me, COUNT)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        log = await open_long_session(pilot)
        await pilot.press("escape")  # from the message field to the chat
        await pilot.press("home")  # the first message shown
        await settle(pilot)
        assert log.chosen().content == f"Message {COUNT - PAGE_SIZE:03d}"
        await pilot.press("up")
        await settle_until(pilot, lambda: len(log.items) == 2 * PAGE_SIZE)
        assert shown(pilot) == numbered(COUNT - 2 * PAGE_SIZE, COUNT - 1)
        chosen = log.chosen()
        assert chosen.content == f"Message {COUNT - PAGE_SIZE - 1:03d}"  # the one before
        await settle_until(pilot, lambda: in_view(log, chosen))
        await pilot.press("down")
        assert log.chosen().content == f"Message {COUNT - PAGE_SIZE:03d}"
        await pilot.press("up", "m")  # m pins the message picked in the older page
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PinDialog"
        assert app.screen.content == f"Message {COUNT - PAGE_SIZE - 1:03d}"


async def test_choosing_another_session_shows_its_newest_page_only(layout, session):
    me = Settings(session).current_patient_id()
    a_long_session(session, me, COUNT, title="Long")
    chats = ChatSessions(session)
    short = chats.create(me, title="Short")
    chats.set_saved(short.id, True)  # on top: the place opens on it
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("7")
        await settle(pilot)
        log = app.screen.query_one(ChatLog)
        assert log.items == [] and not log.has_older
        await pilot.press("escape", "shift+tab", "down")  # the sessions list, the long one
        await settle_until(pilot, lambda: len(log.items) == PAGE_SIZE)
        assert shown(pilot) == numbered(COUNT - PAGE_SIZE, COUNT - 1) and log.has_older
        log.scroll_home(animate=False, immediate=True)
        await settle_until(pilot, lambda: len(log.items) == 2 * PAGE_SIZE)
        await pilot.press("up")  # back to the short one: the older pages go with the long
        await settle_until(pilot, lambda: log.items == [])
        assert not log.has_older and not log.query_one("#chat-older").display


MARKUP = "[red]x[/red] and [/b]"


async def test_messages_titles_and_personas_show_as_typed(layout, session):
    """Vault text in the chat is text: markup shows as typed, a stray closing tag
    breaks nothing, and a terminal control stored before they were refused is shown
    escaped, never sent."""
    me = Settings(session).current_patient_id()
    persona = Personas(session).create(f"Coach {MARKUP}", "Be kind.")
    talk = ChatSessions(session).create(me, persona.id, title=f"About {MARKUP}")
    stamp = "2026-11-22T09:30:00.000Z"

    def stored_before_the_rules() -> None:  # controls are refused since; an import kept one
        with session.writing("talk"):
            Message.insert_many([
                {"session": talk.id, "role": role, "content": content, "created_at": stamp,
                 "updated_at": stamp} for role, content in (
                    ("user", f"Is {MARKUP} bold?"), ("assistant", "Cleared\x1b[2J nothing"))
            ]).execute()

    session.run(stored_before_the_rules)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("7")
        await settle(pilot)
        text = screen_text(pilot)
        assert f"About {MARKUP}" in text  # the list and the title
        assert f"Coach {MARKUP}" in text
        assert f"Is {MARKUP} bold?" in text
        assert "Cleared\\x1b[2J nothing" in text
