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
from luna_tui.ui.local_time import local_time
from luna_tui.ui.messages import UnlockAgain, VaultOpened, WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import UsesVault

if TYPE_CHECKING:
    from luna_tui.services.backups.restore import RestoreResult


class RestoringScreen(UsesVault, Screen):
    def __init__(self, path: Path, secret: str) -> None:
        super().__init__()
        self.path = path
        self._secret = secret

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

        layout, clock = self.vault.layout, self.vault.clock
        secret, self._secret = self._secret, ""
        before = _safety_copies(layout.backups_dir)
        try:
            result = restore_backup(self.path, secret, layout, clock=clock,
                                    progress=self._progress)
        except LunaError as error:
            self._not_restored(str(error), before, layout.backups_dir)
            return
        except Exception as error:  # noqa: BLE001 - a bug must not strand the person here
            self._not_restored(f"Luna could not finish the restore ({type(error).__name__}).",
                               before, layout.backups_dir)
            return
        done = self._done_sentences(result)
        try:
            session = VaultSession.connect(layout, result.unlocked, clock=clock, client="tui")
        except LunaError as error:
            self.post_message(UnlockAgain(f"{done[0]} It could not be opened here ({error}); "
                                          "unlock it."))
            return
        opened = VaultOpened(session, done=done, if_unreadable=(
            f"{done[0]} It could not be read; see the message above."))
        if not self.post_message(opened):
            session.close()  # the app is ending: nobody will show the vault

    def _progress(self, done: float, label: str) -> None:  # in the restoring thread
        self.post_message(WorkProgress(label, done))

    def on_work_progress(self, message: WorkProgress) -> None:
        self.query_one("#restore-progress", ProgressBar).update(progress=round(message.done * 100))
        self.query_one("#status", Label).update(plain(message.what))

    def _done_sentences(self, result: RestoreResult) -> tuple[str, ...]:
        entries = (result.report.counts or {}).get("entries")
        what = "" if entries is None else f" ({entries:,} entr{'y' if entries == 1 else 'ies'})"
        sentence = (f"Restored {self.path.name}: the vault is as it was on "
                    f"{local_time(result.report.manifest.created_at)}{what}.")
        if result.safety_dir is not None:
            sentence += f" The vault it replaced is kept in {result.safety_dir}."
        if not result.migrated:
            return (sentence,)
        return (sentence, "The backup was made by an older Luna; its data was brought up to "
                f"date ({', '.join(result.migrated)}).")

    def _not_restored(self, reason: str, before: set[Path], folder: Path) -> None:
        new = _safety_copies(folder) - before
        if new:  # the files were swapped; opening the restored vault is what failed
            message = (f"{self.path.name} was put in place but could not be opened: {reason} "
                       f"The vault it replaced is kept in {min(new)}.")
        else:
            message = f"The restore stopped: {reason} The vault is as it was; unlock it."
        self.post_message(UnlockAgain(message))


def _safety_copies(folder: Path) -> set[Path]:
    try:
        return set(folder.glob("before-restore-*"))
    except OSError:
        return set()
