"""Sync between the person's devices, from the app (what `luna sync` does): set it up
with a folder a syncer keeps in sync, see the other devices and when each last synced,
and sync now. The app also syncs by itself a few seconds after each write
(ui/auto_sync.py); joining a new device stays in the shell (`luna sync join`), since
it makes a vault where there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label

from luna_tui.errors import LunaError
from luna_tui.services.read_models.sync import SyncView, sync_view
from luna_tui.services.sync.engine import Syncer
from luna_tui.services.sync.setup import setup_sync
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.field import Field

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession


class SyncPart(SettingsPart):
    def __init__(self) -> None:
        super().__init__(id="sync")
        self.view: SyncView | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        yield Label("Sync between your devices", classes="part-heading")
        yield Label("Each device writes encrypted change files into its own subfolder of "
                    "a folder Syncthing, Nextcloud, Dropbox or rclone keeps in sync. Never "
                    "put the vault folder itself in a syncer.", classes="muted")
        yield Label("", id="sync-status")
        yield Vertical(id="sync-devices")
        yield Field("the sync folder (outside the vault folder)",
                    Input(id="sync-folder", compact=True))
        with Horizontal(classes="part-buttons"):
            yield Button("Sync now (ctrl+s)", id="sync-now", variant="primary", compact=True)
            yield Button("Set up sync (ctrl+s)", id="sync-setup", variant="primary",
                         compact=True)

    class Done(Message):
        """From the syncing thread: what a round or the set-up did, or why it failed."""

        def __init__(self, session: VaultSession, sentence: str, failed: bool) -> None:
            super().__init__()
            self.session = session
            self.sentence = sentence
            self.failed = failed

    async def refresh_data(self) -> None:
        try:
            self.view = await self.vault.attempt(sync_view, self.session)
        except (ServiceFailed, LunaError):
            return
        await self._show(self.view)

    async def _show(self, view: SyncView) -> None:
        synced = view.status is not None
        self.query_one("#sync-now").display = synced
        self.query_one("#sync-setup").display = view.offered and not synced
        self.query_one("#sync-folder").parent.display = view.offered and not synced
        status = self.query_one("#sync-status", Label)
        devices = self.query_one("#sync-devices", Vertical)
        await devices.remove_children()
        if not view.offered:
            status.update("Sync is not offered to a read-only key: it unwraps the same "
                          "master key, so it could write change files as well as read.")
            return
        if view.status is None:
            status.update("This vault does not sync yet.")
            return
        status.update(plain(f"This device is {view.status.device_id}, syncing through "
                            f"{view.status.folder}; {view.status.pending_changes} "
                            "change(s) not yet written."))
        lines = [Label(plain(f"{d.device_id}{' (forgotten)' if d.forgotten else ''}: last "
                             f"synced {d.last_seen or 'never'}; applied file "
                             f"{d.applied_seq} of {d.available_seq}"
                             + (f". Not seen for a month: if it is gone, `luna sync forget "
                                f"{d.device_id}`" if d.long_unseen and not d.forgotten
                                else "")), classes="sync-device")
                 for d in view.status.devices] or [
            Label("No other device has synced yet: on it, `luna sync join FOLDER`.",
                  classes="muted")]
        await devices.mount_all(lines)

    async def submit(self) -> None:
        if self.view is not None and self.view.status is not None:
            self.sync_now()
        elif self.view is not None and self.view.offered:
            self.set_up()

    @on(Button.Pressed, "#sync-now")
    def sync_now(self) -> None:
        session = self.vault.session
        if session is None or self.running:
            return
        self.running = True
        self.query_one("#sync-status", Label).update("Syncing…")
        self._run(session, None)

    @on(Button.Pressed, "#sync-setup")
    def set_up(self) -> None:
        session = self.vault.session
        folder = self.query_one("#sync-folder", Input).value.strip()
        if session is None or self.running or not self.vault.writable("set up sync"):
            return
        if not folder:
            self.vault.notify("Type the folder to sync through first.", severity="warning")
            return
        self.running = True
        self.query_one("#sync-status", Label).update("Setting up: writing the first "
                                                    "snapshot…")
        self._run(session, folder)

    @work(thread=True, group="sync-part", exit_on_error=False)
    def _run(self, session: VaultSession, folder: str | None) -> None:
        try:
            if folder is None:
                report = Syncer(session).run()
                sentence = (f"Synced: {report.written} change(s) written, "
                            f"{report.files_applied} file(s) applied."
                            + "".join(f" {s}" for s in report.waiting + report.refused))
                failed = bool(report.refused)
            else:
                result = setup_sync(session, folder)
                sentence, failed = f"Sync is set up: this device is {result.device_id}.", False
        except LunaError as error:
            sentence, failed = str(error), True
        except Exception as error:  # noqa: BLE001 - a bug must not leave it "syncing"
            sentence, failed = f"Sync could not run ({type(error).__name__}).", True
        self.post_message(self.Done(session, sentence, failed))

    async def on_sync_part_done(self, message: Done) -> None:
        message.stop()
        self.running = False
        if not self.still_open(message.session):
            return
        self.vault.notify(message.sentence, severity="error" if message.failed
                          else "information")
        await self.refresh_data()
