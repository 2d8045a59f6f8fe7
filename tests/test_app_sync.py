"""Sync in the app: the Settings place's Sync tab (set up, the devices, sync now) and the
automatic round a few seconds after a write (ui/auto_sync.py). What happened is read
from the sync folder and the vault; what shows, from the tab's widgets."""

from __future__ import annotations

from sync_devices import entries, first_device, join, opened, sync
from textual.widgets import Input, Label

from app_helpers import SIZE, make_app, notifications, settle, settle_until, unlock
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.sync.engine import this_device
from luna_tui.services.sync.folder import SyncFolder


async def open_sync_tab(pilot) -> None:  # noqa: ANN001
    await unlock(pilot)
    await pilot.press("0")
    await settle(pilot)
    pilot.app.screen.show_part("sync")
    await settle(pilot)


def status_text(pilot) -> str:  # noqa: ANN001
    return str(pilot.app.screen.query_one("#sync-status", Label).render())


async def test_the_sync_tab_sets_up_sync_through_a_folder(layout, session, tmp_path):
    session.close()
    folder = tmp_path / "Sync"
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync_tab(pilot)
        assert "does not sync yet" in status_text(pilot)
        assert app.focused is not None and app.focused.id == "sync-folder"
        app.screen.query_one("#sync-folder", Input).value = str(folder)
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: "This device is" in status_text(pilot))
        assert not app.screen.query_one("#sync-setup").display
    [device] = SyncFolder(folder).devices()
    assert SyncFolder(folder).snapshots(device)


async def test_the_tab_lists_the_other_device_and_syncs_now(tmp_path, clock):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    first_device(a, folder, clock)
    join(b, folder, clock)
    with opened(b, clock) as session:
        device_b = this_device(session).device_id
        me = Settings(session).current_patient_id()
        entry = Journal(session).create(me, EntryDraft(content="from b")).id
    sync(b, clock)
    from luna_tui.home import VaultLayout

    app = make_app(VaultLayout(a), clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync_tab(pilot)
        devices = [str(w.render()) for w in app.screen.query(".sync-device")]
        assert len(devices) == 1 and devices[0].startswith(device_b)
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: any("Synced" in n for n in notifications(pilot)))
    assert entries(a, clock)[entry] == ("from b", False)


async def test_the_app_syncs_a_few_seconds_after_a_write(tmp_path, clock):
    a, folder = tmp_path / "a", tmp_path / "Sync"
    first_device(a, folder, clock)
    from luna_tui.home import VaultLayout

    app = make_app(VaultLayout(a), clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle(pilot)
        auto = app.auto_sync
        auto.tick()  # the first round after unlocking (nothing to write)
        await settle(pilot)
        device = this_device(app.session).device_id
        me = Settings(app.session).current_patient_id()
        await app.vault.attempt(Journal(app.session).create, me, EntryDraft(content="new"))
        auto.tick()  # the write is seen: the debounce starts
        await settle(pilot)
        assert SyncFolder(folder).change_seqs(device) == []
        clock.advance(seconds=4)
        auto.tick()
        await settle_until(pilot, lambda: SyncFolder(folder).change_seqs(device) == [1])
