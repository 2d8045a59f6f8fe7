"""Rotating the keys, as `luna keys rotate` asks: the current passphrase first (checked,
and it must be an owner's), the new one typed twice under the same rules as any new
passphrase, then the keys that stop working listed before the person confirms. The
dialog answers with the plan; the app locks and rotates (screens/rotating.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from luna_tui.errors import KeyRefused, LunaError, ReadOnlyKey, WeakPassphrase, WrongPassphrase
from luna_tui.services.key_rotation import (
    BACKUPS_BEFORE,
    check_rotation_passphrase,
    plan_rotation,
)
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import UsesVault
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error

if TYPE_CHECKING:
    from luna_tui.services.key_rotation import RotationPlan

Answer = tuple["RotationPlan", str, str]  # the plan, the current secret, the new passphrase


class RotateDialog(UsesVault, ModalScreen["Answer | None"]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rotate.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.answer: Answer | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="rotate-dialog"):
            yield Label("Rotate the vault's keys", classes="heading")
            yield Label("A new master key and a new passphrase: every database and "
                        "attachment is re-encrypted, and a new recovery key is shown once. "
                        "Every other key stops working. " + BACKUPS_BEFORE, classes="muted")
            yield Field("current passphrase (or the recovery key)",
                        Input(password=True, id="rotate-current", compact=True))
            yield Field("new passphrase", Input(password=True, id="rotate-new", compact=True,
                                                placeholder="a few unrelated words"))
            yield Field("the new passphrase again",
                        Input(password=True, id="rotate-again", compact=True))
            yield Label("", id="rotate-revoked")
            with Horizontal(classes="buttons"):
                yield Button("Check", id="rotate-check", variant="primary", compact=True)
                yield Button("Rotate (y)", id="rotate-confirm", variant="error",
                             disabled=True, compact=True)
                yield Button("Cancel", id="rotate-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#rotate-current", Input).focus()

    @on(Input.Changed)
    def typed(self) -> None:
        """A changed field needs checking again before it can be confirmed."""
        self.answer = None
        self.query_one("#rotate-confirm", Button).disabled = True
        self.query_one("#rotate-revoked", Label).update("")

    @on(Input.Submitted, "#rotate-current")
    def to_new(self) -> None:
        self.query_one("#rotate-new", Input).focus()

    @on(Input.Submitted, "#rotate-new")
    def to_again(self) -> None:
        self.query_one("#rotate-again", Input).focus()

    @on(Input.Submitted, "#rotate-again")
    @on(Button.Pressed, "#rotate-check")
    def check(self) -> None:
        if self.busy:
            return
        clear_errors(self)
        current = self.query_one("#rotate-current", Input).value
        new = self.query_one("#rotate-new", Input)
        again = self.query_one("#rotate-again", Input)
        if not current:
            show_field_error(self, "rotate-current", "Type the passphrase you have now "
                             "first: it shows the rotation is yours.")
            return
        if new.value != again.value:
            again.value = ""
            show_field_error(self, "rotate-again", "The two passphrases are not the same; "
                             "type it again.")
            return
        try:
            checked = check_rotation_passphrase(current, new.value)
        except (WeakPassphrase, KeyRefused) as refused:
            show_field_error(self, "rotate-new", str(refused))
            return
        self._plan(current, checked)

    @work(group="rotate", exclusive=True, exit_on_error=False)
    async def _plan(self, current: str, new_passphrase: str) -> None:
        self.busy = True
        try:
            plan = await self.vault.attempt(plan_rotation, self.vault.layout, current,
                                            clock=self.vault.clock)
        except (WrongPassphrase, ReadOnlyKey, KeyRefused) as error:
            self.query_one("#rotate-current", Input).value = ""
            show_field_error(self, "rotate-current", str(error))
            return
        except LunaError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        finally:
            self.busy = False
        self.answer = (plan, current, new_passphrase)
        if plan.revoked:
            names = ", ".join(f"{k.label} ({k.kind}, {k.role})" for k in plan.revoked)
            said = (f"These keys stop working (they open the old master key; add again what "
                    f"you still need): {names}.")
        else:
            said = "No other key opens this vault, so none is revoked."
        self.query_one("#rotate-revoked", Label).update(plain(said))
        confirm = self.query_one("#rotate-confirm", Button)
        confirm.disabled = False
        confirm.focus()

    def key_y(self) -> None:
        if self.answer is not None:
            self.confirm()

    @on(Button.Pressed, "#rotate-confirm")
    def confirm(self) -> None:
        if self.answer is not None:
            self.dismiss(self.answer)

    @on(Button.Pressed, "#rotate-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
