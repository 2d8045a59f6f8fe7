"""Frictions a newcomer hit in the app (issue 15), each as they met it: search results out
of reach of the arrows, greyed keys that said nothing, "120/80" refused, wording, line
breaks lost in the reader, and fast typing after Tab landing in the field just left."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Label

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    settle,
    table_rows,
    type_text,
    unlock,
    widget_text,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession

PLACES = {"journal": "JournalScreen", "medications": "MedicationsScreen",
          "appointments": "AppointmentsScreen", "vitals": "VitalsScreen",
          "records": "RecordsScreen", "companion": "CompanionScreen",
          "patients": "PatientsScreen", "backups": "BackupsScreen"}


@pytest.fixture
def knee_vault(layout, session):
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    journal.create(me, EntryDraft(content="Knee hurt on the stairs", title="Bad knee day",
                                  entry_date="2026-11-20", entry_time="18:00"))
    journal.create(me, EntryDraft(content="Knee better after rest", entry_date="2026-11-21",
                                  entry_time="09:00"))
    journal.create(me, EntryDraft(content="A walk by the river", entry_date="2026-11-19",
                                  entry_time="10:00"))
    session.close()
    return layout


# -- 1. search results within reach of the arrows -----------------------------------------

async def test_down_from_the_search_field_reaches_the_results(knee_vault):
    app = make_app(knee_vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        journal = app.screen
        await pilot.press("slash")
        await type_text(pilot, "knee")
        await pilot.press("down")  # at once: the search has not run yet
        await settle(pilot)
        table = journal.query_one("#entries", DataTable)
        assert journal.focused is table and table.row_count == 2
        assert journal.query_one("#search", Input).value == "knee"
        await pilot.press("down", "f")  # the second result, made a favorite
        await settle(pilot)
        assert journal.query_one("#search", Input).value == "knee"  # not "kneef"
        second = journal._selected()
        assert second is not None and second.favorite
        await pilot.press("up", "up")  # the first result, then the search field again
        assert journal.focused is journal.query_one("#search", Input)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryReaderScreen"
    with VaultSession.open(knee_vault, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        from luna_tui.services.journal import JournalFilter

        favorites = Journal(session).page(me, JournalFilter(favorites_only=True)).entries
        assert [e.id for e in favorites] == [second.id]


# -- 2. every greyed action says why -------------------------------------------------------

async def test_every_greyed_key_of_every_place_says_why(layout, session):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, OTHER_PASSPHRASE)
        for place, name in PLACES.items():
            await app.run_action(f"go('{place}')")
            await settle(pilot)
            screen = app.screen
            assert screen.__class__.__name__ == name
            if isinstance(screen.focused, Input):  # the companion's message field
                await pilot.press("escape")
            greyed = [key for key, active in screen.active_bindings.items()
                      if not active.enabled]
            assert greyed, f"{name} greys nothing for a read-only key"
            for key in greyed:
                app.clear_notifications()
                await pilot.press(key)
                await settle(pilot)
                said = " ".join(notifications(pilot))
                assert "read-only key 'caregiver', which cannot" in said, (name, key)
                assert app.screen is screen, (name, key)  # nothing opened


async def test_a_greyed_key_in_the_reader_and_a_form_says_why(knee_vault):
    with VaultSession.open(knee_vault, PASSPHRASE) as session:
        KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    app = make_app(knee_vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, OTHER_PASSPHRASE)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        reader = app.screen
        assert reader.__class__.__name__ == "EntryReaderScreen"
        for key in ("e", "f", "x"):
            app.clear_notifications()
            await pilot.press(key)
            await settle(pilot)
            assert "read-only key 'caregiver', which cannot" in " ".join(notifications(pilot))
            assert app.screen is reader


# -- 3. "120/80" in the systolic field -----------------------------------------------------

async def test_a_blood_pressure_typed_as_120_over_80_fills_both_values(layout, session, clock):
    from luna_tui.services.vitals import Vitals

    me = Settings(session).current_patient_id()
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("down", "n")  # weight, then blood pressure
        await settle(pilot)
        form = app.screen
        assert form.__class__.__name__ == "VitalFormScreen"
        await type_text(pilot, "120/130")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Split into its fields, the impossible second value is said under its own.
        assert form.query_one("#value", Input).value == "120"
        assert form.query_one("#value2", Input).value == "130"
        assert "must be higher" in str(form.query_one("#error-value2").content)
        form.query_one("#value", Input).value = "120/80"
        form.query_one("#value2", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "VitalsScreen"
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        readings = Vitals(reopened).page(me, kind="blood_pressure").vitals
        assert [(r.value, r.value2) for r in readings] == [(120, 80)]


# -- 6. wording ----------------------------------------------------------------------------

async def test_locked_after_one_minute_is_singular(layout, session, clock):
    Settings(session).set("auto_lock_minutes", "1")
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        clock.advance(minutes=2)
        await app.lock_if_idle()
        await settle(pilot)
        assert widget_text(pilot, "#status") == "Locked after 1 minute without use."


async def test_a_search_matching_the_title_shows_it_once(knee_vault):
    app = make_app(knee_vault)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "bad")
        await pilot.press("enter")
        await settle(pilot)
        rows = table_rows(pilot, "#entries")
        assert len(rows) == 1
        assert rows[0][2].count("Bad knee day") == 1, rows[0][2]


async def test_a_record_search_matching_the_title_shows_it_once(layout, session):
    from luna_tui.services.records import Records

    me = Settings(session).current_patient_id()
    Records(session).create(me, title="Ferritin panel", record_type="lab")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "ferritin")
        await pilot.press("enter")
        await settle(pilot)
        [row] = table_rows(pilot, "#records")
        assert row[2].count("Ferritin panel") == 1, row[2]

async def test_an_error_under_a_field_goes_when_the_field_is_typed_in(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert form.__class__.__name__ == "RecordFormScreen"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "can't be blank" in field_error(pilot, "title")
        await type_text(pilot, "Blood test")
        await settle(pilot)
        assert field_error(pilot, "title") == ""


async def test_a_long_title_is_cut_with_an_ellipsis_in_the_delete_question(layout, session):
    me = Settings(session).current_patient_id()
    title = "A very long title about the knee and the stairs and the physio visit"
    Journal(session).create(me, EntryDraft(content="text", title=title,
                                           entry_date="2026-11-20"))
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        question = str(app.screen.query_one(".heading", Label).content)
        assert question == f"Delete the entry of 2026-11-20 “{title[:39]}…”?"


# -- 7. lines as typed in the reader -------------------------------------------------------

async def test_the_reader_keeps_the_lines_as_typed_and_markup_stays_text(layout, session):
    from textual.widgets import Markdown

    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(
        content="Woke at 4\n[b]knee[/b] sore\n**better** by noon\n\nNew paragraph",
        entry_date="2026-11-20"))
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        body = app.screen.query_one("#reader-body", Markdown)
        paragraphs = [str(block._content) for block in body.children]
        assert paragraphs == ["Woke at 4\n[b]knee[/b] sore\nbetter by noon", "New paragraph"]


# -- 11. fast typing after Tab (a password manager's autotype) -----------------------------

def type_at_once(pilot, keys: list[str]) -> None:
    """Every key arrives before the app handles the first, as from a password manager
    (Pilot.press waits for the app between keys, which hides the race)."""
    from textual import events

    for key in keys:
        character = {"enter": "\r", "space": " "}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, character)
        event.set_sender(pilot.app)
        pilot.app.post_message(event)


def keys_of(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


async def test_the_welcome_form_takes_autotyped_passphrases_as_typed(layout):
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        type_at_once(pilot, [*keys_of(PASSPHRASE), "tab", *keys_of(PASSPHRASE), "tab",
                             "space"])
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#passphrase", Input).value == PASSPHRASE
        assert screen.query_one("#again", Input).value == PASSPHRASE
        from textual.widgets import Checkbox

        assert screen.query_one("#notice", Checkbox).value
        type_at_once(pilot, ["shift+tab", "shift+tab"])  # back to the first field
        await settle(pilot)
        assert screen.focused is screen.query_one("#passphrase", Input)
        assert screen.query_one("#again", Input).value == PASSPHRASE


async def test_enter_after_the_first_passphrase_moves_on_before_more_keys(layout):
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        type_at_once(pilot, [*keys_of(PASSPHRASE), "enter", *keys_of(PASSPHRASE)])
        await settle(pilot)
        assert app.screen.query_one("#passphrase", Input).value == PASSPHRASE
        assert app.screen.query_one("#again", Input).value == PASSPHRASE


async def test_the_unlock_form_takes_an_autotyped_passphrase(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # A password manager's "{USERNAME}{TAB}{PASSWORD}{ENTER}" with no user name.
        type_at_once(pilot, ["tab", *keys_of(PASSPHRASE), "enter"])
        await settle(pilot)
        assert app.session is not None
        assert app.screen.__class__.__name__ == "DashboardScreen"
