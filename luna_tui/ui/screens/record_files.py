"""The files attached to one record: view the text of a text file or a PDF inside Luna
(decrypted in memory only, never into a temp file), save a decrypted copy, attach more,
remove one. Other kinds of files (images, scans) are saved out to be opened elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label, TextArea

from luna_tui.services.attachments import Attachments
from luna_tui.services.records import Records
from luna_tui.services.text_extraction import decode_text, is_text
from luna_tui.ui.plain_text import field_text, plain
from luna_tui.ui.screens.attach_dialog import AttachFilesScreen
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.save_copy_dialog import SaveCopyDialog
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.records import AttachmentView, RecordView
    from luna_tui.services.vault_session import VaultSession

# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"attach": "attach files", "remove": "remove an attachment"}


def attachment_row(attachment: AttachmentView) -> tuple[object, ...]:
    return (plain(attachment.file_name), Text(attachment.display_size, justify="right"),
            plain(attachment.mime_type), attachment.created_at[:10],
            Text("text searchable", style="green") if attachment.has_text else "")


def cannot_show(attachment: AttachmentView) -> str:
    kind = attachment.mime_type
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return (f"This is {article} {kind} file of {attachment.display_size}; Luna shows text "
            "and PDFs only. Press s to save a copy.")


class RecordFilesScreen(UsesVault, Screen[None]):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("v", "view", "View", id="record_files.view"),
        Binding("s", "save_copy", "Save a copy", id="record_files.save"),
        Binding("a", "attach", "Attach", id="record_files.attach"),
        Binding("x", "remove", "Remove", id="record_files.remove"),
        Binding("escape", "back", "Back", id="record_files.back"),
    ]

    def __init__(self, record: RecordView) -> None:
        super().__init__()
        self.record = record
        self.attachments: dict[str, AttachmentView] = {}


    @property
    def session(self) -> VaultSession:
        return self.vault.open_session

    def compose(self) -> ComposeResult:
        yield TopBar(f"Records · files of “{self.record.title}”")
        yield Label("", id="files-status", classes="muted")
        yield ListTable(id="files")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#files", DataTable)
        table.add_columns("File", "Size", "Type", "Added", "")
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None
        return True

    async def on_screen_resume(self) -> None:
        await self.refresh_data()  # back from attaching, saving or viewing

    async def refresh_data(self) -> None:
        if self.record.patient_id != self.vault.patient_id:
            self.dismiss(None)  # another patient was chosen: this record isn't theirs
            return
        try:
            self.record = await self.vault.call(Records(self.session).get, self.record.id)
        except ServiceFailed:
            return
        table = self.query_one("#files", DataTable)
        row = table.cursor_row
        table.clear()
        self.attachments = {a.id: a for a in self.record.attachments}
        for attachment in self.record.attachments:
            table.add_row(*attachment_row(attachment), key=attachment.id)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        count = len(self.attachments)
        attach = "" if self.vault.read_only else " · a attaches more"
        self.query_one("#files-status", Label).update(
            f"{count} file{'' if count == 1 else 's'} · Enter or v views text and PDFs · "
            f"s saves a copy{attach}" if count else
            ("No files attached." + ("" if self.vault.read_only else " Press a to attach one.")))

    def _selected(self) -> AttachmentView | None:
        table = self.query_one("#files", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.attachments.get(str(key.value))

    # -- reading -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#files")
    async def _open(self) -> None:
        await self.action_view()

    async def action_view(self) -> None:
        attachment = self._selected()
        if attachment is None:
            return
        service = Attachments(self.session)
        note = ""
        try:
            if is_text(attachment.mime_type):
                _, data = await self.vault.call(service.read_for_view, attachment.id)
                if data is not None:
                    text = decode_text(data)
                else:  # too big to decrypt into memory: the words read when attached
                    text = await self.vault.call(service.text_of, attachment.id) or ""
                    note = (f"{attachment.display_size}: too big to show whole here; this is "
                            "the start of its text. Save a copy (s) for all of it.")
            elif attachment.mime_type == "application/pdf":
                text = await self.vault.call(service.text_of, attachment.id) or ""
                if not text:
                    self.notify("This PDF has no text layer Luna could read (a scan, perhaps)."
                                " Press s to save a copy and open it in a PDF viewer.",
                                timeout=10)
                    return
                note = "The text of the PDF (its layout and pictures are not shown)."
            else:
                self.notify(cannot_show(attachment), timeout=10)
                return
        except ServiceFailed:
            return  # said already (a damaged file, most likely)
        await self.app.push_screen(AttachmentTextScreen(attachment, text, note))

    async def action_save_copy(self) -> None:
        attachment = self._selected()
        if attachment is not None:
            await self.app.push_screen(SaveCopyDialog(attachment))

    # -- changing ------------------------------------------------------------------------

    async def action_attach(self) -> None:
        if self.vault.writable("attach files"):
            await self.app.push_screen(AttachFilesScreen(self.record))

    async def action_remove(self) -> None:
        attachment = self._selected()
        if attachment is None or not self.vault.writable("remove an attachment"):
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(Attachments(self.session).delete, attachment.id)
            except ServiceFailed:
                return
            self.notify(f"Removed {attachment.file_name} from the record.")
            await self.refresh_data()

        await self.app.push_screen(ConfirmDialog(
            f"Remove {attachment.file_name} from “{self.record.title}”?",
            "Its encrypted copy in the vault is deleted, and its words leave search. The "
            "file you attached it from is not touched.", "Remove"), answered)

    def action_back(self) -> None:
        self.dismiss(None)


class AttachmentTextScreen(Screen[None]):
    """The text of an attachment, read-only; it lives in memory only."""

    BINDINGS = [Binding("escape", "back", "Back", id="attachment_text.back")]

    def __init__(self, attachment: AttachmentView, text: str, note: str = "") -> None:
        super().__init__()
        self.attachment, self.text, self.note = attachment, text, note

    def compose(self) -> ComposeResult:
        yield TopBar(f"Records · {self.attachment.file_name}")
        if self.note:
            yield Label(plain(self.note), id="attachment-note", classes="muted")
        yield TextArea(field_text(self.text), id="attachment-text", read_only=True, soft_wrap=True,
                       show_line_numbers=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#attachment-text", TextArea).focus()

    def action_back(self) -> None:
        self.dismiss(None)
