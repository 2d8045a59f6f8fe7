"""Settings → Keys → Rotate…: the current passphrase first, the new one twice, the keys
that stop working listed before confirming; then the app locks, rotates with a progress
bar, shows the new recovery key once and opens the vault on the new key."""

from __future__ import annotations

from textual.widgets import Button, Checkbox, Input

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    settle,
    settle_until,
    unlock,
    widget_text,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.errors import WrongPassphrase
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent

CARER = "purple elephant dances slowly"


def screen_name(app) -> str:  # noqa: ANN001
    return app.screen.__class__.__name__


async def open_rotate_dialog(pilot) -> None:  # noqa: ANN001
    await unlock(pilot)
    await pilot.press("0")
    await settle(pilot)
    pilot.app.screen.show_part("keys")
    await settle(pilot)
    await pilot.click("#rotate-keys")
    await settle(pilot)
    assert screen_name(pilot.app) == "RotateDialog"


def fill(pilot, current: str, new: str, again: str) -> None:  # noqa: ANN001
    for selector, value in (("#rotate-current", current), ("#rotate-new", new),
                            ("#rotate-again", again)):
        pilot.app.screen.query_one(selector, Input).value = value


async def test_rotate_in_the_app_revokes_shows_the_recovery_key_once_and_reopens(
        layout, session, clock):
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Before the rotation"))
    KeyAdmin(session).add_key("carer", read_only=True, passphrase=CARER)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_rotate_dialog(pilot)
        fill(pilot, "not the passphrase", OTHER_PASSPHRASE, OTHER_PASSPHRASE)
        await pilot.click("#rotate-check")
        await settle_until(pilot, lambda: field_error(pilot, "rotate-current") != "")
        assert "Wrong passphrase" in field_error(pilot, "rotate-current")
        assert app.screen.query_one("#rotate-confirm", Button).disabled

        fill(pilot, PASSPHRASE, OTHER_PASSPHRASE, "something else")
        await pilot.click("#rotate-check")
        await settle(pilot)
        assert "not the same" in field_error(pilot, "rotate-again")

        fill(pilot, PASSPHRASE, OTHER_PASSPHRASE, OTHER_PASSPHRASE)
        await pilot.click("#rotate-check")
        await settle_until(pilot, lambda: not app.screen.query_one(
            "#rotate-confirm", Button).disabled)
        assert "carer (passphrase, read-only)" in widget_text(pilot, "#rotate-revoked")
        await pilot.click("#rotate-confirm")
        await settle_until(pilot, lambda: app.screen.has_class("rotated"))
        assert screen_name(app) == "RotatingScreen"
        assert app.session is None  # locked while the vault is rebuilt
        recovery = widget_text(pilot, "#recovery-key").replace("\n", " ")
        assert app.screen.query_one("#continue", Button).disabled  # until it is ticked
        app.screen.query_one("#written", Checkbox).value = True
        await pilot.pause()
        await pilot.click("#continue")
        await settle_until(pilot, lambda: app.session is not None and screen_name(app)
                           == "DashboardScreen")
        assert app.session.key.label == "owner"
        assert any("still open with the old passphrase" in n for n in notifications(pilot))
        assert any("1 other key(s) were revoked" in n for n in notifications(pilot))
    with VaultSession.open(layout, OTHER_PASSPHRASE, clock=clock) as reopened:
        assert "keys.rotate" in reopened.run(lambda: [e.event_name for e in AuditEvent.select()])
    VaultSession.open(layout, recovery, clock=clock).close()
    for old in (PASSPHRASE, CARER):
        try:
            VaultSession.open(layout, old, clock=clock).close()
        except WrongPassphrase:
            continue
        raise AssertionError(f"{old!r} still opens the vault")


async def test_a_read_only_key_is_refused_before_any_dialog(layout, session, clock):
    KeyAdmin(session).add_key("carer", read_only=True, passphrase=CARER)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, CARER)
        await pilot.press("0")
        await settle(pilot)
        app.screen.show_part("keys")
        await settle(pilot)
        await pilot.click("#rotate-keys")
        await settle(pilot)
        assert screen_name(app) == "SettingsScreen"
        assert any("read-only" in n for n in notifications(pilot))
