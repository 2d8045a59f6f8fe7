"""Restoring a backup, with the vault locked: the Backups screen checked the backup and
the app closed its session (a restore refuses while any session is open). Here the files
are swapped in a thread, with a progress bar; then the restored vault opens with the key
that opened the backup and the dashboard shows. If anything fails, the unlock screen
says what happened and where each vault is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Label, ProgressBar, Static

from luna_tui.errors import LunaError
from luna_tui.ui.plain_text import plain

if TYPE_CHECKING:
    from luna_tui.services.backups.restore import RestoreResult
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.ui.app import LunaApp


class RestoringScreen(Screen):
    def __init__(self, path: Path, secret: str) -> None:
        super().__init__()
        self.path = path
        self._secret = secret

    @property
    def luna(self) -> LunaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="restoring-box", classes="card"):
            yield Static("Luna", id="app-name")
            yield Label(plain(f"Restoring {self.path.name}"), classes="heading")
            yield Label("The vault is locked while the backup is checked and put in place. "
                        "Please wait; it opens again by itself.", classes="muted")
            yield ProgressBar(total=100, show_eta=False, id="restore-progress")
            yield Label("Starting…", id="status", classes="muted")

    def on_mount(self) -> None:
        self.restore()

    @work(thread=True, exclusive=True, group="restore", exit_on_error=False)
    def restore(self) -> None:
        from luna_tui.services.backups.restore import restore_backup
        from luna_tui.services.vault_session import VaultSession

        app = self.luna
        layout = app.layout
        secret, self._secret = self._secret, ""
        before = _safety_copies(layout.backups_dir)
        try:
            result = restore_backup(self.path, secret, layout, clock=app.clock,
                                    progress=self._progress)
        except LunaError as error:
            app.call_from_thread(self._not_restored, str(error), before)
            return
        except Exception as error:  # noqa: BLE001 - a bug must not strand the person here
            app.call_from_thread(self._not_restored, f"Luna could not finish the restore "
                                 f"({type(error).__name__}).", before)
            return
        try:
            session = VaultSession.connect(layout, result.unlocked, clock=app.clock,
                                           client="tui")
        except LunaError as error:
            app.call_from_thread(self._unlock_again, f"{self._done_sentence(result)} It could "
                                 f"not be opened here ({error}); unlock it.")
            return
        app.call_from_thread(self._restored, session, result)

    def _progress(self, done: float, label: str) -> None:
        def show() -> None:
            self.query_one("#restore-progress", ProgressBar).update(progress=round(done * 100))
            self.query_one("#status", Label).update(plain(label))

        try:
            self.app.call_from_thread(show)
        except RuntimeError:
            pass

    def _done_sentence(self, result: RestoreResult) -> str:
        from luna_tui.ui.screens.backups import local_time

        entries = (result.report.counts or {}).get("entries")
        what = "" if entries is None else f" ({entries:,} entr{'y' if entries == 1 else 'ies'})"
        sentence = (f"Restored {self.path.name}: the vault is as it was on "
                    f"{local_time(result.report.manifest.created_at)}{what}.")
        if result.safety_dir is not None:
            sentence += f" The vault it replaced is kept in {result.safety_dir}."
        return sentence

    async def _restored(self, session: VaultSession, result: RestoreResult) -> None:
        from luna_tui.ui.app import ServiceFailed

        try:
            await self.luna.vault_opened(session)
        except ServiceFailed:
            await self.luna.lock(f"{self._done_sentence(result)} It could not be read; see "
                                 "the message above.")
            return
        self.notify(self._done_sentence(result), timeout=20)
        if result.migrated:
            self.notify("The backup was made by an older Luna; its data was brought up to "
                        f"date ({', '.join(result.migrated)}).", timeout=20)

    async def _not_restored(self, reason: str, before: set[Path]) -> None:
        new = _safety_copies(self.luna.layout.backups_dir) - before
        if new:  # the files were swapped; opening the restored vault is what failed
            message = (f"{self.path.name} was put in place but could not be opened: {reason} "
                       f"The vault it replaced is kept in {min(new)}.")
        else:
            message = f"The restore stopped: {reason} The vault is as it was; unlock it."
        await self._unlock_again(message)

    async def _unlock_again(self, message: str) -> None:
        from luna_tui.ui.screens.unlock import UnlockScreen

        await self.app.switch_screen(UnlockScreen(message=message, error=True))


def _safety_copies(folder: Path) -> set[Path]:
    try:
        return set(folder.glob("before-restore-*"))
    except OSError:
        return set()
