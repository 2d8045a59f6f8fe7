"""Export and import, as `luna export` and `luna import` do them.

Export: JSON (every table, re-importable), Markdown (the journal, for reading) or a
FHIR R4 Bundle (health data for other health tools), to a file written 0600 and
renamed into place only when whole; private journal entries only when the person
ticks the box (off by default), and the form says plainly that the file
is NOT encrypted. Import: whatever `luna import` takes (a Luna, jrnl or FHIR JSON export,
an Apple Health export, a Daylio backup, vitals in CSV), told apart by the same service
(services/file_import.py) as soon as a path is typed: the line under the path says what
the file is, and only the options that apply to it show. Both run in a worker, with
their progress under the form; an import's summary stays in the tab.
ctrl+s sends the form the focus is in (the export's unless it is in the import's).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select

from luna_tui.errors import LunaError, ValidationError
from luna_tui.services.export_files import private_output
from luna_tui.services.exporting import Exporter
from luna_tui.services.fhir.exporting import FhirExporter
from luna_tui.services.file_import import (
    ImportFile,
    ImportOptions,
    Told,
    identify_import,
    run_import,
)
from luna_tui.services.patients import Patients
from luna_tui.ui.messages import StillBusy, WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.field import Field, clear_error_of, clear_errors, show_field_error
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
DAYLIO_PRIVACY = [("private", "private"), ("shared with therapist", "shared")]
PROGRESS_STEPS = 200  # the progress row moves in steps of 0.5 %, not per 64 KB read
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
        with Vertical(id="import-form"):
            yield from self._compose_import()
        yield ProgressRow(id="transfer-progress")
        yield Label("", id="import-result")

    def _compose_import(self) -> ComposeResult:
        """What `luna import` takes; each option in a box named after its ImportOptions
        field, shown once the file is found to be of a kind that takes it."""
        yield Field("the file: a Luna, jrnl or FHIR JSON export, an Apple Health export "
                    "(.zip or .xml), a Daylio backup or vitals in CSV",
                    PathInput(id="import-path", compact=True,
                              placeholder="e.g. ~/Downloads/export.zip"))
        yield Label("", id="import-kind", classes="muted")
        with Vertical(id="import-option-format", classes="import-option"):
            yield Field("format", Select(IMPORT_FORMATS, value="detect", allow_blank=False,
                                         id="import-format", compact=True))
        with Vertical(id="import-option-mapping", classes="import-option"):
            yield Field("which column holds what, as `luna import --map` (empty: columns "
                        "named date, kind, value, unit)",
                        Input(id="import-map", compact=True, placeholder="e.g. date=Date,"
                              "weight:lb=Weight (lb),heart_rate=Pulse,blood_pressure=BP"))
        with Vertical(id="import-option-skip_bad", classes="import-option"):
            yield Checkbox("Skip bad rows (without it, one bad row stops the import)",
                           value=False, id="import-skip-bad", compact=True)
        with Vertical(id="import-option-daily", classes="import-option"):
            yield Checkbox("One reading a day (the mean) of heart rate, oxygen saturation "
                           "and glucose", value=False, id="import-daily", compact=True)
        with Vertical(id="import-option-privacy", classes="import-option"):
            yield Field("the entries' privacy", Select(
                DAYLIO_PRIVACY, value="private", allow_blank=False, id="import-privacy",
                compact=True))
        yield Field("whose data it is (a Luna export or FHIR Bundle keeps the people it "
                    "names)", Select([], allow_blank=True, id="import-patient",
                                     compact=True, prompt="the current"))
        yield Label("A file Luna refuses leaves the vault as it was; importing the same "
                    "file twice adds nothing.", classes="muted")
        with Horizontal(classes="part-buttons"):
            yield Button("Import (ctrl+s)", id="import", compact=True)

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
        focused = self.screen.focused
        if focused is not None and self.query_one("#import-form") in (
                focused.ancestors_with_self):
            self.start_import()
        else:
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

    @on(Input.Changed, "#import-path")
    def path_changed(self, event: Input.Changed) -> None:
        clear_error_of(event.input)
        typed = event.value.strip()
        self.identify(Path(typed).expanduser() if typed else None)

    @work(group="import-identify", exclusive=True, exit_on_error=False)
    async def identify(self, path: Path | None) -> None:
        """Say what the file typed is, and show the options that apply to it; a path
        that is no file (yet: it is being typed) says nothing."""
        session = self.vault.session
        try:
            if path is None or not await self.vault.attempt(path.is_file):
                self._show_kind(None)
                return
            found = await self.vault.attempt(identify_import, path, self._options())
        except ServiceFailed:
            return
        except LunaError as error:
            if self.still_open(session):
                self._show_kind(None)
                show_field_error(self, "import-path", str(error), focus=False)
            return
        if self.still_open(session):
            self._show_kind(found)

    def _show_kind(self, found: ImportFile | None) -> None:
        kind = self.query_one("#import-kind", Label)
        kind.update(plain(f"Found: {found.describe()}.") if found else "")
        kind.set_class(found is not None, "shown")
        taken = found.options_taken if found else frozenset()
        for option in self.query(".import-option"):
            option.set_class(str(option.id).removeprefix("import-option-") in taken, "shown")

    def _options(self) -> ImportOptions:
        """Every kind's options as the form holds them (`ImportFile.applicable` keeps
        those of the file's kind)."""
        fmt = str(self.query_one("#import-format", Select).value)
        mapping = self.query_one("#import-map", Input).value.strip()
        return ImportOptions(format=None if fmt == "detect" else fmt,
                             mapping=(mapping,) if mapping else (),
                             skip_bad=self.query_one("#import-skip-bad", Checkbox).value,
                             daily=self.query_one("#import-daily", Checkbox).value,
                             privacy=str(self.query_one("#import-privacy", Select).value))

    @on(Button.Pressed, "#import")
    @on(Input.Submitted, "#import-path")
    @on(Input.Submitted, "#import-map")
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
                             "~/Downloads/export.zip.")
            return
        patient = self.query_one("#import-patient", Select).value
        self.import_file(Path(typed).expanduser(), self._options(),
                         None if patient is Select.BLANK else str(patient))

    @work(group="transfer", exit_on_error=False)
    async def import_file(self, path: Path, options: ImportOptions,
                          patient_id: str | None) -> None:
        session = self.vault.session
        if session is None:
            return
        self.busy = True
        progress_row = self.query_one("#transfer-progress", ProgressRow)
        result = self.query_one("#import-result", Label)
        result.remove_class("shown")
        try:
            progress_row.show(f"Reading {path.name}", 0.0)
            found = await self.vault.attempt(identify_import, path, options)
            self._show_kind(found)
            summary = await self.vault.attempt(run_import, session, path,
                                               found.applicable(options), patient_id,
                                               self._progress_poster(path.name))
        except ServiceFailed:
            return  # locked
        except LunaError as error:
            if self.still_open(session):
                show_field_error(self, "import-path", str(error))
            return
        finally:
            self.busy = False
            progress_row.hide()
        if self.still_open(session):
            result.update(plain(summary))
            result.add_class("shown")
            self.notify(summary, timeout=12)
            await self.refresh_data()

    def _progress_poster(self, name: str) -> Told:
        """What the importing thread calls as it goes: a WorkProgress message for the
        progress row each time it moves a step (and StillBusy: auto-lock waits)."""
        shown = -1

        def told(fraction: float, words: str) -> None:  # in the importing thread
            nonlocal shown
            step = int(fraction * PROGRESS_STEPS)
            if step != shown:
                shown = step
                self.post_message(StillBusy())
                self.post_message(WorkProgress(f"Importing {name}: {words}", fraction))

        return told

    def on_work_progress(self, message: WorkProgress) -> None:
        message.stop()
        if self.busy:
            self.query_one("#transfer-progress", ProgressRow).show(message.what, message.done)
