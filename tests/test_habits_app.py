"""The habits in the app: the dashboard's streak line and on-this-day panel (filled
after the first paint, Enter opens an entry, 80×24 keeps both panels), and templates
(n offers them, T lists them, the editor starts from one)."""

from __future__ import annotations

import datetime as dt

import pytest
from test_app_small_screen import SMALL, inside
from textual.widgets import Checkbox, DataTable, Input, Label, OptionList, Select, TextArea

from app_helpers import make_app, settle, settle_until, type_text, unlock
from conftest import PASSPHRASE
from luna_tui.services.entry_templates import EntryTemplates
from luna_tui.services.journal import EntryDraft, Journal, JournalFilter
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


@pytest.fixture(autouse=True)
def habits_at_once(monkeypatch):
    """The dashboard reads its habits once the person has stayed on it a moment; here,
    at once, so a test need not wait out the moment."""
    monkeypatch.setattr("luna_tui.ui.screens.dashboard.HABITS_AFTER", 0)


def _in_vault(layout, read):
    with VaultSession.open(layout, PASSPHRASE) as session:
        return read(session)


@pytest.fixture
def remembered(layout, session, clock):
    """Entries on today's date one and three years ago, three days written in a row up
    to yesterday, and one entry of another day; closed, as the app finds the vault."""
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    today = clock.today()
    for years, text in ((1, "First snow"), (3, "Moved house")):
        day = today.replace(year=today.year - years)
        journal.create(me, EntryDraft(content=text, entry_date=day.isoformat(),
                                      entry_time="09:00"))
    for back in (1, 2, 3):
        journal.create(me, EntryDraft(content=f"{back} days ago", entry_time="",
                                      entry_date=(today - dt.timedelta(days=back)).isoformat()))
    session.close()
    return layout


