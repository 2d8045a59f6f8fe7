"""Personas in the app (o on the companion screen): make one with the keyboard, edit it,
delete it, and the refusals (a built-in one, a read-only key); and ctrl+r sending an
unanswered question again once the model answers. Each test checks the screen, then
the vault."""

from __future__ import annotations

import pytest
from ai_server import FakeModel
from test_app_backups import labels_text
from test_app_companion import (
    ask,
    first_sessions_messages,
    in_vault,
    open_companion,
    prepare,
    shows,
)

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    screen_text,
    settle,
    table_rows,
    type_text,
)
from conftest import OTHER_PASSPHRASE
from luna_tui.services.ai.personas import Personas
from luna_tui.services.key_admin import KeyAdmin


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


def names(pilot) -> list[str]:
    return [row[0].replace("  (built in)", "") for row in table_rows(pilot, "#persona-list")]


def mine(session, me):
    return [(p.name, p.description, p.system_prompt, p.temperature, p.max_tokens,
             p.data_access) for p in Personas(session).list() if not p.builtin]


async def open_personas(pilot) -> None:
    await open_companion(pilot)
    await pilot.press("escape", "o")  # from the chat, not the message field
    await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "PersonasDialog"


async def test_create_edit_and_delete_a_persona_with_the_keyboard(layout, session, model):
    prepare(session, model.base_url)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_personas(pilot)
        assert names(pilot) == ["Appointment preparation", "Journal companion",
                                "Medication check-in"]
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PersonaFormScreen"
        await type_text(pilot, "sleep coach")
        await pilot.press("tab")
        await type_text(pilot, "for nights")
        await pilot.press("ctrl+s")  # no prompt yet: said under the field
        await settle(pilot)
        assert "needs a system prompt" in field_error(pilot, "system_prompt")
        assert app.screen.__class__.__name__ == "PersonaFormScreen"
        await type_text(pilot, "be brief.")  # the prompt field has the focus now
        await pilot.press("tab")
        await type_text(pilot, "0.3")  # temperature (its old text is selected)
        await pilot.press("tab", "tab")  # past max tokens, to the first kind (profile)
        await pilot.press("tab", "tab", "tab", "tab", "tab", "space")  # journal: unticked
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PersonasDialog"
        assert "sleep coach" in names(pilot)
        assert any("Persona 'sleep coach' saved." in n for n in notifications(pilot))
        assert ("reads: profile, medications, appointments, vitals, records, pins,"
                in screen_text(pilot))  # no journal
        # e edits the highlighted one: the new persona is highlighted.
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#name").value == "sleep coach"
        await pilot.press("tab", "tab", "tab", "tab")  # description, prompt, temp, tokens
        await type_text(pilot, "64")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PersonasDialog"
        assert "up to 64 tokens" in screen_text(pilot)
    kept = in_vault(layout, mine)
    assert kept == [("sleep coach", "for nights", "be brief.", 0.3, 64,
                     ("profile", "medications", "appointments", "vitals", "records",
                      "pins", "summaries"))]
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_personas(pilot)
        await pilot.press("end")  # sleep coach: the last row
        await pilot.press("x")
        await settle(pilot)
        assert "Sessions that used it stay" in labels_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "sleep coach" not in names(pilot)
        assert any("Persona 'sleep coach' deleted." in n for n in notifications(pilot))
    assert in_vault(layout, mine) == []


async def test_a_built_in_persona_is_edited_with_enter_but_not_deleted(layout, session,
                                                                        model):
    prepare(session, model.base_url)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_personas(pilot)
        await pilot.press("x")  # Appointment preparation, the first row
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PersonasDialog"
        assert any("built in: it can be edited but not deleted" in n
                   for n in notifications(pilot))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PersonaFormScreen"
        await pilot.press("tab", "tab", "tab")  # to the temperature
        await type_text(pilot, "3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Temperature is a number from 0 to 2." in field_error(pilot, "temperature")
        await pilot.press("backspace")  # the field has the focus, after the "3"
        await type_text(pilot, "0.2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PersonasDialog"
    temperature = in_vault(layout, lambda session, me: Personas(session)
                           .find("appointment prep").temperature)
    assert temperature == 0.2


async def test_a_read_only_key_sees_the_personas_but_cannot_change_them(layout, session,
                                                                         model):
    Personas(session).create("Mine", "Be kind.")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    prepare(session, model.base_url)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        from test_app_backups import unlock

        await unlock(pilot, OTHER_PASSPHRASE)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("escape", "o")
        await settle(pilot)
        assert "Mine" in names(pilot)
        for key in ("n", "e", "x"):
            await pilot.press("end", key)
            await settle(pilot)
            assert app.screen.__class__.__name__ == "PersonasDialog"
        said = " ".join(notifications(pilot))
        for action in ("create a persona", "edit a persona", "delete a persona"):
            assert f"which cannot {action}" in said
    assert in_vault(layout, mine) == [("Mine", None, "Be kind.", 0.7, 800, (
        "profile", "medications", "appointments", "vitals", "records", "journal", "pins",
        "summaries"))]


async def test_ctrl_r_sends_the_unanswered_question_again_once(layout, session, model):
    prepare(session, model.base_url)
    model.mode = "500"
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        await ask(pilot, "Is anyone there?")
        await shows(pilot, "Not answered")
        await settle(pilot)
        assert "Press ctrl+r to send it again." in labels_text(pilot)
        model.mode = "ok"
        await pilot.press("ctrl+r")
        text = await shows(pilot, "Hello, you slept well.")
        await settle(pilot)
        text = screen_text(pilot)
        assert text.count("Is anyone there?") == 3  # in the list, the title, the chat once
        assert "Not answered" not in text
        await pilot.press("ctrl+r")  # answered now: nothing to send again
        await settle(pilot)
        assert any("nothing to send again" in n for n in notifications(pilot))
    assert len(model.requests) == 2
    assert model.requests[1]["messages"][-1] == {"role": "user", "content": "Is anyone there?"}
    assert [m["role"] for m in model.requests[1]["messages"]] == ["system", "user"]
    messages = in_vault(layout, lambda session, me: [
        (m.role, m.content) for m in first_sessions_messages(session, me)])
    assert messages == [("user", "Is anyone there?"), ("assistant", "Hello, you slept well.")]
