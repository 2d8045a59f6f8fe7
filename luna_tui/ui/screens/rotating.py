"""Rotating the vault's keys, with the vault locked: Settings → Keys checked the current
passphrase and listed what is revoked, and the app closed its session (a rotation needs
the vault to itself). Here the new vault is built and swapped in, in a thread, with a
progress bar; then it opens on the new key, the new recovery key is shown once, and the
dashboard shows. If anything fails, the unlock screen says so: the vault is then the
old one, opening with the old passphrase, or (after the swap) the new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Label, ProgressBar, Static

from luna_tui.errors import LunaError
from luna_tui.services.new_vault_words import recovery_key_groups
from luna_tui.ui.messages import UnlockAgain, VaultOpened, WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import UsesVault

if TYPE_CHECKING:
    from luna_tui.services.key_rotation import RotationPlan, RotationResult
    from luna_tui.services.vault_session import VaultSession


class Rotated(Message):
    """From the rotating thread: the new vault is in place and open."""

    def __init__(self, result: RotationResult, session: VaultSession) -> None:
        super().__init__()
        self.result = result
        self.session = session


class RotatingScreen(UsesVault, Screen):
    def __init__(self, plan: RotationPlan, current: str, new_passphrase: str) -> None:
        super().__init__()
        self.plan = plan
        self._secrets = (current, new_passphrase)
        self._opened: VaultOpened | None = None  # shown once the key is written down

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="rotating-box", classes="card"):
            yield Static("Luna", id="app-name")
            yield Label("Rotating the vault's keys", classes="heading")
            yield Label("The vault is locked while every database and attachment is "
                        "re-encrypted under a new master key. Please wait; it opens again by "
                        "itself.", classes="muted", id="rotating-wait")
            yield ProgressBar(total=100, show_eta=False, id="rotate-progress")
            yield Label("Starting…", id="status", classes="muted")
            with Vertical(id="rotated-key"):
                yield Label("Your new RECOVERY KEY. Write it down now and keep it somewhere "
                            "safe, away from this computer. It opens the vault like your new "
                            "passphrase; the old one no longer does. Luna will not show it "
                            "again.")
                yield Static("", id="recovery-key")
                yield Checkbox("I have written it down", id="written", compact=True)
                yield Button("Open the vault", id="continue", variant="primary",
                             disabled=True, compact=True)

    def on_mount(self) -> None:
        self.rotate()

    @work(thread=True, exclusive=True, group="rotate", exit_on_error=False)
    def rotate(self) -> None:
        from luna_tui.services.key_rotation import rotate_keys
        from luna_tui.services.sync.rotation import REJOIN, restart_after_rotation
        from luna_tui.services.vault_session import VaultSession

        (current, new_passphrase), self._secrets = self._secrets, ("", "")
        layout, clock = self.vault.layout, self.vault.clock
        try:
            result = rotate_keys(self.plan, current, new_passphrase, clock=clock,
                                 kdf=self.vault.new_vault_kdf, progress=self._progress)
        except LunaError as error:
            self.post_message(UnlockAgain(f"The keys were not rotated: {error} The vault "
                                          "opens with the passphrase it had."))
            return
        except Exception as error:  # noqa: BLE001 - a bug must not strand the person here
            self.post_message(UnlockAgain(
                f"Luna could not finish rotating the keys ({type(error).__name__}). Unlock "
                "with the passphrase that opens the vault now; `luna doctor` checks it."))
            return
        try:
            session = VaultSession.connect(layout, result.unlocked, clock=clock, client="tui")
        except LunaError as error:
            self.post_message(UnlockAgain(f"The keys are rotated, but the vault could not be "
                                          f"opened here ({error}); unlock it with the new "
                                          "passphrase, then make a new recovery key."))
            return
        try:
            if restart_after_rotation(session) is not None:
                result.warnings.append(REJOIN)
        except LunaError as error:
            result.warnings.append(f"The keys are rotated, but sync could not start over "
                                   f"({error}); run `luna sync` once the vault is open.")
        if not self.post_message(Rotated(result, session)):
            session.close()  # the app is ending: nobody will show the vault

    def _progress(self, done: float, label: str) -> None:  # in the rotating thread
        self.post_message(WorkProgress(label, done))

    def on_work_progress(self, message: WorkProgress) -> None:
        self.query_one("#rotate-progress", ProgressBar).update(progress=round(message.done * 100))
        self.query_one("#status", Label).update(plain(message.what))

    def on_rotated(self, message: Rotated) -> None:
        from luna_tui.services.key_rotation import BACKUPS_BEFORE

        result, session = message.result, message.session
        revoked = (f" {len(result.revoked)} other key(s) were revoked; add again what you "
                   "still need." if result.revoked else "")
        done = ("The keys are rotated: the new passphrase opens the vault, the old one no "
                f"longer does.{revoked}", BACKUPS_BEFORE,
                "Make a fresh backup now (Backups, b).", *result.warnings)
        self._opened = VaultOpened(session, done=done, if_unreadable=(
            f"{done[0]} It could not be read; see the message above."))
        groups = recovery_key_groups(result.recovery_key)
        self.query_one("#recovery-key", Static).update(
            "  ".join(groups[:4]) + "\n" + "  ".join(groups[4:]))
        self.query_one("#status", Label).update("Rotated.")
        self.add_class("rotated")
        self.query_one("#written", Checkbox).focus()

    @on(Checkbox.Changed, "#written")
    def allow_continue(self, event: Checkbox.Changed) -> None:
        self.query_one("#continue", Button).disabled = not event.value

    @on(Button.Pressed, "#continue")
    def open_vault(self) -> None:
        opened, self._opened = self._opened, None
        if opened is None:
            return
        self.query_one("#recovery-key", Static).update("")
        self.post_message(opened)
