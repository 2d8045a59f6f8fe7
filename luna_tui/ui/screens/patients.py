"""Patients: the owner and the people a caregiver looks after. Enter makes one current;
n adds, e edits, a archives (or restores), x deletes — saying what goes with them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label, TextArea

from luna_tui.services.patients import Patients
from luna_tui.ui.messages import PatientChosen, PatientRenamed
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.patients import PatientView
    from luna_tui.ui.vault_calls import VaultCalls

# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "add a patient", "edit": "change a patient",
                 "archive": "archive a patient", "delete": "delete a patient"}


class PatientsScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "Add", id="patients.new"),
        Binding("e", "edit", "Edit", id="patients.edit"),
        Binding("a", "archive", "Archive/restore", id="patients.archive"),
        Binding("x", "delete", "Delete", id="patients.delete"),
        Binding("h", "toggle_archived", "Show archived", id="patients.archived"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.patients: dict[str, PatientView] = {}
        self.show_archived = False

    def compose(self) -> ComposeResult:
        yield TopBar("Patients")
        yield Label("Enter makes a patient current: every screen then shows their data.",
                    id="patients-hint", classes="muted")
        yield ListTable(id="patients")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#patients", DataTable).add_columns(
            "", "Name", "Age", "Relationship", "Doctor", "Status")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None
        return True

    async def refresh_data(self) -> None:
        try:
            patients = await self.vault.call(Patients(self.session).list,
                                            include_archived=self.show_archived)
        except ServiceFailed:
            return
        today = self.vault.clock.now().astimezone().date()
        table = self.query_one("#patients", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.patients = {p.id: p for p in patients}
        for patient in patients:
            current = Text("●", style="green") if patient.id == self.vault.patient_id else ""
            age = patient.age(today)
            table.add_row(current, plain(patient.name), "" if age is None else str(age),
                          plain(patient.relationship or ""), plain(patient.primary_doctor or ""),
                          "active" if patient.active else Text("archived", style="dim"),
                          key=patient.id)
        if patients:
            table.move_cursor(row=min(cursor, len(patients) - 1))

    def _selected(self) -> PatientView | None:
        table = self.query_one("#patients", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.patients.get(str(key.value))

    @on(DataTable.RowSelected, "#patients")
    async def make_current(self) -> None:
        patient = self._selected()
        if patient is None:
            return
        if not patient.active:
            self.notify(f"{patient.name} is archived; restore them first (a).")
            return
        self.post_message(PatientChosen(patient.id, patient.name))

    async def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        await self.refresh_data()

    async def action_new(self) -> None:
        if self.vault.writable("add a patient"):
            await self.app.push_screen(PatientFormScreen(None), self._after_form)

    async def action_edit(self) -> None:
        patient = self._selected()
        if patient is not None and self.vault.writable("change a patient"):
            await self.app.push_screen(PatientFormScreen(patient), self._after_form)

    async def _after_form(self, saved: PatientView | None) -> None:
        if saved is None:
            return
        self.post_message(PatientRenamed(saved.id, saved.name))
        await self.refresh_data()

    async def action_archive(self) -> None:
        patient = self._selected()
        if patient is None or not self.vault.writable("archive a patient"):
            return
        if patient.id == self.vault.patient_id and patient.active:
            self.notify("Switch to another patient (p) before archiving the current one.")
            return
        try:
            await self.vault.call(Patients(self.session).set_archived, patient.id,
                                 patient.active)
        except ServiceFailed:
            return
        self.notify(f"{patient.name} {'archived' if patient.active else 'restored'}.")
        await self.refresh_data()

    async def action_delete(self) -> None:
        patient = self._selected()
        if patient is None or not self.vault.writable("delete a patient"):
            return
        if patient.id == self.vault.patient_id:
            self.notify("Switch to another patient (p) before deleting the current one.")
            return
        try:
            impact = await self.vault.call(Patients(self.session).deletion_impact, patient.id)
        except ServiceFailed:
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(Patients(self.session).delete, patient.id)
            except ServiceFailed:
                return
            self.notify(f"{patient.name} and everything of theirs deleted.")
            await self.refresh_data()

        await self.app.push_screen(ConfirmDialog(
            f"Delete {patient.name} and everything of theirs?",
            f"This also deletes {impact.sentence()}. It cannot be undone; archive (a) keeps "
            "it all instead.", "Delete everything"), answered)


class PatientFormScreen(FormScreen["PatientView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="patient_form.save", priority=True),
        Binding("escape", "leave", "Back", id="patient_form.leave"),
    ]
    ACTION = "save a patient"
    DRAFT_KIND = "patient"
    DRAFT_FOR_PATIENT = False  # the form is about a patient, it is not one's data

    FIELDS = (("name", "name"), ("date_of_birth", "date of birth (YYYY-MM-DD)"),
              ("relationship", "relationship (self, mother, …)"), ("gender", "gender"),
              ("phone", "phone"), ("emergency_contact", "emergency contact"),
              ("primary_doctor", "doctor"), ("doctor_phone", "doctor's phone"),
              ("allergies", "allergies"))

    def __init__(self, patient: PatientView | None) -> None:
        super().__init__()
        self.patient = patient

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> PatientFormScreen:
        return cls(await item_or_none(vault, Patients(vault.open_session).get, draft.item_id,
                                      "patient"))

    def draft_item_id(self) -> str | None:
        return self.patient.id if self.patient else None

    def compose(self) -> ComposeResult:
        patient = self.patient
        yield TopBar("Patients · " + (patient.name if patient else "new patient"))
        with Horizontal(id="patient-form"), FieldColumn(classes="form-column"):
            for name, label in self.FIELDS:
                value = getattr(patient, name) if patient else ""
                yield Field(label, Input(value or "", id=name, compact=True))
            yield Label("", id="age", classes="muted")
            notes = TextArea((patient.notes or "") if patient else "", id="notes")
            yield Field("notes", notes)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.remember_initial()
        self._show_age()
        self.query_one("#name", Input).focus()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: self.query_one(f"#{name}", Input).value
                                  for name, _ in self.FIELDS}
        values["notes"] = self.query_one("#notes", TextArea).text
        return values

    @on(Input.Changed, "#date_of_birth")
    def _show_age(self) -> None:
        import datetime as dt

        text = self.query_one("#date_of_birth", Input).value.strip()
        label = self.query_one("#age", Label)
        try:
            born = dt.date.fromisoformat(text)
        except ValueError:
            label.update("")
            return
        today = self.vault.clock.now().astimezone().date()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        label.update(f"age {age}" if age >= 0 else "")

    async def submit(self, values: dict[str, Any]) -> PatientView:
        patients = Patients(self.session)
        if self.patient is None:
            return await self.vault.attempt(patients.create, **values)
        return await self.vault.attempt(patients.update, self.patient.id, **values)

    def saved_message(self, saved: PatientView) -> str:
        return f"{saved.name} saved."
