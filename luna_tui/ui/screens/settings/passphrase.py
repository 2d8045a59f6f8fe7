"""Changing a passphrase, as `luna passwd` does: the current one first (the vault is
open, but whoever sits at it must show the change is theirs), the new one typed twice
(never shown), its strength said as it is typed, and the same rules (services'
check_new_passphrase).
Only the master key's wrapping changes: the data is not touched."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Select

from luna_tui.errors import KeyRefused, LunaError, WeakPassphrase, WrongPassphrase
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.new_vault_words import passphrase_strength
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error

PASSPHRASE_KIND = "passphrase"  # a key's kind in `keys list` (not a recovery or access key)


class PassphrasePart(SettingsPart):
    def __init__(self) -> None:
        super().__init__(id="passphrase")
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Label("Change a passphrase", classes="part-heading")
        yield Label("The old passphrase stops opening the vault at once; your data is not "
                    "touched. Backups made before keep opening with the passphrase the vault "
                    "had when they were made.", classes="muted")
        yield Field("which key", Select([], id="passphrase-key", compact=True,
                                        prompt="the one you unlocked with"))
        yield Field("current passphrase (or the recovery key)",
                    Input(password=True, id="current-passphrase", compact=True))
        yield Field("new passphrase", Input(password=True, id="new-passphrase", compact=True,
                                            placeholder="a few unrelated words"))
        yield Label("", id="new-strength")
        yield Field("the new passphrase again", Input(password=True, id="new-again",
                                                      compact=True))
        with Horizontal(classes="part-buttons"):
            yield Button("Change passphrase (ctrl+s)", id="change-passphrase",
                         variant="primary", compact=True)
        yield Label("", id="passphrase-status", classes="muted")

    async def refresh_data(self) -> None:
        session = self.session
        keys = await self.vault.call(KeyAdmin(session).list_keys)
        labels = [k.label for k in keys if k.kind == PASSPHRASE_KIND]
        select = self.query_one("#passphrase-key", Select)
        chosen = select.value
        select.set_options([(plain(label), label) for label in labels])
        if chosen in labels:
            select.value = chosen
        elif session.key.label in labels:
            select.value = session.key.label

    @on(Input.Changed, "#new-passphrase")
    def show_strength(self, event: Input.Changed) -> None:
        label = self.query_one("#new-strength", Label)
        if not event.value:
            label.update("")
            return
        strength = passphrase_strength(event.value)
        bar = "■" * (strength.score + 1) + "□" * (4 - strength.score)
        advice = f" — {strength.advice}" if strength.advice else ""
        label.update(f"{bar} {strength.label}{advice}")
        label.set_class(not strength.acceptable, "error")

    @on(Input.Submitted, "#current-passphrase")
    def to_new(self) -> None:
        self.query_one("#new-passphrase", Input).focus()

    @on(Input.Submitted, "#new-passphrase")
    def next_field(self) -> None:
        self.query_one("#new-again", Input).focus()

    async def submit(self) -> None:
        self.change()

    @on(Input.Submitted, "#new-again")
    @on(Button.Pressed, "#change-passphrase")
    def change(self) -> None:
        if self.busy or not self.vault.writable("change a passphrase"):
            return
        clear_errors(self)
        current = self.query_one("#current-passphrase", Input)
        if not current.value:
            show_field_error(self, "current-passphrase", "Type the passphrase you have "
                             "now first: it shows the change is yours.")
            return
        new = self.query_one("#new-passphrase", Input)
        again = self.query_one("#new-again", Input)
        if not new.value:
            show_field_error(self, "new-passphrase", "Type the new passphrase: a few "
                             "unrelated words are strong and easy to remember.")
            return
        if new.value != again.value:
            again.value = ""
            show_field_error(self, "new-again", "The two passphrases are not the same; "
                             "type it again.")
            return
        chosen = self.query_one("#passphrase-key", Select).value
        self._change(current.value, new.value,
                     None if chosen is Select.BLANK else str(chosen))

    @work(group="passphrase", exclusive=True, exit_on_error=False)
    async def _change(self, current: str, secret: str, label: str | None) -> None:
        session = self.vault.session
        if session is None:
            return
        self.busy = True
        status = self.query_one("#passphrase-status", Label)
        status.update("Checking the current passphrase, then deriving the new one's key…")
        try:
            info = await self.vault.attempt(KeyAdmin(session, self.vault.new_vault_kdf)
                                            .change_passphrase, secret, label=label,
                                            current=current)
        except WeakPassphrase as error:
            if self.still_open(session):
                show_field_error(self, "new-passphrase", str(error))
            return
        except (WrongPassphrase, KeyRefused) as error:
            if self.still_open(session):
                self.query_one("#current-passphrase", Input).value = ""
                show_field_error(self, "current-passphrase", str(error))
            return
        except LunaError as error:
            if self.still_open(session):
                self.notify(str(error), severity="error", timeout=10)
            return
        finally:
            self.busy = False
            status.update("")
        if not self.still_open(session):
            return
        for field in ("#current-passphrase", "#new-passphrase", "#new-again"):
            self.query_one(field, Input).value = ""
        self.notify(f"The passphrase of '{info.label}' is changed. The old one no longer "
                    "opens the vault.", timeout=10)
