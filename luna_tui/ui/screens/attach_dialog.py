"""Choosing files to attach to a record: type a path (Tab or → takes the suggestion) or
drop files on the terminal; the entries matching what is typed are listed below.

↑/↓ move through the list without leaving the field; Enter on a folder goes into it,
Enter on a file (or on the path(s) typed) attaches. Files are encrypted one at a time
with a progress bar; each one that can't be attached is said, with why. Dismisses with
the attachments made (possibly none) when left with Escape or after a clean run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from luna_tui.services.attachments import Attachments
from luna_tui.services.path_completion import complete, paths_from_paste
from luna_tui.ui.attaching import attach_files, tell
from luna_tui.ui.messages import WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.path_input import PathInput
from luna_tui.ui.widgets.progress_row import ProgressRow

if TYPE_CHECKING:
    from luna_tui.services.records import AttachmentView, RecordView
    from luna_tui.ui.attaching import Outcome

START = "~/"


class AttachFilesScreen(UsesVault, ModalScreen["list[AttachmentView]"]):
    BINDINGS = [
        Binding("escape", "leave", "Done", id="attach.leave"),
        Binding("down", "move(1)", "Next match", id="attach.down", show=False),
        Binding("up", "move(-1)", "Previous match", id="attach.up", show=False),
    ]

    def __init__(self, record: RecordView) -> None:
        super().__init__()
        self.record = record
        self.attached: list[AttachmentView] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="attach-dialog"):
            yield Label(plain(f"Attach files to “{self.record.title}”"), classes="heading")
            yield Label("Type a path (Tab completes) or drop files here; Enter attaches.",
                        id="attach-limit", classes="muted")
            yield PathInput(START, id="attach-path", compact=True)
            yield OptionList(id="attach-matches")
            yield ProgressRow(id="attach-progress")
            yield Label("", id="attach-status")
            yield Label("↑↓ choose · Enter: into a folder / attach a file · Esc done",
                        classes="muted")

    async def on_mount(self) -> None:
        self.query_one("#attach-path", Input).focus()
        self.list_matches(START)
        try:
            limit = await self.vault.call(Attachments(self.vault.session).max_size)
        except ServiceFailed:
            return
        megabytes = f"{limit // 1_000_000} MB" if limit % 1_000_000 == 0 else f"{limit:,} bytes"
        self.query_one("#attach-limit", Label).update(
            f"Up to {megabytes} each. Type a path (Tab completes) or drop files here; "
            "Enter attaches.")

    # -- the list of matches ----------------------------------------------------------------

    @on(Input.Changed, "#attach-path")
    def _typed(self, event: Input.Changed) -> None:
        self.list_matches(event.value)

    @work(exclusive=True, group="matches", exit_on_error=False)
    async def list_matches(self, typed: str) -> None:
        import asyncio


        matches = [] if "\n" in typed else await asyncio.to_thread(complete, typed)
        options = self.query_one("#attach-matches", OptionList)
        options.set_options([Option(self._label(m), id=m) for m in matches])
        options.display = bool(matches)

    @staticmethod
    def _label(match: str) -> Text:
        name = match.rstrip("/").rsplit("/", 1)[-1] + ("/" if match.endswith("/") else "")
        return plain(name, style="bold" if match.endswith("/") else "")

    def action_move(self, step: int) -> None:
        options = self.query_one("#attach-matches", OptionList)
        if options.option_count:
            options.action_cursor_down() if step > 0 else options.action_cursor_up()

    @on(OptionList.OptionSelected, "#attach-matches")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self._choose(str(event.option.id))

    @on(Input.Submitted, "#attach-path")
    def _entered(self, event: Input.Submitted) -> None:
        options = self.query_one("#attach-matches", OptionList)
        highlighted = options.highlighted_option
        if highlighted is not None:
            self._choose(str(highlighted.id))
        else:
            self._attach_typed(event.value)

    def _choose(self, match: str) -> None:
        """A folder: go into it. A file: attach it."""
        field = self.query_one("#attach-path", Input)
        if match.endswith("/"):
            field.value = match
            field.cursor_position = len(match)
            field.focus()
        else:
            self.attach([match])

    def _attach_typed(self, typed: str) -> None:
        paths = paths_from_paste(typed)
        if not paths:
            self._status("Type the path of a file first.", error=True)
            return
        if len(paths) == 1 and os.path.isdir(os.path.expanduser(paths[0])):
            self._choose(paths[0].rstrip("/") + "/")  # Enter on a folder opens it
            return
        self.attach(paths)

    # -- attaching ----------------------------------------------------------------------------

    def on_work_progress(self, message: WorkProgress) -> None:
        """How far attaching has come (from the encrypting thread)."""
        self.query_one("#attach-progress", ProgressRow).show(message.what, message.done)

    @work(group="attach", exit_on_error=False)  # never exclusive: that would cancel a run
    async def attach(self, paths: list[str]) -> None:
        if self.busy or not self.vault.writable("attach files"):
            return
        self.busy = True
        progress = self.query_one("#attach-progress", ProgressRow)
        try:
            outcome = await attach_files(self.vault, self.record.id, paths, self)
        finally:
            self.busy = False
            progress.hide()
        self.attached.extend(outcome.attached)
        tell(self.vault, outcome)
        if not outcome.failed:
            self.dismiss(self.attached)
            return
        self._status(self._failed_sentence(outcome), error=True)
        field = self.query_one("#attach-path", Input)
        field.focus()

    @staticmethod
    def _failed_sentence(outcome: Outcome) -> str:
        path, why = outcome.failed[0]
        more = len(outcome.failed) - 1
        also = f" (and {more} more file{'s' if more > 1 else ''}, see the messages)" if more else ""
        return f"Not attached: {why}{also}"

    def _status(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#attach-status", Label)
        label.update(plain(text))  # names files and quotes why they were not attached
        label.set_class(error, "error")

    def action_leave(self) -> None:
        if self.busy:
            self.notify("Wait for the file being encrypted to finish.", severity="warning")
            return
        self.dismiss(self.attached)
