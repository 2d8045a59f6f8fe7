"""Adding or changing a medical record: its type, title, date, tags, description and the
person's own notes. A new record may name files to attach right away (typed with
completion, or dropped on the terminal): the record is saved first, then each file is
encrypted in turn; a file that fails is said with why, and the record stays saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Select, TextArea

from luna_tui.services.path_completion import paths_from_paste
from luna_tui.services.records import RECORD_TYPES, Records
from luna_tui.ui.attaching import attach_files, tell
from luna_tui.ui.messages import WorkProgress
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.path_input import PathInput
from luna_tui.ui.widgets.progress_row import ProgressRow
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.records import RecordView
    from luna_tui.ui.vault_calls import VaultCalls

INPUTS = ("title", "event_date", "tags")
TEXTS = ("description", "text")
ATTACH = "attach_paths"


class RecordFormScreen(FormScreen["RecordView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="record_form.save", priority=True),
        Binding("escape", "leave", "Back", id="record_form.leave"),
    ]
    ACTION = "save a record"
    DRAFT_KIND = "record"

    def __init__(self, record: RecordView | None) -> None:
        super().__init__()
        self.record = record
        self.attaching = False

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> RecordFormScreen:
        return cls(await item_or_none(vault, Records(vault.open_session).get, draft.item_id,
                                      "record"))

    def draft_item_id(self) -> str | None:
        return self.record.id if self.record else None

    def compose(self) -> ComposeResult:
        record = self.record
        today = self.vault.clock.now().astimezone().date().isoformat()
        yield TopBar("Records · " + ("editing" if record else "new record"))
        with Horizontal(id="record-form"):
            with FieldColumn(classes="form-half"):
                yield Field("title", Input(record.title if record else "", id="title",
                                           placeholder="e.g. Blood test, Knee MRI report",
                                           compact=True))
                yield Field("type", Select([(label, key) for key, label in RECORD_TYPES.items()],
                                           id="record_type", allow_blank=False, compact=True,
                                           value=record.record_type if record else "other"))
                yield Field("date of the event", Input(
                    (record.event_date or "") if record else today, id="event_date",
                    placeholder="YYYY-MM-DD, today, yesterday (empty: no date)", compact=True))
                yield Field("tags", Input(" ".join(f"#{t}" for t in record.tags) if record
                                          else "", id="tags", placeholder="e.g. #iron #knee",
                                          compact=True))
                if record is None:
                    yield Field("attach files: type paths or drop files here",
                                PathInput(id=ATTACH, compact=True,
                                          placeholder="e.g. ~/Downloads/labs.pdf (Tab completes)"))
                yield ProgressRow(id="record-progress")
            with FieldColumn(classes="form-half"):
                yield Field("description", TextArea((record.description or "") if record
                                                    else "", id="description",
                                                    classes="short-text"))
                yield Field("notes (your own words, searchable)", TextArea(
                    (record.text or "") if record else "", id="text", soft_wrap=True,
                    classes="record-text"))
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.remember_initial()
        self.query_one("#title", Input).focus()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {n: self.query_one(f"#{n}", Input).value for n in INPUTS}
        values["record_type"] = self.query_one("#record_type", Select).value
        for name in TEXTS:
            values[name] = self.query_one(f"#{name}", TextArea).text
        if self.record is None:
            values[ATTACH] = self.query_one(f"#{ATTACH}", Input).value
        return values

    async def submit(self, values: dict[str, Any]) -> RecordView:
        values.pop(ATTACH, None)
        service = Records(self.session)
        if self.record is not None:
            return await self.vault.attempt(service.update, self.record.id, **values)
        return await self.vault.attempt(service.create, self.vault.patient_id, **values)

    def saved_message(self, saved: RecordView) -> str:
        return f"Record “{saved.title}” saved."

    async def action_save(self) -> None:
        if self.attaching:
            return  # saved already: its files are being attached
        await super().action_save()

    async def action_leave(self) -> None:
        if self.attaching:
            self.notify("The record is saved; wait for its files to be attached.",
                        severity="warning")
            return
        await super().action_leave()

    async def after_save(self, saved: RecordView) -> None:
        paths = [] if self.record is not None else paths_from_paste(
            self.query_one(f"#{ATTACH}", Input).value)
        if not paths:
            await super().after_save(saved)
            return
        # From here on the record exists: saving again would make a second one.
        self.record = saved
        self.attaching = True
        self.attach_then_leave(saved, paths)

    def on_work_progress(self, message: WorkProgress) -> None:
        """How far attaching has come (from the encrypting thread)."""
        self.query_one("#record-progress", ProgressRow).show(message.what, message.done)

    @work(group="attach", exit_on_error=False)
    async def attach_then_leave(self, saved: RecordView, paths: list[str]) -> None:
        progress = self.query_one("#record-progress", ProgressRow)
        try:
            outcome = await attach_files(self.vault, saved.id, paths, self)
        finally:
            progress.hide()
            self.attaching = False
        if not outcome.still_open(self.vault):
            return  # locked meanwhile: the unlock screen shows nothing of the vault
        self.notify(self.saved_message(saved))
        tell(self.vault, outcome)
        if outcome.failed:
            self.notify("The record is saved. Select it and press a to attach the files "
                        "that failed once they are fixed.", severity="warning", timeout=15)
        try:  # the record as it now is, with its files
            saved = await self.vault.call(Records(self.session).get, saved.id)
        except ServiceFailed:
            pass
        self.dismiss(saved)
