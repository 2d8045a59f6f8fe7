"""The app's frame as a person meets it: first run, unlock, lock, read-only keys, keys,
the command palette and the theme. Each test checks the screen and the vault after."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from app_helpers import (
    SIZE,
    make_app,
    notifications,
    screen_text,
    settle,
    type_text,
    unlock,
    widget_text,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import encrypted_connection
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.vault_session import VaultSession
from luna_tui.ui.screens.dashboard import DashboardScreen
from luna_tui.ui.screens.unlock import UnlockScreen


async def test_first_run_makes_a_vault_with_a_recovery_key(layout):
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        assert "Welcome to Luna" in screen_text(pilot)
        await type_text(pilot, "sunset")
        await pilot.pause()
        assert "too short" in screen_text(pilot)
        await pilot.press(*["backspace"] * 6)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, PASSPHRASE)
        await pilot.press("tab", "space", "ctrl+s")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Your recovery key" in text and "will not show it again" in text
        recovery = app.screen.new.recovery_key  # type: ignore[attr-defined]
        assert " ".join(recovery[i:i + 4] for i in range(0, 16, 4)).replace(" ", "  ") in text
        from textual.widgets import Button

        assert app.screen.query_one("#continue", Button).disabled  # until it is ticked
        await pilot.press("space", "tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "Your journal is empty. Press n" in screen_text(pilot)
        await pilot.press("ctrl+q")
    assert layout.exists()
    from luna_tui.services.terms import Terms

    with VaultSession.open(layout, recovery) as session:
        assert Terms(session).accepted()


async def test_the_notice_must_be_accepted_and_the_passphrases_match(layout):
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, PASSPHRASE + "x")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not the same" in screen_text(pilot)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Luna is not a medical device" in screen_text(pilot)
        assert not layout.exists()


async def test_a_wrong_passphrase_says_so_and_lets_you_try_again(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        assert "Unlock your vault" in screen_text(pilot)
        await unlock(pilot, "not the right one at all")
        assert "Wrong passphrase" in screen_text(pilot)
        assert isinstance(app.screen, UnlockScreen)
        await type_text(pilot, PASSPHRASE)  # typed key by key, as a person does
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "1 failed unlock attempt" in " ".join(notifications(pilot))


@pytest.mark.parametrize("attempted_at", ["[/x] 2026", b"2026-11-22T\xff"],
                         ids=["markup", "bytes"])
async def test_a_remembered_failure_is_shown_as_plain_text(layout, session, attempted_at):
    """Failed unlocks wait in the plain keys.db, which anyone can write: what its time
    says is shown as text, never read as markup nor sliced as bytes."""
    import sqlite3

    session.close()
    with sqlite3.connect(layout.keys_db) as conn:
        conn.execute("INSERT INTO unlock_failures (created_at, reason, host, client) "
                     "VALUES (?, 'wrong passphrase', 'host', 'luna')", (attempted_at,))
    conn.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PASSPHRASE)
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        [said] = [n for n in app._notifications if "failed unlock" in n.message]  # noqa: SLF001
        assert not said.markup
        assert "(the latest at 2026" in said.message or "at [/x] 2026" in said.message


async def test_an_unexpected_failure_while_unlocking_lets_you_try_again(layout, session,
                                                                       monkeypatch):
    session.close()
    real_open = VaultSession.open

    def broken_once(*args, **kwargs):
        monkeypatch.setattr(VaultSession, "open", real_open)
        raise RuntimeError("a bug")

    monkeypatch.setattr(VaultSession, "open", broken_once)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "could not open the vault (RuntimeError)" in screen_text(pilot)
        assert not app.screen.query_one("#passphrase").disabled
        await unlock(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_the_field_holds_still_while_the_vault_unlocks(layout, session, monkeypatch):
    """While the key is derived, the field keeps its dots and the focus, and what is
    typed or pressed there does nothing: no second unlock starts, no key lands in it."""
    import threading

    session.close()
    real_open = VaultSession.open
    started, go_on = threading.Event(), threading.Event()
    calls = []

    def slow_open(*args, **kwargs):
        calls.append(args)
        started.set()
        go_on.wait(10)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(VaultSession, "open", slow_open)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#passphrase", Input)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        assert started.wait(10)
        await type_text(pilot, "more")
        await pilot.press("backspace", "enter")
        await pilot.pause()
        assert field.value == PASSPHRASE and app.focused is field and not field.disabled
        go_on.set()
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    assert len(calls) == 1


async def test_a_vault_that_opens_but_cannot_be_read_is_closed_again(layout, session,
                                                                    monkeypatch):
    """The unlocking thread reports with a message; the app then fails to read the
    vault's first state: it says so on a fresh unlock screen and closes the session (a
    second unlock must not find the vault still held)."""
    from luna_tui.errors import LunaError
    from luna_tui.services.settings import Settings

    session.close()
    real = Settings.current_patient_id

    def broken_once(self):  # noqa: ANN001, ANN202
        monkeypatch.setattr(Settings, "current_patient_id", real)
        raise LunaError("the settings could not be read")

    monkeypatch.setattr(Settings, "current_patient_id", broken_once)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and app.screen.error
        assert app.session is None
        assert not app.screen.query_one("#passphrase").disabled
        await unlock(pilot)
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.dates
async def test_it_locks_after_idle_and_forgets_what_it_showed(layout, session, clock):
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.settings import Settings

    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Something private on screen"))
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "Something private on screen" in screen_text(pilot)
        clock.advance(minutes=4)
        await app.lock_if_idle()
        assert app.session is not None  # not yet
        await pilot.press("2")  # activity resets the idle time
        clock.advance(minutes=4)
        await app.lock_if_idle()
        assert app.session is not None
        clock.advance(minutes=2)
        await app.lock_if_idle()
        await settle(pilot)
        assert app.session is None
        assert isinstance(app.screen, UnlockScreen)
        assert widget_text(pilot, "#status").startswith("Locked after 5 minutes")
        assert "Something private" not in screen_text(pilot)
        assert not app.screen.query("DataTable")
        await unlock(pilot)
        assert "Something private on screen" in widget_text(pilot, "#latest-body")
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        audit_key = reopened.keys.audit_db
    events = []
    for month in layout.audit_months():  # ten minutes may have crossed into a new month
        with encrypted_connection(layout.audit_db(month), audit_key) as conn:
            events += [name for (name,) in conn.execute("SELECT event_name FROM audit")]
    assert events.count("lock") >= 3


async def test_the_lock_key_locks_now(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.session is None and isinstance(app.screen, UnlockScreen)
        await pilot.press("1")  # navigation does nothing while locked
        assert isinstance(app.screen, UnlockScreen)


async def test_the_unlock_is_settled_once_the_dashboard_shows(layout, session):
    """The dashboard does not wait for the unlock's audit row to be copied into the month
    file nor for the unlock's count (VaultSession.connect's settle_later): its row is in
    luna.db from the start, and the app settles the rest once the dashboard shows."""
    from luna_tui.store.models.audit import AuditEvent
    from luna_tui.store.models.vault_state import AuditOutbox

    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        opened = app.session
        assert isinstance(app.screen, DashboardScreen)

        def log() -> tuple[list[str], list[str]]:
            return ([e.event_name for e in AuditEvent.select().order_by(AuditEvent.seq)],
                    [r.event_name for r in AuditOutbox.select()])

        assert opened.run(log)[1] == ["unlock"]  # committed in luna.db before any paint
        for _ in range(40):
            await pilot.pause(0.05)
            await settle(pilot)
            if opened.run(log)[0][-1] == "unlock":
                break
        assert opened.run(log)[0][-2:] == ["lock", "unlock"]  # copied into the month file


async def test_a_read_only_key_shows_a_badge_and_refuses_to_write(layout, session):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, OTHER_PASSPHRASE)
        assert "read-only" in screen_text(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert "read-only key 'caregiver'" in " ".join(notifications(pilot))
        assert app.screen.__class__.__name__ == "DashboardScreen"  # no editor opened
        await pilot.press("2")
        await settle(pilot)
        journal = app.screen
        assert journal.check_action("new", ()) is None  # greyed out in the footer
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is journal


async def test_question_mark_lists_the_keys_of_the_screen(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Keys on this screen" in text
        for description in ("New", "Search", "Filters", "Delete", "Lock", "Patient"):
            assert description in text
        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "JournalScreen"


async def test_the_command_palette_offers_places_and_actions(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        titles_locked = {c.title for c in app.get_system_commands(app.screen)}
        assert "Lock" not in titles_locked and "Quit" in titles_locked
        await unlock(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Dashboard", "Journal", "Patients", "New entry", "Search the journal",
                "Switch patient", "Lock", "Quit"} <= titles


async def test_keys_can_be_remapped_in_the_config_file(layout, session, tmp_path):
    session.close()
    config = tmp_path / "luna-config"
    config.mkdir()
    (config / "config.toml").write_text('[keymap]\n"journal.new" = "a"\n"go.journal" = "j"\n')
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "JournalScreen"
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "EntryEditorScreen"


async def test_a_broken_config_file_is_reported_not_fatal(layout, session, tmp_path):
    session.close()
    config = tmp_path / "luna-config"
    config.mkdir()
    (config / "config.toml").write_text("[keymap\n")
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        assert "could not be read" in " ".join(notifications(pilot))
        assert isinstance(app.screen, UnlockScreen)


async def test_the_theme_is_remembered(layout, session, tmp_path):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
    assert (tmp_path / "luna-config" / "state.json").exists()
    again = make_app(layout)
    async with again.run_test(size=SIZE):
        assert again.theme == "textual-light"


@pytest.mark.slow
async def test_changes_from_another_process_appear(layout, session, clock):
    import asyncio
    import os
    import subprocess
    import sys

    session.close()
    app = make_app(layout, clock)  # the machine's time, as the script's below (slow)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        env = {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE, "LUNA_HOME": str(layout.home)}
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "luna_tui", "add", "Written from a script"],
            env=env, check=True, capture_output=True)
        await app.check_outside_changes()
        await settle(pilot)
        assert "Written from a script" in screen_text(pilot)
