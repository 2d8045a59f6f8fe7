"""Backups in the app (key 9): make one, verify it with its passphrase, restore it in place
of the vault, delete it; and the automatic backup after unlocking. Each test checks what
the person sees, then the files and the vault.

What the person sees is read from the widgets and notifications, whole: the screen's
sentences hold the vault's folder, so on screen they wrap wherever the temp path's
length puts the line end. The app and the reopened vaults share the test's clock; the
tests marked `dates` run at each "today" of the date matrix (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from textual.widgets import ProgressBar

from app_helpers import (
    SIZE,
    make_app,
    notifications,
    screen_text,
    settle,
    settle_until,
    table_rows,
    widget_text,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.home import VaultLayout
from luna_tui.services import vault_session
from luna_tui.services.backups.folder import Backups, verification_path
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent

VERIFIED = 3  # the table's column


def backup_files(layout: VaultLayout) -> list[str]:
    folder = layout.backups_dir
    return sorted(p.name for p in folder.glob("*.lunabak")) if folder.is_dir() else []


def safety_copies(layout: VaultLayout) -> list:
    folder = layout.backups_dir
    return sorted(folder.glob("before-restore-*")) if folder.is_dir() else []


def entry_texts(layout: VaultLayout, clock) -> list[str]:
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        me = Settings(session).current_patient_id()
        return sorted(e.content for e in Journal(session).page(me, limit=50).entries)


def audit_events(layout: VaultLayout, clock, event: str) -> list[tuple[str, dict]]:
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        return session.run(lambda: [
            (r.record_locator, json.loads(r.diff)) for r in
            AuditEvent.select().where(AuditEvent.event_name == event)])


def write(session, content: str) -> None:
    """An entry of yesterday (the session's clock's)."""
    me = Settings(session).current_patient_id()
    yesterday = session.clock.now().astimezone().date() - dt.timedelta(days=1)
    Journal(session).create(me, EntryDraft(content=content, entry_date=yesterday.isoformat()))


async def enter_secret(pilot, secret: str) -> None:
    """Type a passphrase into the focused field and press Enter (set whole: typing it key
    by key is tested by the unlock tests, and costs seconds here)."""
    from textual.widgets import Input

    field = pilot.app.focused
    assert isinstance(field, Input) and field.password
    field.value = secret
    await pilot.press("enter")
    await settle(pilot)


async def unlock(pilot, passphrase: str = PASSPHRASE) -> None:
    await enter_secret(pilot, passphrase)


async def open_backups(pilot, passphrase: str = PASSPHRASE) -> None:
    await unlock(pilot, passphrase)
    await pilot.press("9")
    await settle(pilot)


def labels_text(pilot) -> str:
    """The words of the screen or dialog on top, whole (on screen they wrap in a border)."""
    from textual.widgets import Label

    return " ".join(str(label.content) for label in pilot.app.screen.query(Label))


@pytest.fixture
def backed_up(layout, session, clock):
    """A vault with one entry and a backup of it made the day before, closed."""
    write(session, "Before the backup")
    clock.advance(days=-1)
    info = Backups(session).create()
    clock.advance(days=1)
    session.close()
    return info


async def test_nine_opens_backups_and_says_there_are_none(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "9 Backups" in screen_text(pilot)  # the dashboard's footer lists it
        await pilot.press("9")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "BackupsScreen"
        assert "Luna · Backups" in screen_text(pilot)
        assert widget_text(pilot, "#backups-status") == (
            "No backups of this vault yet. Press b to make one.")
        assert widget_text(pilot, "#backups-folder") == (
            f"Folder {layout.backups_dir} · automatic on unlock when the newest is 7 days "
            "old, keeping the 10 newest")
        assert table_rows(pilot, "#backups") == []
    assert backup_files(layout) == []


async def test_b_backs_up_now_and_the_backup_is_listed_and_on_disk(layout, session, clock):
    write(session, "One entry")
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("b")
        await settle(pilot)
        files = backup_files(layout)
        assert len(files) == 1
        rows = table_rows(pilot, "#backups")
        assert len(rows) == 1
        made, size, entries, verified, name = rows[0]
        assert (entries, verified, name) == ("1", "not verified", files[0])
        assert size.endswith("KB")
        assert any(n.startswith(f"Backup saved: {files[0]}") for n in notifications(pilot))
        assert widget_text(pilot, "#backups-status").startswith(
            "1 backup of this vault. The newest is from today; not verified yet")
        assert app.backup_activity is None and not app.backup_jobs.busy
    assert [locator for locator, _ in audit_events(layout, clock, "backup.create")] == files


async def test_progress_shows_while_backing_up_one_at_a_time_and_a_lock_waits_for_it(
        layout, session, monkeypatch, clock):
    session.close()
    release, original = threading.Event(), Backups.create

    def slow_create(self, folder=None, progress=None, **kwargs):
        progress(0.5, "Copying luna.db…")
        release.wait(10)
        return original(self, folder, progress, **kwargs)

    monkeypatch.setattr(Backups, "create", slow_create)
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("b")
        for _ in range(50):
            await pilot.pause(0.02)
            if app.backup_activity is not None and app.backup_activity.done == 0.5:
                break
        await pilot.pause()
        assert app.screen.query_one("#backup-progress-row").display
        assert widget_text(pilot, "#backup-what") == "Backing up"
        assert app.screen.query_one("#backup-progress", ProgressBar).progress == 50
        assert widget_text(pilot, "#backup-step") == "Copying luna.db…"
        await pilot.press("b")  # a second one is refused, the first goes on
        await pilot.pause()
        assert "Backing up is under way; wait for it to finish." in notifications(pilot)
        await pilot.press("1")  # the app keeps answering meanwhile
        await pilot.pause()
        assert app.screen.__class__.__name__ == "DashboardScreen"
        await pilot.press("ctrl+l")  # locked at once; the backup still needs the vault
        await pilot.pause()
        assert app.screen.__class__.__name__ == "UnlockScreen" and app.session is None
        assert widget_text(pilot, "#status") == "Locked. Finishing the backup under way first…"
        assert app.screen.query_one("#passphrase").disabled  # no unlock before it is closed
        assert vault_session._open_session is not None
        release.set()
        await settle(pilot)
        assert not app.backup_jobs.busy and vault_session._open_session is None
        assert widget_text(pilot, "#status") == "Locked."
        assert not app.screen.query_one("#passphrase").disabled
        assert len(backup_files(layout)) == 1
        await unlock(pilot)
        await pilot.press("9")
        await settle(pilot)
        assert not app.screen.query_one("#backup-progress-row").display
        assert len(table_rows(pilot, "#backups")) == 1
    assert len(backup_files(layout)) == 1
    assert len(audit_events(layout, clock, "backup.create")) == 1
    assert audit_events(layout, clock, "backup.failed") == []


@pytest.mark.dates
async def test_v_verifies_with_the_passphrase_the_backup_opens_with(layout, backed_up, clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        assert table_rows(pilot, "#backups")[0][VERIFIED] == "not verified"
        await pilot.press("v")
        await settle(pilot)
        assert "Verify this backup?" in screen_text(pilot)
        assert ("the passphrase (or recovery key) the vault had when this backup was made"
                in labels_text(pilot))
        await enter_secret(pilot, OTHER_PASSPHRASE)  # not this vault's: a sentence
        assert app.screen.__class__.__name__ == "BackupsScreen"
        assert (f"That passphrase does not open {backed_up.path.name}. A backup opens with the "
                "passphrase (or recovery key) the vault had when the backup was made."
                in notifications(pilot))
        assert table_rows(pilot, "#backups")[0][VERIFIED] == "not verified"
        assert "Traceback" not in screen_text(pilot)
        assert not verification_path(backed_up.path).exists()

        await pilot.press("v")
        await settle(pilot)
        await enter_secret(pilot, PASSPHRASE)
        assert table_rows(pilot, "#backups")[0][VERIFIED] == f"verified {clock.today()}"
        made = (clock.now() - dt.timedelta(days=1)).astimezone()
        assert (f"{backed_up.path.name} is whole: it brings the vault back as it was on "
                f"{made:%a %-d %b %Y %H:%M} (1 entry).") in notifications(pilot)
        assert "The newest is from yesterday, verified." in widget_text(pilot, "#backups-status")
    assert verification_path(backed_up.path).exists()


async def test_r_restores_the_backup_and_keeps_the_replaced_vault(layout, backed_up, clock):
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        write(session, "After the backup")
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("r")
        await settle(pilot)
        text = labels_text(pilot)
        assert "Restore the backup of" in text
        assert "The vault you work in is replaced by this backup (1 entry)" in text
        assert f"kept whole in {layout.home}/backups/before-restore-…/" in text

        await enter_secret(pilot, OTHER_PASSPHRASE)  # checked first: the vault stays open
        assert app.screen.__class__.__name__ == "BackupsScreen" and app.session is not None
        assert any(n.startswith("That passphrase does not open") for n in notifications(pilot))
        assert safety_copies(layout) == []

        await pilot.press("r")
        await settle(pilot)
        app.focused.value = PASSPHRASE
        await pilot.press("enter")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardScreen"
                           and app.session is not None)
        await settle(pilot)
        latest = widget_text(pilot, "#latest-body")  # the dashboard's newest entries
        assert "Before the backup" in latest and "After the backup" not in latest
        assert any(n.startswith(f"Restored {backed_up.path.name}: the vault is as it was on")
                   and "before-restore-" in n for n in notifications(pilot))
        await pilot.press("9")
        await settle(pilot)
        assert "1 vault replaced by a restore is kept in" in labels_text(pilot)
    assert entry_texts(layout, clock) == ["Before the backup"]
    [safety] = safety_copies(layout)
    with VaultSession.open(VaultLayout(safety), PASSPHRASE, clock=clock) as kept:  # replaced
        me = Settings(kept).current_patient_id()
        assert sorted(e.content for e in Journal(kept).page(me).entries) == [
            "After the backup", "Before the backup"]
    assert [locator for locator, _ in audit_events(layout, clock, "backup.restore")] == [
        backed_up.path.name]


async def test_a_restore_failing_after_the_lock_shows_why_on_the_unlock_screen(
        layout, backed_up, monkeypatch, clock):
    from luna_tui.errors import IntegrityFailure

    def failing(*args, **kwargs):
        raise IntegrityFailure("The backup failed verification, so nothing was restored: "
                               "luna.db: page 3 is damaged.")

    monkeypatch.setattr("luna_tui.services.backups.restore.restore_backup", failing)
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("r")
        await settle(pilot)
        await enter_secret(pilot, PASSPHRASE)
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "UnlockScreen")
        assert app.session is None
        assert widget_text(pilot, "#status") == (
            "The restore stopped: The backup failed verification, so nothing was restored: "
            "luna.db: page 3 is damaged. The vault is as it was; unlock it.")
        await unlock(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
        assert "Before the backup" in widget_text(pilot, "#latest-body")
    assert safety_copies(layout) == []


async def test_x_deletes_the_backup_and_its_note_after_asking(layout, backed_up, clock):
    from luna_tui.services.backups.verify import verify_backup

    verify_backup(backed_up.path, PASSPHRASE)
    assert verification_path(backed_up.path).exists()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("x")
        await settle(pilot)
        text = labels_text(pilot)
        assert "Delete the backup of" in text
        assert "It is this vault's only backup." in text
        await pilot.press("n")
        await settle(pilot)
        assert backed_up.path.exists()
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert table_rows(pilot, "#backups") == []
        assert f"Backup {backed_up.path.name} deleted." in notifications(pilot)
        assert widget_text(pilot, "#backups-status").startswith("No backups of this vault yet.")
    assert not backed_up.path.exists() and not verification_path(backed_up.path).exists()
    assert [locator for locator, _ in audit_events(layout, clock, "backup.delete")] == [
        backed_up.path.name]


async def test_a_read_only_key_may_back_up_but_not_restore_or_delete(layout, backed_up, clock):
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    app = make_app(layout, clock, automatic_backups=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot, OTHER_PASSPHRASE)
        assert len(backup_files(layout)) == 1  # no automatic backup for a read-only key
        screen = app.screen
        assert screen.check_action("restore", ()) is None  # greyed in the footer
        assert screen.check_action("delete", ()) is None
        await pilot.press("r", "x")  # greyed: nothing asks
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("b")
        await settle(pilot)
        assert len(table_rows(pilot, "#backups")) == 2
    assert backed_up.path.exists() and len(backup_files(layout)) == 2


# -- the automatic backup --------------------------------------------------------------------

async def test_unlocking_backs_up_when_none_is_recent(layout, session, clock):
    session.close()
    app = make_app(layout, clock, automatic_backups=True)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
        files = backup_files(layout)
        assert len(files) == 1
        assert "Backing up… (automatic, every 7 days)" in notifications(pilot)
        assert any(n.startswith(f"Backup saved: {files[0]}") for n in notifications(pilot))
    [(_, detail)] = audit_events(layout, clock, "backup.create")
    assert detail["automatic"] is True


async def test_no_automatic_backup_when_turned_off(layout, session, clock):
    Settings(session).set("backup.every_days", 0)
    session.close()
    app = make_app(layout, clock, automatic_backups=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        assert "automatic backups are off" in widget_text(pilot, "#backups-folder")
    assert backup_files(layout) == []


@pytest.mark.dates
async def test_a_recent_backup_is_enough_and_an_old_one_is_followed_and_pruned(
        layout, session, clock):
    Settings(session).set("backup.keep", 1)
    clock.advance(days=-3)
    recent = Backups(session).create()
    clock.advance(days=3)
    session.close()
    async with make_app(layout, clock, automatic_backups=True).run_test(size=SIZE) as pilot:
        await unlock(pilot)
    assert backup_files(layout) == [recent.path.name]  # 3 days old: not due yet

    clock.advance(days=5)  # now 8 days old
    app = make_app(layout, clock, automatic_backups=True)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        [newest] = backup_files(layout)
        assert newest != recent.path.name  # made, then the old one pruned (keep 1)
        assert any(n.startswith(f"Backup saved: {newest}") and "1 older one removed" in n
                   for n in notifications(pilot))


async def test_a_failed_automatic_backup_is_a_warning_and_the_dashboard_stays(
        layout, session, tmp_path, clock):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    Settings(session).set("backup.folder", str(blocked))
    session.close()
    app = make_app(layout, clock, automatic_backups=True)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
        assert any(n.startswith("The automatic backup failed:") for n in notifications(pilot))
        assert not app.backup_jobs.busy
