"""Saving a decrypted copy of an attachment where the person says (a file, or a folder
to put it in under its own name). The copy is not encrypted, and the dialog says so
before anything is written; a file already there is replaced only once confirmed.
The service writes the copy only after its checksum matched, so a damaged attachment
leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from luna_tui.errors import AttachmentDamaged, LunaError, ValidationError
from luna_tui.services.attachments import Attachments, copy_target
from luna_tui.ui.messages import StillBusy, WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error
from luna_tui.ui.widgets.path_input import PathInput
from luna_tui.ui.widgets.progress_row import ProgressRow

if TYPE_CHECKING:
    from luna_tui.services.records import AttachmentView


def default_target(file_name: str) -> str:
    """~/Downloads/<name> where there is a Downloads folder, else ~/<name>."""
    downloads = Path("~/Downloads")
    folder = downloads if downloads.expanduser().is_dir() else Path("~")
    return str(folder / file_name)


class SaveCopyDialog(UsesVault, ModalScreen["Path | None"]):
    """Dismisses with the path written, or None."""

    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="save_copy.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="save_copy.cancel"),
    ]

    def __init__(self, attachment: AttachmentView) -> None:
        super().__init__()
        self.attachment = attachment
        self.busy = False

    def compose(self) -> ComposeResult:
        attachment = self.attachment
        with Vertical(classes="dialog wide"):
            yield Label(plain(f"Save a copy of {attachment.file_name} "
                              f"({attachment.display_size})"),
                        classes="heading")
            yield Field("save as (a file, or a folder to put it in)",
                        PathInput(default_target(attachment.file_name), id="target",
                                  compact=True))
            yield Label("The copy is NOT encrypted: anyone who can open that folder can read "
                        "it. Delete it once you no longer need it.", classes="warning-text")
            yield ProgressRow(id="save-progress")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#target")
    async def action_save(self) -> None:
        if self.busy:
            return
        clear_errors(self)
        typed = self.query_one("#target", Input).value.strip()
        if not typed:
            show_field_error(self, "target", "Say where to save it, e.g. ~/Downloads.")
            return

        try:  # where it would go; a folder that is missing or not ours is said here
            target = copy_target(typed, self.attachment.file_name, overwrite=True)
        except ValidationError as error:
            show_field_error(self, "target", str(error))
            return
        if not await asyncio.to_thread(os.path.lexists, target):
            self.save(typed, overwrite=False)
            return

        def answered(replace: bool | None) -> None:
            if replace:
                self.save(typed, overwrite=True)

        await self.app.push_screen(ConfirmDialog(
            f"Replace {target}?", "The file there is replaced by the copy (which is not "
            "encrypted).", "Replace"), answered)

    @work(group="save-copy", exit_on_error=False)
    async def save(self, typed: str, *, overwrite: bool) -> None:
        self.busy = True
        session = self.vault.session
        try:
            written = await self._write(typed, overwrite)
        finally:
            self.busy = False
            self.query_one("#save-progress", ProgressRow).hide()
        if self.vault.session is not session:
            return  # locked meanwhile: the unlock screen shows nothing of the vault
        if written is not None:
            self.notify(f"Saved a copy of {self.attachment.file_name} to {written} "
                        "(checksum verified). It is NOT encrypted: delete it once you no "
                        "longer need it.", timeout=12)
            self.dismiss(written)

    def on_work_progress(self, message: WorkProgress) -> None:
        message.stop()
        if self.busy:  # not once the write has ended
            self.query_one("#save-progress", ProgressRow).show(message.what, message.done)

    async def _write(self, typed: str, overwrite: bool) -> Path | None:
        session = self.vault.session
        if session is None:
            return None
        what = f"Decrypting {self.attachment.file_name}"

        def report(done: int, total: int) -> None:  # in the saving thread
            self.post_message(StillBusy())  # busy, not idle
            self.post_message(WorkProgress(what, done / total if total else 1.0))

        try:
            return await self.vault.attempt(Attachments(session).save_copy, self.attachment.id,
                                           typed, overwrite=overwrite, progress=report)
        except ValidationError as error:
            show_field_error(self, "target", str(error))  # no folder there, or taken meanwhile
        except AttachmentDamaged as error:
            self.notify(str(error), severity="error", timeout=15)
            self.dismiss(None)  # another place won't help: it needs a backup
        except (LunaError, ServiceFailed) as error:
            self.notify(str(error), severity="error", timeout=10)
        return None
