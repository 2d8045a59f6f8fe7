"""The safety plan in the app: the key opens it over any screen, even while typing,
and escape comes back with what was typed; a phrase or a drop in mood in a saved entry
opens it; each turned off does not; each is explained once; the plan is edited with the
keyboard; the crisis card is chosen in a form that says it is not encrypted, and shown
on the unlock screen by the same key; and nothing reaches the AI model meanwhile."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from ai_server import FakeModel
from textual.widgets import Checkbox, Input, Label, Select, TextArea

from app_helpers import SIZE, make_app, notifications, settle, settle_until, type_text, unlock
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.safety import crisis_card
from luna_tui.services.safety.plan import SafetyPlans
from luna_tui.services.safety.triggers import EXPLANATIONS
from luna_tui.services.settings import Settings
from luna_tui.ui.screens.crisis_card import CrisisCardScreen
from luna_tui.ui.screens.dialogs import ConfirmDialog, KeysScreen
from luna_tui.ui.screens.entry_editor import EntryEditorScreen
from luna_tui.ui.screens.journal import JournalScreen
from luna_tui.ui.screens.plan import CrisisCardForm, PlanItemForm, PlanScreen
from luna_tui.ui.screens.unlock import UnlockScreen

HALF_TYPED = "Half a thought"


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Entry dates are local: the fake clock's 09:30 UTC is today everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.fixture
def model(session):
    server = FakeModel().start()
    Settings(session).set("ai.base_url", server.base_url)
    yield server
    server.stop()


def explanation(app) -> str | None:
    label = app.screen.query_one("#plan-explanation", Label)
    return str(label.render()) if label.display else None


async def new_entry(pilot, text: str, mood: int | None = None) -> None:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await type_text(pilot, text)
    if mood is not None:
        pilot.app.screen.query_one("#mood_scale", Select).value = str(mood)


async def save_entry(pilot) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_the_key_opens_the_plan_over_a_form_and_escape_keeps_the_text(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await new_entry(pilot, HALF_TYPED)
        editor = app.screen
        assert editor.query_one("#content", TextArea).has_focus
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert explanation(app) == EXPLANATIONS["key"]  # the first time
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is editor
        assert editor.query_one("#content", TextArea).text == HALF_TYPED  # nothing typed
        await pilot.press("f3")  # the second key, for terminals that keep f1
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen) and explanation(app) is None  # once
        await pilot.press("f1")  # again on the plan: still one plan
        await settle(pilot)
        assert sum(isinstance(s, PlanScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is editor and editor.query_one("#content", TextArea).text == (
            HALF_TYPED)


async def test_the_key_opens_the_plan_over_a_dialog(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, KeysScreen)
        keys = [str(row[2]) for row in (app.screen.query_one("#keys").get_row_at(i)
                                        for i in range(app.screen.query_one("#keys").row_count))]
        assert "go.plan" in keys  # listed in ?
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, KeysScreen)


async def test_the_palette_offers_the_plan(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Safety plan" in titles


async def test_with_the_key_off_it_opens_nothing(layout, session):
    Settings(session).set("safety.plan_key", "off")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert not isinstance(app.screen, PlanScreen)
        assert any("safety.plan_key" in n for n in notifications(pilot))


async def test_a_phrase_in_a_saved_entry_opens_the_plan_explained_once(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await new_entry(pilot, "Some nights I want to die")
        await save_entry(pilot)
        await settle_until(pilot, lambda: isinstance(app.screen, PlanScreen))
        assert explanation(app) == EXPLANATIONS["phrase"]
        assert [e.content for e in app.session.run(
            lambda: Journal(app.session).page(app.patient_id).entries)] == [
            "Some nights I want to die"]  # saved before the plan showed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)  # where the person was

        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "still want to die")
        await save_entry(pilot)
        await settle_until(pilot, lambda: isinstance(app.screen, PlanScreen))
        assert explanation(app) is None


async def test_an_ordinary_entry_or_the_phrase_trigger_off_opens_nothing(layout, session):
    Settings(session).set("safety.phrase_trigger", "off")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await new_entry(pilot, "I want to die")
        await save_entry(pilot)
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "A quiet day")
        await save_entry(pilot)
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)


def earlier_good_day(session, clock) -> None:
    me = Settings(session).current_patient_id()
    yesterday = (clock.today() - dt.timedelta(days=2)).isoformat()
    Journal(session).create(me, EntryDraft(content="Good day", mood_scale=8,
                                           entry_date=yesterday))


async def test_a_drop_in_mood_opens_the_plan(layout, session, clock):
    earlier_good_day(session, clock)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await new_entry(pilot, "Flat", mood=5)  # 3 below the best day
        await save_entry(pilot)
        await settle_until(pilot, lambda: isinstance(app.screen, PlanScreen))
        assert "3 points below your best day of the last 7 days" in explanation(app)


async def test_an_edit_weighs_only_what_it_changed(layout, session, clock):
    # An entry already 4 below the best day (written before the plan existed, or
    # imported): retitling it is no new hard moment; lowering its mood is.
    earlier_good_day(session, clock)
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Flat", mood_scale=4,
                                           entry_date=clock.today().isoformat()))
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e")  # the newest: "Flat"
        await settle(pilot)
        app.screen.query_one("#title", Input).value = "Tuesday"
        await save_entry(pilot)
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#mood_scale", Select).value = "3"
        await save_entry(pilot)
        await settle_until(pilot, lambda: isinstance(app.screen, PlanScreen))


async def test_with_the_mood_trigger_off_a_drop_opens_nothing(layout, session, clock):
    earlier_good_day(session, clock)
    Settings(session).set("safety.mood_drop_trigger", "off")
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await new_entry(pilot, "Flat", mood=2)
        await save_entry(pilot)
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)


async def test_the_plan_is_edited_with_the_keyboard(layout, session):
    me = Settings(session).current_patient_id()
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("n")  # the cursor is on the first section, warning signs
        await settle(pilot)
        assert isinstance(app.screen, PlanItemForm)
        await type_text(pilot, "Not sleeping")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        plan = app.session.run(lambda: SafetyPlans(app.session).get(me))
        [item] = plan.items["warning_signs"]
        assert item.text == "Not sleeping"

        await pilot.press("down", "e")
        await settle(pilot)
        assert app.screen.query_one("#text", Input).value == "Not sleeping"
        await type_text(pilot, " for days")
        await pilot.press("enter")  # one field: Enter saves as ctrl+s does
        await settle(pilot)
        plan = app.session.run(lambda: SafetyPlans(app.session).get(me))
        assert [i.text for i in plan.items["warning_signs"]] == ["Not sleeping for days"]

        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        plan = app.session.run(lambda: SafetyPlans(app.session).get(me))
        assert plan.empty


async def test_the_crisis_card_is_chosen_then_shown_on_the_unlock_screen(layout, session):
    me = Settings(session).current_patient_id()
    plans = SafetyPlans(session)
    chosen = plans.add_item(me, "people_to_ask", "Sam 07700 900123")
    plans.add_item(me, "people_to_ask", "Not this one")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CrisisCardForm)
        warning = str(app.screen.query_one("#card-warning", Label).render())
        assert "NOT encrypted" in warning and "WITHOUT your passphrase" in warning
        app.screen.query_one(f"#card-{chosen.id}", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        document = json.loads(crisis_card.card_path(layout.home).read_text("utf-8"))
        assert [line["text"] for line in document["lines"]] == ["Sam 07700 900123"]

        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.screen.query("#card-hint")  # the unlock screen names the key
        await pilot.press("f1")  # the passphrase field has the focus: f1 types nothing
        await settle(pilot)
        assert isinstance(app.screen, CrisisCardScreen)
        assert str(app.screen.query_one("#card-line-0", Label).render()) == (
            "• Sam 07700 900123")
        assert not app.screen.query("#card-line-1")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.screen.query_one("#passphrase", Input).value == ""


async def test_without_a_card_the_unlock_screen_key_only_says_so(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen) and not app.screen.query("#card-hint")
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert any("once you unlock" in n for n in notifications(pilot))


async def test_triggers_in_the_app_send_nothing_to_the_model(layout, session, clock, model):
    earlier_good_day(session, clock)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("escape")
        await new_entry(pilot, "I want to die", mood=2)
        await save_entry(pilot)
        await settle_until(pilot, lambda: isinstance(app.screen, PlanScreen))
    assert model.requests == [] and model.gets == []


async def test_escape_on_the_plan_place_itself_goes_home(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await app.action_go("plan")  # as a draft of the plan's form resumes it
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "dashboard"


async def test_an_editor_under_the_plan_is_not_saved_or_closed_by_it(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await new_entry(pilot, HALF_TYPED)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen_stack[-2], EntryEditorScreen)
        assert app.session.run(lambda: Journal(app.session).page(app.patient_id)
                               .entries) == []


async def test_a_long_step_wraps_at_80_columns_instead_of_running_off(layout, session):
    me = Settings(session).current_patient_id()
    step = ("Call my sister Anna on 0151 496 0000 and ask her to come over; if she does "
            "not answer, call Tom, then walk to the corner café and sit where people are")
    item = SafetyPlans(session).add_item(me, "people_to_ask", step)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("f1")
        await settle_until(pilot, lambda: isinstance(app.screen, PlanScreen))
        table = app.screen.query_one("#plan")
        await settle_until(pilot, lambda: f"item:{item.id}" in table.rows)
        assert table.rows[f"item:{item.id}"].height >= 3  # 150 characters in ~68 columns
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= 80
