"""Hand-off for your doctor, as `luna handoff` writes it: whose, which days, which kinds,
which records, as files or as one archive, and where.

The preview under the form is what will be written, read by the services from the
same contents the packet is made of, and updated as the choices change; nothing is
written before Write. The form says the files are NOT encrypted (or, with the archive,
which tools open it). The writing runs in a worker, the insights page's analyses with
it (seconds on a long record: its progress shows under the form); its result comes
back as a message, and an archive's passphrase is shown once in a dialog, then dropped.
The insights box is greyed while the medications, or all of mood, sleep and vitals, are
left out: the page weighs only what the hand-off holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList

from luna_tui.clock import local_today
from luna_tui.errors import LunaError, ValidationError
from luna_tui.services.handoff.choices import (
    DEFAULT_INCLUDE,
    HANDOFF_KINDS,
    INSIGHTS,
    HandoffChoice,
    insights_possible,
    parse_period,
)
from luna_tui.services.handoff.packet import write_packet
from luna_tui.services.handoff.preview import (
    ARCHIVE_TOOLS,
    NOT_ENCRYPTED,
    PRIVATE_NEVER,
    HandoffPreviews,
)
from luna_tui.services.patients import Patients
from luna_tui.ui.messages import WorkProgress
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.screens.settings.shown_once import ShownOnce
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error
from luna_tui.ui.widgets.path_input import PathInput
from luna_tui.ui.widgets.progress_row import ProgressRow

if TYPE_CHECKING:
    from luna_tui.services.handoff.packet import WrittenPacket
    from luna_tui.services.handoff.preview import HandoffPreview

# The kinds ticked in boxes; records are chosen one by one in the list instead.
BOXED_KINDS = tuple(k for k in HANDOFF_KINDS if k != "records")
BOX_LABELS = {"meds": "Medications, with their dose changes",
              "doses": "Doses logged (adherence per medication)",
              "vitals": "Vitals, charted", "mood": "Mood over the period",
              "sleep": "Sleep over the period", "appointments": "Upcoming appointments",
              "journal": "Journal entries shared with the therapist (never private ones)",
              INSIGHTS: "Insights: how mood, sleep and vitals moved after each medication "
                        "change (a page; needs the medications and mood, sleep or vitals)"}
DEFAULT_FROM, DEFAULT_TO, DEFAULT_FOLDER = "30 days ago", "today", "~/luna-handoff"


class HandoffPart(SettingsPart):
    class PreviewReady(Message):
        def __init__(self, preview: HandoffPreview) -> None:
            super().__init__()
            self.preview = preview

    class Written(Message):
        def __init__(self, written: WrittenPacket) -> None:
            super().__init__()
            self.written = written

    def __init__(self) -> None:
        super().__init__(id="handoff")
        self.preview: HandoffPreview | None = None  # what the panel shows now
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Label("A packet for your doctor: a PDF to read, the same data as FHIR R4 "
                    "(.json) and the upcoming appointments (.ics).", classes="muted")
        yield Field("whose", Select([], allow_blank=True, id="handoff-patient",
                                    compact=True, prompt="choose"))
        with Horizontal(classes="handoff-dates"):
            yield Field("from", Input(DEFAULT_FROM, id="handoff-from", compact=True))
            yield Field("to", Input(DEFAULT_TO, id="handoff-to", compact=True))
        for kind in BOXED_KINDS:
            yield Checkbox(BOX_LABELS[kind], value=kind in DEFAULT_INCLUDE,
                           id=f"handoff-kind-{kind}", compact=True)
        yield Label("Records to include (space ticks one); each goes only when ticked",
                    classes="field-label")
        yield SelectionList[str](id="handoff-records", compact=True)
        yield Checkbox("The ticked records' attached files too", value=False,
                       id="handoff-attachments", compact=True)
        yield Checkbox("Only as one encrypted archive (AES-256 zip, passphrase shown once)",
                       value=False, id="handoff-archive", compact=True)
        yield Field("write into (a folder, made if new)",
                    PathInput(DEFAULT_FOLDER, id="handoff-folder", compact=True))
        yield Label("What will be included", classes="part-heading")
        with Vertical(id="handoff-preview"):
            yield Label("", id="handoff-preview-title")
            for kind in HANDOFF_KINDS:
                yield Label("", id=f"handoff-count-{kind}")
            yield Label("", id="handoff-preview-records")
            yield Label(PRIVATE_NEVER, classes="muted")
            yield Label("", id="handoff-preview-files")
        yield Label(NOT_ENCRYPTED, id="handoff-warning", classes="warning-text")
        with Horizontal(classes="part-buttons"):
            yield Button("Write (ctrl+s)", id="handoff-write", variant="primary",
                         compact=True)
        yield ProgressRow(id="handoff-progress")

    async def refresh_data(self) -> None:
        session = self.session
        people = await self.vault.call(Patients(session).list)
        patients = self.query_one("#handoff-patient", Select)
        chosen = patients.value
        with self.prevent(Select.Changed):
            patients.set_options([(plain(p.name), p.id) for p in people])
            ids = {p.id for p in people}
            if chosen in ids:
                patients.value = chosen
            elif self.vault.patient_id in ids:
                patients.value = self.vault.patient_id
        await self._load_records()
        self.update_preview()

    async def _load_records(self) -> None:
        patient = self._patient_id()
        if patient is None:
            return
        records = await self.vault.call(HandoffPreviews(self.session).records_to_choose,
                                        patient)
        chooser = self.query_one("#handoff-records", SelectionList)
        ticked = set(chooser.selected)
        with self.prevent(SelectionList.SelectedChanged):
            chooser.clear_options()
            chooser.add_options([(plain(f"{r.event_date or 'no date'}  {r.title} "
                                        f"({r.type_label})"), r.id, r.id in ticked)
                                 for r in records])

    def _patient_id(self) -> str | None:
        value = self.query_one("#handoff-patient", Select).value
        return None if value is Select.BLANK else str(value)

    # -- the choices, and the preview of them ------------------------------------------------

    @on(Select.Changed, "#handoff-patient")
    async def patient_changed(self) -> None:
        try:
            await self._load_records()
        except ServiceFailed:
            return
        self.update_preview()

    @on(Checkbox.Changed)
    @on(Input.Changed, "#handoff-from, #handoff-to")
    @on(SelectionList.SelectedChanged)
    def choices_changed(self, event: Message) -> None:
        if isinstance(event, Checkbox.Changed) and event.checkbox.id == "handoff-archive":
            self.query_one("#handoff-warning", Label).update(
                ARCHIVE_TOOLS if event.value else NOT_ENCRYPTED)
        self.query_one(f"#handoff-kind-{INSIGHTS}", Checkbox).disabled = (
            not insights_possible(self._ticked_kinds()))
        self.update_preview()

    def _ticked_kinds(self) -> set[str]:
        return {k for k in BOXED_KINDS
                if self.query_one(f"#handoff-kind-{k}", Checkbox).value}

    def choice(self) -> HandoffChoice:
        """The form as a hand-off choice; ValidationError names the field at fault."""
        patient = self._patient_id()
        if patient is None:
            raise ValidationError("Choose whose hand-off this is.", "handoff-patient")
        today = local_today(self.vault.clock)
        start, end = parse_period(self.query_one("#handoff-from", Input).value,
                                  self.query_one("#handoff-to", Input).value, today)
        records = frozenset(self.query_one("#handoff-records", SelectionList).selected)
        include = self._ticked_kinds()
        if not insights_possible(include):  # its box is greyed: nothing to weigh
            include.discard(INSIGHTS)
        if records:
            include.add("records")
        return HandoffChoice(
            patient, start, end, frozenset(include), record_ids=records,
            attachments=self.query_one("#handoff-attachments", Checkbox).value,
            archive=self.query_one("#handoff-archive", Checkbox).value)

    @work(group="handoff-preview", exclusive=True, exit_on_error=False)
    async def update_preview(self) -> None:
        session = self.vault.session
        if session is None or self._patient_id() is None:  # not loaded yet
            return
        clear_errors(self)
        try:
            choice = self.choice()
            preview = await self.vault.attempt(HandoffPreviews(session).preview, choice)
        except LunaError as error:
            field = {"from_date": "handoff-from", "to_date": "handoff-to"}.get(
                getattr(error, "field", None) or "", "handoff-patient")
            if self.still_open(session):
                self._show_field_error(field, str(error))
                self.preview = None
            return
        if self.still_open(session):
            self.post_message(self.PreviewReady(preview))

    def _show_field_error(self, field_id: str, message: str) -> None:
        focused = self.app.focused  # typing a date goes on in its field
        show_field_error(self, field_id, message)
        if focused is not None:
            focused.focus()

    def on_handoff_part_preview_ready(self, message: HandoffPart.PreviewReady) -> None:
        message.stop()
        preview = self.preview = message.preview
        self.query_one("#handoff-preview-title", Label).update(plain(preview.lines()[0]))
        for kind in HANDOFF_KINDS:
            self.query_one(f"#handoff-count-{kind}", Label).update(preview.count_line(kind))
        self.query_one("#handoff-preview-records", Label).update(plain("\n".join(
            f"  record: {r.title} ({r.type_label}, {r.event_date or 'no date'})"
            for r in preview.records)))
        self.query_one("#handoff-preview-files", Label).update(
            plain("It writes: " + ", ".join(preview.files)))

    # -- writing ----------------------------------------------------------------------------

    async def submit(self) -> None:
        self.start_writing()

    @on(Button.Pressed, "#handoff-write")
    @on(Input.Submitted, "#handoff-folder")
    def start_writing(self) -> None:
        if self.busy:
            self.notify("A hand-off is being written; wait for it to finish.",
                        severity="warning")
            return
        clear_errors(self)
        folder = self.query_one("#handoff-folder", Input).value.strip()
        if not folder:
            show_field_error(self, "handoff-folder", "Say which folder to write into, e.g. "
                             f"{DEFAULT_FOLDER}.")
            return
        try:
            choice = self.choice()
        except ValidationError as error:
            self._show_field_error({"from_date": "handoff-from", "to_date": "handoff-to"}
                                   .get(error.field or "", "handoff-patient"), str(error))
            return
        self.write(choice, Path(folder).expanduser())

    @work(group="handoff-write", exit_on_error=False)
    async def write(self, choice: HandoffChoice, folder: Path) -> None:
        session = self.vault.session
        if session is None:
            return
        self.busy = True
        progress = self.query_one("#handoff-progress", ProgressRow)
        progress.show("Writing the hand-off", 0.0)
        try:
            written = await self.vault.attempt(write_packet, session, choice, folder,
                                               progress=self._report)
        except LunaError as error:
            if self.still_open(session):
                show_field_error(self, "handoff-folder", f"Nothing was written: {error}")
            return
        finally:
            self.busy = False
            progress.hide()
        if self.still_open(session):
            self.post_message(self.Written(written))

    def _report(self, what: str, done: float) -> None:
        """From the worker's thread: how far the insights page is."""
        self.post_message(WorkProgress(what, done))

    def on_work_progress(self, message: WorkProgress) -> None:
        message.stop()
        if self.busy:
            self.query_one("#handoff-progress", ProgressRow).show(message.what, message.done)

    async def on_handoff_part_written(self, message: HandoffPart.Written) -> None:
        message.stop()
        written = message.written
        self.notify(plain(f"Wrote {', '.join(written.files)} into {written.folder}. "
                          + " ".join(written.sentences())), timeout=15)
        if written.passphrase is not None:
            await self._show_passphrase(written.passphrase)

    async def _show_passphrase(self, passphrase: str) -> None:
        await self.app.push_screen(ShownOnce(
            "The archive's passphrase", "Shown only now, and kept nowhere: write it down "
            "and give it to the clinician by another way than the file (say it, or send "
            "it apart). It opens in 7-Zip, Keka, PeaZip and similar tools, NOT in Windows "
            "Explorer or macOS Archive Utility.", passphrase, shown=passphrase))