async def test_the_dashboard_remembers_this_day_and_enter_opens_the_entry(remembered, clock):
    app = make_app(remembered, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await settle(pilot)
        screen = app.screen
        options = screen.query_one("#on-this-day-list", OptionList)
        assert screen.query_one("#on-this-day").display
        assert [screen.remembered[options.get_option_at_index(i).id].content
                for i in range(options.option_count)] == ["First snow", "Moved house"]
        streaks = str(screen.query_one("#streaks", Label).content)
        assert "journal 3 days (best 3)" in streaks  # today is not written yet
        assert app.focused is options
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryReaderScreen"
        assert app.screen.entry.content == "Moved house"


async def test_without_earlier_years_the_panel_is_hidden(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await settle(pilot)
        assert not app.screen.query_one("#on-this-day").display
        assert app.screen.query_one("#on-this-day-list", OptionList).disabled
        assert str(app.screen.query_one("#streaks", Label).content) == ""


async def test_at_80_by_24_the_latest_entries_and_on_this_day_both_show(remembered, clock):
    app = make_app(remembered, clock)
    async with app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await settle(pilot)
        screen = app.screen
        for selector in ("#latest-body", "#on-this-day-list", "#streaks", "#today"):
            inside(screen.region, screen.query_one(selector), selector)
        assert screen.query_one("#latest-body").region.height >= 2  # two entries at least


def _with_template(session, **fields) -> str:
    fields = {"title": "Evening {weekday}", "body": "## What went well\n\n## What was hard",
              "tags": ["evening"], "asks_sleep": False, **fields}
    template = EntryTemplates(session).create("Evening check-in", **fields)
    session.close()
    return template.id


async def test_n_offers_the_templates_and_the_editor_starts_from_one(layout, session, clock):
    _with_template(session)
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        choices = app.screen.query_one("#template-choices", OptionList)
        assert [choices.get_option_at_index(i).id for i in range(choices.option_count)][0] \
            == "blank"
        await pilot.press("down", "enter")
        await settle(pilot)
        editor = app.screen
        assert editor.__class__.__name__ == "EntryEditorScreen"
        weekday = clock.now().astimezone().strftime("%A")
        assert editor.query_one("#title", Input).value == f"Evening {weekday}"
        assert editor.query_one("#content", TextArea).text.startswith("## What went well")
        assert editor.query_one("#tags", Input).value == "#evening"
        assert not editor.query_one("#sleep_hours", Input).parent.display
        assert editor.query_one("#mood-pair").display
        editor.query_one("#content", TextArea).insert("\nA calm dinner.")
        await pilot.press("ctrl+s")
        await settle(pilot)
    entries = _in_vault(layout, lambda s: Journal(s).page(
        Settings(s).current_patient_id(), JournalFilter(tag="evening")).entries)
    assert [e.title for e in entries] == [f"Evening {weekday}"]
    assert "A calm dinner." in entries[0].content


async def test_a_blank_entry_is_still_one_choice_away(layout, session, clock):
    _with_template(session)
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        editor = app.screen
        assert editor.query_one("#content", TextArea).text == ""
        assert editor.query_one("#journal_type", Select).value == "free"
        assert editor.query_one("#sleep_hours", Input).parent.display


async def test_without_templates_n_opens_the_editor_at_once(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryEditorScreen"


async def test_templates_are_added_changed_and_deleted_from_the_journal(layout, session,
                                                                        clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TemplatesDialog"
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await type_text(pilot, "Morning pages")
        form.query_one("#title", Input).value = "Morning {date}"
        form.query_one("#tags", Input).value = "#morning #pages"
        form.query_one("#journal_type", Select).value = "prompted"
        await settle(pilot)
        form.query_one("#prompt", Input).value = "What is on your mind?"
        form.query_one("#asks_mood", Checkbox).value = False
        form.query_one("#body", TextArea).text = "Three pages, no stopping."
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "TemplatesDialog")
        table = app.screen.query_one("#template-list", DataTable)
        assert table.row_count == 1

        made = EntryTemplates(app.session).list()
        assert [(t.name, t.title, t.tags, t.journal_type, t.prompt, t.asks_mood,
                 t.asks_sleep) for t in made] == [
            ("Morning pages", "Morning {date}", ("morning", "pages"), "prompted",
             "What is on your mind?", False, True)]

        await pilot.press("enter")  # edit it
        await settle(pilot)
        app.screen.query_one("#name", Input).value = "Morning"
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "TemplatesDialog")
        assert [t.name for t in EntryTemplates(app.session).list()] == [
            "Morning"]

        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#template-list", DataTable).row_count == 0
    assert _in_vault(layout, lambda s: EntryTemplates(s).list()) == []


async def test_a_template_form_says_what_is_wrong_under_the_field(layout, session, clock):
    _with_template(session)
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("T", "n")
        await settle(pilot)
        await type_text(pilot, "evening CHECK-in")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TemplateFormScreen"
        from app_helpers import field_error

        assert "already a template called 'Evening check-in'" in field_error(pilot, "name")




def _app_for_template(layout, clock, name: str):
    from conftest import cheap_kdf
    from luna_tui.ui.app import LunaApp

    return LunaApp(layout, clock=clock, new_vault_kdf=cheap_kdf(), idle_check_seconds=3600,
                   automatic_backups=False, reminders=False, desktop_notifications=False,
                   template=name)


async def test_luna_add_template_opens_the_editor_filled_and_ends_with_it(layout, session,
                                                                         clock):
    _with_template(session)
    app = _app_for_template(layout, clock, "evening")
    async with app.run_test() as pilot:
        await unlock(pilot)
        await settle(pilot)
        editor = app.screen
        assert editor.__class__.__name__ == "EntryEditorScreen"
        assert editor.query_one("#content", TextArea).text.startswith("## What went well")
        editor.query_one("#content", TextArea).insert("Tea with Sam.\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert app.edited is not None and app.edited.tags == ("evening",)


async def test_luna_add_with_an_unknown_template_ends_the_app_saying_why(layout, session,
                                                                        clock):
    session.close()
    app = _app_for_template(layout, clock, "nothing like it")
    async with app.run_test() as pilot:
        await unlock(pilot)
        await settle(pilot)
    assert "no template called 'nothing like it'" in str(app.failure)


async def test_the_habits_are_read_once_the_dashboard_is_painted(remembered, clock,
                                                                 monkeypatch):
    """The first paint's one read is the dashboard's own; on this day and the streaks
    come after it, in a read of their own."""
    from luna_tui.services.read_models.dashboard import Dashboard
    from luna_tui.services.read_models.habits import Habits

    reads: list[str] = []
    for model, name in ((Dashboard, "dashboard"), (Habits, "habits")):
        real = model.today

        def recorded(self, *args, _real=real, _name=name):
            reads.append(_name)
            return _real(self, *args)

        monkeypatch.setattr(model, "today", recorded)
    app = make_app(remembered, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await settle(pilot)
        assert reads == ["dashboard", "habits"]
        assert app.screen.query_one("#on-this-day").display


async def test_a_place_opened_right_after_the_unlock_waits_for_no_habits(remembered, clock,
                                                                       monkeypatch):
    """Ten years of streaks hold the one database thread ~50 ms: a place opened within
    the moment after the unlock must not wait for them, and leaving first reads none."""
    from luna_tui.services.read_models.habits import Habits

    monkeypatch.setattr("luna_tui.ui.screens.dashboard.HABITS_AFTER", 3600)
    reads: list[str] = []
    real = Habits.today
    monkeypatch.setattr(Habits, "today", lambda self, *args: reads.append("habits") or
                        real(self, *args))
    app = make_app(remembered, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await settle(pilot)
        dashboard = app.screen
        assert reads == [] and not dashboard.query_one("#on-this-day").display
        await pilot.press("2")
        await settle(pilot)
        dashboard._ask_habits(app.patient_id, clock.today())  # the moment is over: left
        await settle(pilot)
        assert reads == []


async def test_the_template_form_and_chooser_fit_80_by_24(layout, session, clock):
    _with_template(session)
    app = make_app(layout, clock)
    async with app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        chooser = app.screen
        inside(chooser.region, chooser.query_one("#template-choices"), "the choices")
        await pilot.press("escape", "T")
        await settle(pilot)
        await pilot.press("enter")  # edit the one template
        await settle(pilot)
        form = app.screen
        assert form.__class__.__name__ == "TemplateFormScreen"
        form.query_one("#journal_type", Select).value = "prompted"
        await settle(pilot)
        for selector in ("#body", "#name", "#title", "#tags", "#journal_type", "#prompt",
                         "#asks_mood", "#asks_sleep"):
            inside(form.region, form.query_one(selector), selector)


async def test_the_choosers_last_line_lists_the_templates(layout, session, clock):
    _with_template(session)
    app = make_app(layout, clock)
    async with app.run_test() as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TemplatesDialog"
        assert app.screen.query_one("#template-list", DataTable).row_count == 1
