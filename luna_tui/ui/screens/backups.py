"""Backups: the backup files in the folder, newest first, and what each can be trusted for.

b backs up now, v verifies the highlighted backup (with the passphrase it opens with),
r restores it in place of the vault (after checking it, keeping the current vault in
backups/before-restore-…), x deletes it. One operation at a time, in a thread: a progress
bar shows it while the rest of the app keeps answering.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, ProgressBar

from luna_tui.errors import LunaError, WrongPassphrase
from luna_tui.human_size import human_size
from luna_tui.services.backups.chores import delete_backup
from luna_tui.services.backups.folder import Backups
from luna_tui.services.backups.verify import verify_backup
from luna_tui.services.settings import Settings
from luna_tui.ui.local_time import TABLE_TIME, local_time
from luna_tui.ui.messages import RestoreAsked
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from pathlib import Path

    from luna_tui.services.backups.folder import BackupInfo
    from luna_tui.services.backups.verify import VerifyReport
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.ui.messages import Activity

# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"restore": "restore a backup", "delete": "delete a backup"}


# -- how a backup is shown ---------------------------------------------------------------------

def entries_cell(info: BackupInfo) -> Text:
    if info.entries is None:
        return Text("—", style="dim")
    return Text(f"{info.entries:,}")


def verified_cell(info: BackupInfo) -> Text:
    if info.problem:
        return Text("damaged", style="bold red")
    if not info.same_vault:
        return Text("other vault", style="dim")
    if info.verified is None:
        return Text("not verified", style="yellow")
    if not info.verified.ok:
        return Text("FAILED", style="bold red")
    return Text(f"verified {local_time(info.verified.verified_at, '%Y-%m-%d')}", style="green")


def backup_row(info: BackupInfo) -> tuple[object, ...]:
    return (local_time(info.created_at, TABLE_TIME), Text(human_size(info.size), justify="right"),
            entries_cell(info), verified_cell(info), plain(info.path.name, style="dim"))


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def status_sentence(found: list[BackupInfo], now: dt.datetime, read_only: bool) -> str:
    mine = [info for info in found if info.same_vault and not info.problem]
    others = len(found) - len(mine)
    also = (f" Also {_plural(others, 'file')} of another vault or damaged."
            if others else "")
    if not mine:
        return "No backups of this vault yet. Press b to make one." + also
    newest = mine[0]
    try:
        made = dt.datetime.fromisoformat(newest.created_at.replace("Z", "+00:00"))
        days = (now.astimezone().date() - made.astimezone().date()).days
    except ValueError:
        days = -1
    age = ("from today" if days == 0 else "from yesterday" if days == 1
           else f"{days} days old" if days > 1 else "of unknown date")
    if newest.verified is None:
        trust = "; not verified yet: v checks it can bring the vault back"
    elif newest.verified.ok:
        trust = ", verified"
    else:
        trust = ", and it FAILED verification: make a new one with b"
    count = _plural(len(mine), "backup")
    restore = "" if read_only else " r restores the highlighted one."
    return f"{count} of this vault. The newest is {age}{trust}.{restore}{also}"


def hint_sentence(kept: list[Path]) -> str:
    text = ("A backup opens with the passphrases the vault had when it was made; keep a "
            "copy somewhere other than this computer.")
    if kept:
        text += (f" {_plural(len(kept), 'vault')} replaced by a restore "
                 f"{'is' if len(kept) == 1 else 'are'} kept in {kept[-1].parent} "
                 f"(the newest: {kept[-1].name}).")
    return text


def schedule_sentence(every_days: int, keep: int) -> str:
    if every_days <= 0:
        return ("automatic backups are off (luna settings backup.every_days 7 turns "
                "them on)")
    keeping = "keeping all" if keep <= 0 else f"keeping the {keep} newest"
    return (f"automatic on unlock when the newest is {_plural(every_days, 'day')} old, "
            f"{keeping}")


# -- the screen --------------------------------------------------------------------------------

class BackupsScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("b", "back_up", "Back up now", id="backups.create"),
        Binding("v", "verify", "Verify", id="backups.verify"),
        Binding("r", "restore", "Restore", id="backups.restore"),
        Binding("x", "delete", "Delete", id="backups.delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.backups: dict[str, BackupInfo] = {}
        self.folder: Path | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("Backups")
        yield Label("", id="backups-folder", classes="muted")
        yield Label("", id="backups-status")
        with Horizontal(id="backup-progress-row"):
            yield Label("", id="backup-what")
            yield ProgressBar(total=100, show_eta=False, id="backup-progress")
            yield Label("", id="backup-step", classes="muted")
        yield ListTable(id="backups")
        yield Label("", id="backups-hint", classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#backups", DataTable)
        table.add_columns("Made", "Size", "Entries", "Verified", "File")
        table.focus()
        self.watch(self.app, "backup_activity", self._show_activity)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None  # shown, greyed: the key's rights forbid it
        return True

    # -- loading ----------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        session, jobs = self.session, self.vault.backups
        # While a backup copies the vault it holds the DB thread: the settings as last
        # read will do, so the screen opens at once.
        known = jobs.settings if jobs.busy else None

        def gather() -> tuple:
            # Off the DB thread: listing reads every file's manifest.
            backups, settings = Backups(session), Settings(session)
            folder, every_days, keep = known or (
                backups.folder(), settings.get("backup.every_days"), settings.get("backup.keep"))
            try:
                kept = sorted(session.layout.backups_dir.glob("before-restore-*"))
            except OSError:
                kept = []
            return folder, backups.list(folder), every_days, keep, kept

        try:
            folder, found, every_days, keep, kept = await self.vault.call(gather)
        except ServiceFailed:
            return
        jobs.settings = (folder, every_days, keep)
        self.query_one("#backups-hint", Label).update(plain(hint_sentence(kept)))
        self.folder = folder
        self.query_one("#backups-folder", Label).update(
            plain(f"Folder {folder} · {schedule_sentence(every_days, keep)}"))
        self.query_one("#backups-status", Label).update(
            status_sentence(found, self.vault.clock.now(), self.vault.read_only))
        self._fill(found)

    def _fill(self, found: list[BackupInfo], highlight: Path | None = None) -> None:
        table = self.query_one("#backups", DataTable)
        current = self._selected()
        keep = str(highlight) if highlight else (str(current.path) if current else None)
        self.backups = {str(info.path): info for info in found}
        table.clear()
        for info in found:
            table.add_row(*backup_row(info), key=str(info.path))
        keys = list(self.backups)
        if keep in keys:
            table.move_cursor(row=keys.index(keep))

    def _selected(self) -> BackupInfo | None:
        table = self.query_one("#backups", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.backups.get(str(key.value))

    def _show_activity(self, activity: Activity | None) -> None:
        row = self.query_one("#backup-progress-row")
        row.display = activity is not None
        if activity is not None:
            self.query_one("#backup-what", Label).update(plain(activity.what))
            self.query_one("#backup-progress", ProgressBar).update(
                progress=round(activity.done * 100))
            self.query_one("#backup-step", Label).update(plain(activity.step))

    # -- helpers for the workers ---------------------------------------------------------

    class Finished(Message):
        """From a backup thread: its operation ended (`sentence` if it failed, else what
        it made or found). Shown only if the vault it ran on is still the open one: after
        a lock nothing of the vault may show."""

        def __init__(self, session: VaultSession, *, sentence: str = "",
                     made: BackupInfo | None = None, report: VerifyReport | None = None,
                     restore_after: bool = False) -> None:
            super().__init__()
            self.session = session
            self.sentence = sentence
            self.made = made
            self.report = report
            self.restore_after = restore_after

    async def on_backups_screen_finished(self, message: Finished) -> None:
        if message.session is not self.vault.session:
            return
        if message.sentence:
            self._failed(message.sentence)
        elif message.made is not None:
            await self._backed_up(message.made)
        elif message.report is not None:
            await self._verified(message.report, message.restore_after)

    def _busy(self) -> bool:
        jobs = self.vault.backups
        if jobs.busy:
            activity = self.vault.backups.activity
            doing = activity.what if activity else "Another backup operation"
            self.notify(f"{doing} is under way; wait for it to finish.", severity="warning")
            return True
        return False

    # -- b: back up now ------------------------------------------------------------------

    def action_back_up(self) -> None:
        if self.vault.backups.begin("Backing up"):
            self._back_up(self.session, self.folder)

    @work(thread=True, group="backups", exit_on_error=False)
    def _back_up(self, session: VaultSession, folder: Path | None) -> None:
        jobs = self.vault.backups
        try:
            info = Backups(session).create(folder, jobs.progress)
        except LunaError as error:
            self.post_message(self.Finished(session, sentence=f"No backup was made: {error}"))
        except Exception as error:  # noqa: BLE001 - a bug must not go unsaid
            self.post_message(self.Finished(session, sentence=(
                f"No backup was made ({type(error).__name__}); the vault is unchanged.")))
        else:
            self.post_message(self.Finished(session, made=info))
        finally:
            jobs.end()

    async def _backed_up(self, info: BackupInfo) -> None:
        entries = "" if info.entries is None else f", {_plural(info.entries, 'entry', 'entries')}"
        self.notify(f"Backup saved: {info.path.name} ({human_size(info.size)}{entries}). "
                    "v verifies it opens.", timeout=8)
        await self.refresh_data()
        self._fill(list(self.backups.values()), highlight=info.path)

    def _failed(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10)

    # -- v: verify -------------------------------------------------------------------------

    async def action_verify(self) -> None:
        info = self._selected()
        if info is None:
            self.notify("There is no backup to verify yet: b makes one.")
            return
        if self._busy():
            return
        lines = [
            f"{info.path.name}, made {local_time(info.created_at)}.",
            "Verifying reads every file in it, opens it the way a restore would and checks "
            "every database and the audit log. Nothing in the vault changes.",
            "It needs the passphrase (or recovery key) the vault had when this backup was "
            "made: if you have changed it since, type the old one.",
        ]
        if not info.same_vault:
            lines.insert(1, "It is a backup of another vault.")

        def answered(secret: str | None) -> None:
            if secret and self.vault.backups.begin(f"Verifying {info.path.name}"):
                self._verify(info, secret, self.session, restore_after=False)

        await self.app.push_screen(BackupPassphraseDialog(
            "Verify this backup?", lines, "Verify", danger=False), answered)

    @work(thread=True, group="backups", exit_on_error=False)
    def _verify(self, info: BackupInfo, secret: str, session: VaultSession, *,
                restore_after: bool) -> None:
        jobs = self.vault.backups
        report = None
        try:
            report = verify_backup(info.path, secret, clock=self.vault.clock,
                                   progress=jobs.progress)
        except WrongPassphrase:
            self.post_message(self.Finished(session, sentence=(
                f"That passphrase does not open {info.path.name}. A backup opens with the "
                "passphrase (or recovery key) the vault had when the backup was made.")))
        except LunaError as error:
            self.post_message(self.Finished(session, sentence=f"{info.path.name}: {error}"))
        except Exception as error:  # noqa: BLE001
            self.post_message(self.Finished(session, sentence=(
                f"{info.path.name} could not be checked ({type(error).__name__}); nothing "
                "was changed.")))
        else:
            self.post_message(self.Finished(session, report=report,
                                            restore_after=restore_after))
        finally:
            jobs.end()
        if report is not None and report.ok and restore_after:
            # After end(): the restore locks the vault, which waits for operations to end.
            # Posted here, it bubbles to the app only while this screen is there (not
            # after a lock), and the app restores only an open vault.
            self.post_message(RestoreAsked(info.path, secret))

    async def _verified(self, report: VerifyReport, restore_after: bool) -> None:
        name = report.path.name
        if not report.ok:
            self._failed(f"{name} FAILED verification, so it can't be trusted to bring the "
                         f"vault back: {report.first_problem}."
                         + (" Nothing was restored." if restore_after else ""))
        elif not restore_after:
            entries = (report.counts or {}).get("entries")
            what = "" if entries is None else f" ({_plural(entries, 'entry', 'entries')})"
            self.notify(f"{name} is whole: it brings the vault back as it was on "
                        f"{local_time(report.manifest.created_at)}{what}.", timeout=8)
        await self.refresh_data()

    # -- r: restore ----------------------------------------------------------------------

    async def action_restore(self) -> None:
        info = self._selected()
        if info is None:
            self.notify("There is no backup to restore yet.")
            return
        if not self.vault.writable("restore a backup"):
            return
        if info.problem:
            self._failed(f"{info.path.name} can't be restored: {info.problem}")
            return
        if not info.same_vault:
            self._failed(f"{info.path.name} is a backup of another vault; restoring it here "
                         "would put this vault away. Restore it into another folder with "
                         "`luna backup restore --to`.")
            return
        if self._busy():
            return
        home = self.session.layout.home
        entries = ("" if info.entries is None
                   else f" ({_plural(info.entries, 'entry', 'entries')})")
        lines = [
            f"The vault you work in is replaced by this backup{entries}: whatever was added "
            f"or changed since {local_time(info.created_at)} (entries, medications, doses, "
            "appointments, readings, settings) will not be in it.",
            f"The current vault is not deleted: it is kept whole in {home}/backups/"
            "before-restore-…/ and opens from there (luna --home that folder).",
            "The backup is checked first. Then the vault locks while the backup is put in "
            "place, and opens again with the passphrase you type here: the one the vault "
            "had when the backup was made.",
        ]

        def answered(secret: str | None) -> None:
            if secret and self.vault.backups.begin(f"Checking {info.path.name}"):
                self._verify(info, secret, self.session, restore_after=True)

        await self.app.push_screen(BackupPassphraseDialog(
            f"Restore the backup of {local_time(info.created_at)}?", lines, "Restore",
            danger=True), answered)

    # -- x: delete -------------------------------------------------------------------------

    async def action_delete(self) -> None:
        info = self._selected()
        if info is None:
            self.notify("There is no backup to delete.")
            return
        if not self.vault.writable("delete a backup") or self._busy():
            return
        mine = [b for b in self.backups.values() if b.same_vault and not b.problem]
        detail = f"{info.path.name} ({human_size(info.size)}) is deleted from {info.path.parent}."
        if info.same_vault and mine == [info]:
            detail += " It is this vault's only backup."
        elif info.verified is not None and info.verified.ok and not any(
                b.verified is not None and b.verified.ok for b in mine if b is not info):
            detail += " It is the only verified backup."

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._delete(info)

        await self.app.push_screen(ConfirmDialog(
            f"Delete the backup of {local_time(info.created_at)}?", detail, "Delete",
            danger=True), answered)

    async def _delete(self, info: BackupInfo) -> None:
        try:
            await self.vault.call(delete_backup, self.session, info.path)
        except ServiceFailed:
            return
        self.notify(f"Backup {info.path.name} deleted.")
        await self.refresh_data()


class BackupPassphraseDialog(ModalScreen[str | None]):
    """Says what will happen and asks the passphrase a backup opens with. Enter or the
    button goes ahead; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="backup-dialog.cancel")]

    def __init__(self, question: str, lines: list[str], confirm_label: str, *,
                 danger: bool) -> None:
        super().__init__()
        self.question, self.lines = question, lines
        self.confirm_label, self.danger = confirm_label, danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(plain(self.question), classes="heading")
            for line in self.lines:
                yield Label(plain(line), classes="muted backup-dialog-line")
            yield Label("Passphrase of the backup", classes="backup-dialog-prompt")
            yield Input(password=True, id="backup-passphrase",
                        placeholder="Passphrase or recovery key, then Enter")
            yield Label("", id="backup-dialog-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label, id="go",
                             variant="error" if self.danger else "primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#backup-passphrase", Input).focus()

    def _go(self) -> None:
        secret = self.query_one("#backup-passphrase", Input).value
        if not secret:
            self.query_one("#backup-dialog-error", Label).update(
                "Type the passphrase first (Escape cancels).")
            self.query_one("#backup-passphrase", Input).focus()
            return
        self.dismiss(secret)

    @on(Input.Submitted)
    def submitted(self) -> None:
        self._go()

    @on(Button.Pressed, "#go")
    def go(self) -> None:
        self._go()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
