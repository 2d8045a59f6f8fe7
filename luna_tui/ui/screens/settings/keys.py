"""The keys that open the vault, as `luna keys` manages them: the list (which one is
this one, expired or damaged), a new key (read-only with an expiry, for a caregiver or
a clinician; with a passphrase typed twice, or an access key Luna makes and shows once),
x revokes the highlighted key, and the recovery key can be replaced (the new one shown
once, as the welcome screen shows the first). Rotate… makes a new master key and
passphrase (rotate_dialog.py asks; the app locks and rotates)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, DataTable, Input, Label

from luna_tui.clock import local_today
from luna_tui.errors import KeyChangeNotAudited, LunaError, ValidationError, WeakPassphrase
from luna_tui.services.key_admin import KeyAdmin, expiry_from_text
from luna_tui.ui.messages import RotateAsked
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.screens.settings.rotate_dialog import Answer, RotateDialog
from luna_tui.ui.screens.settings.shown_once import ShownOnce
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error
from luna_tui.ui.widgets.list_table import ListTable

if TYPE_CHECKING:
    import datetime as dt

ADD_FIELDS = {"expiry": "key-expiry", "label": "key-label"}  # a service's field → its input


class KeysPart(SettingsPart):
    BINDINGS = [Binding("x", "revoke", "Revoke key", id="settings.keys.revoke")]

    def __init__(self) -> None:
        super().__init__(id="keys")
        self.labels: list[str] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Label("Keys that open this vault", classes="part-heading")
        yield ListTable(id="keys-table")
        with Horizontal(classes="part-buttons"):
            yield Button("Revoke (x)", id="revoke-key", variant="error", compact=True)
            yield Button("Replace the recovery key", id="replace-recovery", compact=True)
            yield Button("Rotate…", id="rotate-keys", compact=True)
        yield Label("Add a key", classes="part-heading")
        yield Field("its name, e.g. caregiver", Input(id="key-label", compact=True))
        yield Checkbox("Read-only: it reads everything and changes nothing", value=True,
                       id="key-read-only", compact=True)
        yield Field("expires on (YYYY-MM-DD; empty: never)",
                    Input(id="key-expiry", compact=True, placeholder="never"))
        yield Field("its passphrase (empty: Luna makes an access key, shown once)",
                    Input(password=True, id="key-passphrase", compact=True))
        yield Field("the passphrase again", Input(password=True, id="key-again",
                                                  compact=True))
        with Horizontal(classes="part-buttons"):
            yield Button("Add the key (ctrl+s)", id="add-key", variant="primary",
                         compact=True)

    def on_mount(self) -> None:
        self.query_one("#keys-table", DataTable).add_columns(
            "name", "kind", "role", "expires", "last used", "status")

    async def refresh_data(self) -> None:
        session = self.session
        keys = await self.vault.call(KeyAdmin(session).list_keys)
        today = local_today(self.vault.clock)
        table = self.query_one("#keys-table", DataTable)
        row = table.cursor_row
        table.clear()
        self.labels = []
        for key in keys:
            status = ("damaged" if not key.intact else "expired" if key.expired(today)
                      else "ok")
            this_one = " (this one)" if key.locator == session.key.locator else ""
            last_used = (key.last_used_at or "never")[:16].replace("T", " ")
            # keys.db is a plain file: every field is shown as text, never as markup.
            table.add_row(plain(key.label + this_one), plain(key.kind), plain(key.role),
                          plain(key.expiry_date or "never"), plain(last_used),
                          Text(status, style="red" if status != "ok" else ""))
            self.labels.append(key.label)
        if self.labels:
            table.move_cursor(row=min(row, len(self.labels) - 1))

    def _selected(self) -> str | None:
        table = self.query_one("#keys-table", DataTable)
        if not self.labels or table.cursor_row < 0:
            return None
        return self.labels[min(table.cursor_row, len(self.labels) - 1)]

    def _admin(self) -> KeyAdmin:
        return KeyAdmin(self.session, self.vault.new_vault_kdf)

    # -- revoke --------------------------------------------------------------------------

    @on(Button.Pressed, "#revoke-key")
    async def action_revoke(self) -> None:
        label = self._selected()
        if label is None or not self.vault.writable("revoke a key"):
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._revoke(label)

        await self.app.push_screen(ConfirmDialog(
            f"Revoke '{label}'?", "It no longer opens this vault. A copy of the vault made "
            "before now (a backup) still holds it.", "Revoke"), answered)

    async def _revoke(self, label: str) -> None:
        try:
            info = await self.vault.call(self._admin().revoke, label)
        except LunaError:
            return  # said by the seam
        self.notify(f"Revoked '{info.label}': it no longer opens this vault.")
        await self.refresh_data()

    # -- the recovery key ----------------------------------------------------------------

    @on(Button.Pressed, "#replace-recovery")
    async def replace_recovery(self) -> None:
        if not self.vault.writable("replace the recovery key"):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._replace_recovery()

        await self.app.push_screen(ConfirmDialog(
            "Replace the recovery key?", "A new recovery key is made and shown once; the "
            "old one stops opening the vault at once.", "Replace", danger=False), answered)

    @work(group="keys", exclusive=True, exit_on_error=False)
    async def _replace_recovery(self) -> None:
        session = self.vault.session
        try:
            new_key = await self.vault.attempt(self._admin().replace_recovery_key)
        except KeyChangeNotAudited as error:
            self._show_anyway(error, "recovery key")
            return
        except LunaError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        if not self.still_open(session):
            return
        await self.app.push_screen(ShownOnce(
            "Your new recovery key", "Write it down now and keep it somewhere safe, away "
            "from this computer. It opens the vault like your passphrase; the old one no "
            "longer does. Luna will not show it again.", new_key))
        await self.refresh_data()

    def _show_anyway(self, error: KeyChangeNotAudited, what: str) -> None:
        """A generated key that already works is shown even if its audit row failed."""
        self.notify(str(error), severity="error", timeout=15)
        if error.new_secret:
            self.app.push_screen(ShownOnce(f"Your new {what}", f"Your new {what} works now; "
                                           "write it down (shown once).", error.new_secret))

    # -- rotate (a new master key and passphrase: screens/rotating.py does the work) ------

    @on(Button.Pressed, "#rotate-keys")
    async def rotate(self) -> None:
        if not self.vault.writable("rotate the vault's keys"):
            return

        def answered(answer: Answer | None) -> None:
            if answer is not None:
                self.post_message(RotateAsked(*answer))

        await self.app.push_screen(RotateDialog(), answered)

    # -- add -------------------------------------------------------------------------------

    async def submit(self) -> None:
        self.add()

    @on(Button.Pressed, "#add-key")
    @on(Input.Submitted, "#key-again")
    def add(self) -> None:
        if self.busy or not self.vault.writable("add a key"):
            return
        clear_errors(self)
        label = self.query_one("#key-label", Input).value.strip()
        if not label:
            show_field_error(self, "key-label", "Name the key, e.g. caregiver.")
            return
        expiry_text = self.query_one("#key-expiry", Input).value.strip()
        expiry = None
        if expiry_text:
            try:
                expiry = expiry_from_text(expiry_text, local_today(self.vault.clock))
            except ValidationError as error:
                show_field_error(self, "key-expiry", str(error))
                return
        first = self.query_one("#key-passphrase", Input)
        again = self.query_one("#key-again", Input)
        if first.value and first.value != again.value:
            again.value = ""
            show_field_error(self, "key-again", "The two passphrases did not match; no key "
                             "was added.")
            return
        read_only = self.query_one("#key-read-only", Checkbox).value
        self._add(label, read_only, first.value or None, expiry)

    @work(group="keys", exclusive=True, exit_on_error=False)
    async def _add(self, label: str, read_only: bool, passphrase: str | None,
                   expiry: dt.date | None) -> None:
        session = self.vault.session
        self.busy = True
        try:
            added = await self.vault.attempt(self._admin().add_key, label,
                                             read_only=read_only, passphrase=passphrase,
                                             expiry=expiry)
        except KeyChangeNotAudited as error:
            self._show_anyway(error, "access key")
            return
        except WeakPassphrase as error:
            show_field_error(self, "key-passphrase", str(error))
            return
        except ValidationError as error:
            field = ADD_FIELDS.get(error.field or "")
            if not (field and show_field_error(self, field, str(error))):
                self.notify(str(error), severity="error", timeout=10)
            return
        except LunaError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        finally:
            self.busy = False
        if not self.still_open(session):
            return
        for field in ("#key-label", "#key-expiry", "#key-passphrase", "#key-again"):
            self.query_one(field, Input).value = ""
        info = added.info
        rights = "read everything and change nothing" if read_only else "do everything"
        until = f" until {info.expiry_date}" if info.expiry_date else ""
        self.notify(f"Added the key '{info.label}'. It can {rights}{until}.", timeout=10)
        await self.refresh_data()
        if added.generated_secret:
            await self.app.push_screen(ShownOnce(
                f"The access key '{info.label}'", "Hand it over; it opens the vault like a "
                f"passphrase and can {rights}{until}. Luna will not show it again.",
                added.generated_secret))
