"""Export and import, as `luna export` and `luna import` do them.

Export: JSON (every table, re-importable), Markdown (the journal, for reading) or a
FHIR R4 Bundle (health data for other health tools), to a file written 0600 and
renamed into place only when whole; private journal entries only when the person
ticks the box (off by default), and the form says plainly that the file
is NOT encrypted. Import: a Luna or jrnl JSON export or a FHIR Bundle, read and checked
whole before anything is written. Both run in a worker, with their progress under the form.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, Select

from luna_tui.errors import LunaError, ValidationError
from luna_tui.services.export_files import private_output
from luna_tui.services.exporting import Exporter
from luna_tui.services.fhir.exporting import FhirExporter
from luna_tui.services.importing import Importer, check_document, read_import_file
from luna_tui.services.patients import Patients
from luna_tui.ui.messages import StillBusy, WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error
from luna_tui.ui.widgets.path_input import PathInput
from luna_tui.ui.widgets.progress_row import ProgressRow

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession

EXPORT_FORMATS = [("JSON: everything, re-importable with Import", "json"),
                  ("Markdown: the journal, for reading", "md"),
                  ("FHIR R4: health data for other health tools", "fhir")]
# Longest first: a FHIR export's ".fhir.json" also ends in the JSON export's ".json".
EXTENSIONS = {"fhir": "fhir.json", "json": "json", "md": "md"}
IMPORT_FORMATS = [("Found from the file", "detect"), ("A Luna JSON export", "luna"),
                  ("A jrnl JSON export (jrnl --format json)", "jrnl"),
                  ("A FHIR R4 Bundle (JSON)", "fhir")]
NOT_ENCRYPTED = ("The export file is NOT encrypted: anyone who can read that folder can "
                 "read your health data. Keep it safe, and delete it when you no longer "
                 "need it. A backup (key 9) is the encrypted, complete copy of the vault.")


def default_export_path(fmt: str) -> str:
    return f"~/luna-export.{EXTENSIONS[fmt]}"


def export_target(typed: str) -> tuple[Path, bool]:
    """The file an export typed as `typed` goes to, and whether one is there already."""
    target = Path(typed).expanduser()
    if target.is_dir():
        raise ValidationError(f"{target} is a folder; name a file in it, e.g. "
                              "luna-export.json.", "export-path")
    return target, os.path.lexists(target)


class TransferPart(SettingsPart):
    def __init__(self) -> None:
        super().__init__(id="transfer")
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Label("Export", classes="part-heading")
        yield Field("format", Select(EXPORT_FORMATS, value="json", allow_blank=False,
                                     id="export-format", compact=True))
        yield Field("write to (a file)", PathInput(default_export_path("json"),
                                                   id="export-path", compact=True))
        yield Checkbox("Include private journal entries (left out unless ticked)",
                       value=False, id="export-private", compact=True)
        yield Label(NOT_ENCRYPTED, id="export-warning", classes="warning-text")
        yield Label("", id="export-private-note", classes="muted")
        with Horizontal(classes="part-buttons"):
            yield Button("Export (ctrl+s)", id="export", variant="primary", compact=True)
        yield Label("Import", classes="part-heading")
        yield Field("the file (a Luna or jrnl JSON export)",
                    PathInput(id="import-path", compact=True,
                              placeholder="e.g. ~/Downloads/journal.json"))
        yield Field("format", Select(IMPORT_FORMATS, value="detect", allow_blank=False,
                                     id="import-format", compact=True))
        yield Field("whose journal jrnl entries join", Select(
            [], allow_blank=True, id="import-patient", compact=True, prompt="the current"))
        yield Label("The whole file is checked before anything is written; importing the "
                    "same file twice adds nothing.", classes="muted")
        with Horizontal(classes="part-buttons"):
            yield Button("Import", id="import", compact=True)
        yield ProgressRow(id="transfer-progress")

    async def refresh_data(self) -> None:
        session = self.session

        def gather() -> tuple[list[Any], int]:
            return Patients(session).list(), Exporter(session).private_entries()

        people, private = await self.vault.call(session.run, gather)
        patients = self.query_one("#import-patient", Select)
        chosen = patients.value
        patients.set_options([(plain(p.name), p.id) for p in people])
        if chosen in {p.id for p in people}:
            patients.value = chosen
        elif self.vault.patient_id in {p.id for p in people}:
            patients.value = self.vault.patient_id
        note = ("This vault has no private journal entries." if not private else
                f"{private} private journal entr{'y' if private == 1 else 'ies'}: "
                f"{'included' if self._include_private else 'left out'}.")
        self.query_one("#export-private-note", Label).update(note)

    @property
    def _include_private(self) -> bool:
        return self.query_one("#export-private", Checkbox).value

    @on(Checkbox.Changed, "#export-private")
    async def private_changed(self) -> None:
        try:
            await self.refresh_data()
        except ServiceFailed:
            pass

    @on(Select.Changed, "#export-format")
    def format_changed(self, event: Select.Changed) -> None:
        """A path still ending in the other format's extension follows the format."""
        field = self.query_one("#export-path", Input)
        wanted = EXTENSIONS[str(event.value)]
        for extension in EXTENSIONS.values():
            if field.value.endswith(f".{extension}"):
                if extension != wanted:
                    field.value = field.value.removesuffix(extension) + wanted
                return

    async def submit(self) -> None:
        await self.start_export()

    # -- export ---------------------------------------------------------------------------

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#export-path")
    async def start_export(self) -> None:
        if self.busy:
            self.notify("An export or import is under way; wait for it to finish.",
                        severity="warning")
            return
        clear_errors(self)
        typed = self.query_one("#export-path", Input).value.strip()
        if not typed:
            show_field_error(self, "export-path", "Say where to write the export, e.g. "
                             "~/luna-export.json.")
            return
        try:
            target, taken = export_target(typed)
        except ValidationError as error:
            show_field_error(self, "export-path", str(error))
            return
        fmt = str(self.query_one("#export-format", Select).value)
        private = self._include_private
        if not taken:
            self.export(target, fmt, private)
            return

        def answered(replace: bool | None) -> None:
            if replace:
                self.export(target, fmt, private)

        await self.app.push_screen(ConfirmDialog(
            f"Replace {target}?", "The file there is replaced by the export (which is not "
            "encrypted).", "Replace"), answered)

    @work(group="transfer", exit_on_error=False)
    async def export(self, target: Path, fmt: str, private: bool) -> None:
        session = self.vault.session
        if session is None:
            return
        self.busy = True
        try:
            written = await self.vault.attempt(self._write_export, session, target, fmt,
                                               private)
        except LunaError as error:
            if self.still_open(session):
                show_field_error(self, "export-path", f"Nothing was exported: {error}")
            return
        finally:
            self.busy = False
            self.query_one("#transfer-progress", ProgressRow).hide()
        if not self.still_open(session):
            return
        rows, left_out = written
        what = {"json": "rows", "md": "journal entries", "fhir": "FHIR resources"}[fmt]
        left = (f" {left_out} private journal entr{'y was' if left_out == 1 else 'ies were'} "
                "left out." if left_out else "")
        self.notify(f"Wrote {rows} {what} to {target}.{left} This file is NOT encrypted: "
                    "keep it safe, and delete it when you no longer need it.", timeout=15)

    def _write_export(self, session: VaultSession, target: Path, fmt: str,
                      private: bool) -> tuple[int, int]:
        """In a thread: the export, as `luna export --out` writes it."""
        exporter = Exporter(session)
        left_out = 0 if private else exporter.private_entries()
        what = "Exporting"
        self.post_message(WorkProgress(what, 0.0))
        with private_output(target) as out:
            if fmt == "json":
                total = max(1, sum(exporter.table_counts(include_private=private).values()))

                def progress(done: int) -> None:  # on the DB thread
                    self.post_message(StillBusy())
                    self.post_message(WorkProgress(what, min(1.0, done / total)))

                rows = sum(exporter.write_json(out, progress=progress,
                                               include_private=private).values())
            elif fmt == "fhir":
                rows = sum(FhirExporter(session).write(out, include_private=private).values())
            else:
                rows = exporter.write_markdown(out, include_private=private)
        return rows, left_out

    # -- import ---------------------------------------------------------------------------

    @on(Button.Pressed, "#import")
    @on(Input.Submitted, "#import-path")
    def start_import(self) -> None:
        if self.busy:
            self.notify("An export or import is under way; wait for it to finish.",
                        severity="warning")
            return
        if not self.vault.writable("import data"):
            return
        clear_errors(self)
        typed = self.query_one("#import-path", Input).value.strip()
        if not typed:
            show_field_error(self, "import-path", "Say which file to import, e.g. "
                             "~/Downloads/journal.json.")
            return
        fmt = str(self.query_one("#import-format", Select).value)
        patient = self.query_one("#import-patient", Select).value
        self.run_import(Path(typed).expanduser(), None if fmt == "detect" else fmt,
                        None if patient is Select.BLANK else str(patient))

    @work(group="transfer", exit_on_error=False)
    async def run_import(self, path: Path, fmt: str | None, patient_id: str | None) -> None:
        session = self.vault.session
        if session is None:
            return
        self.busy = True
        progress_row = self.query_one("#transfer-progress", ProgressRow)
        try:
            progress_row.show(f"Reading {path.name}", 0.0)
            try:  # the whole file, checked, before anything is written
                checked = await self.vault.attempt(
                    lambda: check_document(read_import_file(path), fmt))
            except LunaError as error:
                if self.still_open(session):
                    show_field_error(self, "import-path", str(error))
                return
            what = f"Importing {path.name}"

            def report(done: int, total: int) -> None:  # in the importing thread
                self.post_message(StillBusy())
                self.post_message(WorkProgress(what, done / total if total else 1.0))

            try:
                result = await self.vault.call(Importer(session).import_checked, checked,
                                               patient_id=patient_id, progress=report)
            except ServiceFailed:
                return  # said
        finally:
            self.busy = False
            progress_row.hide()
        if self.still_open(session):
            self.notify(result.summary(), timeout=12)
            await self.refresh_data()

    def on_work_progress(self, message: WorkProgress) -> None:
        message.stop()
        if self.busy:
            self.query_one("#transfer-progress", ProgressRow).show(message.what, message.done)
