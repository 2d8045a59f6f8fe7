"""Locking hides the vault first and always closes it: what the open forms hold is read
while they show, the unlock gate hides them before their drafts are written, and a lock
(or a quit) that fails half-way still closes the vault."""

from __future__ import annotations

import contextlib
import gc

import pytest
from textual.widgets import TextArea

from app_helpers import SIZE, make_app, settle, settle_until, type_text, unlock
from conftest import PASSPHRASE
from luna_tui.services import vault_session
from luna_tui.services.drafts import Drafts
from luna_tui.services.vault_session import VaultSession
from luna_tui.ui.screens.unlock import UnlockScreen

HEALTH_SCREENS = {"EntryEditorScreen", "JournalScreen", "DashboardScreen"}


async def open_new_entry(pilot) -> None:
    await unlock(pilot)
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)


async def test_the_drafts_are_written_once_the_gate_hides_the_forms(layout, session,
                                                                    monkeypatch):
    session.close()
    shown_while_keeping: list[str] = []
    keep = Drafts.keep

    def keeping(self, *args, **kwargs):
        shown_while_keeping.append(type(app.screen).__name__)
        return keep(self, *args, **kwargs)

    monkeypatch.setattr(Drafts, "keep", keeping)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_entry(pilot)
        await type_text(pilot, "knee")
        app.screen.query_one("#content", TextArea).insert(" sore")  # no Changed handled yet
        await app.lock("Locked.")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert shown_while_keeping and not HEALTH_SCREENS & set(shown_while_keeping)
        await unlock(pilot)
        assert type(app.screen).__name__ == "DraftsDialog"
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        [draft] = Drafts(reopened).pending()
    assert draft.fields["content"] == "knee sore"


async def test_a_lock_that_fails_half_way_still_closes_the_vault(layout, session, monkeypatch):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_entry(pilot)
        opened = app.session

        async def failing(name):
            raise RuntimeError("a bug while removing the places")

        monkeypatch.setattr(app, "remove_mode", failing)
        with pytest.raises(RuntimeError):
            await app.lock("Locked.")
        assert opened.closed and opened.keys is None  # at once, not at the app's end
        assert app.session is None and app._locking is None  # noqa: SLF001
        assert vault_session._open_session is None  # noqa: SLF001


async def test_a_quit_that_fails_keeping_drafts_still_closes_the_vault(layout, session,
                                                                       monkeypatch):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_entry(pilot)
        opened = app.session

        async def failing(session):
            raise RuntimeError("a bug while keeping drafts")

        monkeypatch.setattr(app.open_drafts, "keep_all", failing)
        with pytest.raises(RuntimeError):
            await app._close_vault()  # noqa: SLF001 - what quitting and on_unmount run
        assert opened.closed and app.session is None


@contextlib.asynccontextmanager
async def unlocked_as_luna_runs(layout):  # noqa: ANN001, ANN201
    """The app unlocked with Python's collector held as `luna` holds it (process-wide:
    handed back whole to the next test, whatever happened)."""
    app = make_app(layout)
    app.hold_settled_objects = True
    try:
        async with app.run_test(size=SIZE) as pilot:
            await unlock(pilot)
            yield app, pilot
    finally:
        gc.enable()
        gc.unfreeze()


async def test_what_lives_while_the_vault_is_open_is_held_out_of_full_collections_until_the_lock(
        layout, session):
    """`luna` freezes what exists once the dashboard shows and the places are imported
    (Python's full collections went over it all on a place's first visit); a lock hands
    it back to the collector, so the screens and what they showed can be freed."""
    session.close()
    async with unlocked_as_luna_runs(layout) as (app, pilot):
        await settle_until(pilot, lambda: gc.get_freeze_count() > 0)
        await app.lock("Locked.")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert gc.get_freeze_count() == 0


async def test_the_collector_waits_while_a_place_is_built_and_painted(layout, session):
    """`luna` holds Python's young collections from a place's key to a moment after its
    paint (HOLD_COLLECTIONS); they run again after it, whatever happened."""
    from luna_tui.ui.app import HOLD_COLLECTIONS

    session.close()
    async with unlocked_as_luna_runs(layout) as (_, pilot):
        await pilot.pause(HOLD_COLLECTIONS + 0.1)
        assert gc.isenabled()
        await pilot.press("2")
        assert not gc.isenabled()
        await pilot.pause(HOLD_COLLECTIONS + 0.1)
        assert gc.isenabled()
