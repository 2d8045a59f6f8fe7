"""Adding or changing a medication, and stopping one.

The dose times follow the frequency as it is typed ("twice daily" → 08:00 20:00)
until the person changes them. A new dosage is saved as a dose change dated "from",
and stopping asks for the date and a reason: history is recorded, never overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, TextArea

from luna_tui.errors import LunaError, ValidationError
from luna_tui.services.medications import Medications, schedule_from_frequency
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.vault_calls import UsesVault
from luna_tui.ui.widgets.field import Field, FieldColumn, clear_errors, show_field_error
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.medications import MedicationView
    from luna_tui.ui.vault_calls import VaultCalls

LEFT = (("name", "name", "e.g. Metformin"), ("dosage", "dosage", "e.g. 500 mg, 1 tablet"),
        ("frequency", "frequency", "e.g. twice daily, every 8 hours, as needed"),
        ("schedule", "dose times", "e.g. 08:00 20:00 (empty: none)"),
        ("route", "route", "e.g. oral, inhaled"),
        ("start_date", "started on", "YYYY-MM-DD (empty: today)"))
RIGHT = (("prescribing_doctor", "prescriber", ""), ("pharmacy", "pharmacy", ""),
         ("rx_number", "Rx number", ""), ("refill_date", "next refill", "YYYY-MM-DD"),
         ("supply_count", "doses on hand (to count days of supply)", "e.g. 60"))
TEXTS = ("side_effects", "notes")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class MedicationFormScreen(FormScreen["MedicationView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="medication_form.save", priority=True),
        Binding("escape", "leave", "Back", id="medication_form.leave"),
    ]
    ACTION = "save a medication"
    FIELD_IDS = {"medication name": "name", "dose time": "schedule",
                 "effective date": "effective"}
    DRAFT_KIND = "medication"

    def __init__(self, medication: MedicationView | None) -> None:
        super().__init__()
        self.medication = medication
        self._suggested_schedule = ""

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> MedicationFormScreen:
        return cls(await item_or_none(vault, Medications(vault.open_session).get, draft.item_id,
                                      "medication"))

    def draft_item_id(self) -> str | None:
        return self.medication.id if self.medication else None

    def compose(self) -> ComposeResult:
        med = self.medication
        yield TopBar("Medications · " + (f"{med.name}" if med else "new medication"))
        with Horizontal(id="medication-form"):
            with FieldColumn(classes="form-half"):
                for name, label, hint in LEFT:
                    value = " ".join(med.schedule) if med and name == "schedule" else (
                        _text(getattr(med, name)) if med else "")
                    yield Field(label, Input(value, placeholder=hint, id=name, compact=True))
                if med is not None:
                    yield Field("a new dosage counts from",
                                Input("", placeholder="today (or YYYY-MM-DD)", id="effective",
                                      compact=True))
            with FieldColumn(classes="form-half"):
                for name, label, hint in RIGHT:
                    value = _text(getattr(med, name)) if med else ""
                    yield Field(label, Input(value, placeholder=hint, id=name, compact=True))
                yield Checkbox("remind of doses, refills",
                               med.reminders if med else True, id="reminders")
                for name in TEXTS:
                    label = name.replace("_", " ")
                    yield Field(label, TextArea(_text(getattr(med, name)) if med else "",
                                                id=name, classes="short-text"))
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        med = self.medication
        if med is not None:
            self._suggested_schedule = " ".join(schedule_from_frequency(med.frequency))
        self.remember_initial()
        self.query_one("#name", Input).focus()

    @on(Input.Changed, "#frequency")
    def _suggest_times(self, event: Input.Changed) -> None:
        """Follow the frequency until the person sets the times themselves."""
        schedule = self.query_one("#schedule", Input)
        if schedule.value.strip() != self._suggested_schedule:
            return
        self._suggested_schedule = " ".join(schedule_from_frequency(event.value))
        schedule.value = self._suggested_schedule

    def values(self) -> dict[str, Any]:
        fields = [name for name, _, _ in LEFT + RIGHT]
        values: dict[str, Any] = {n: self.query_one(f"#{n}", Input).value for n in fields}
        for name in TEXTS:
            values[name] = self.query_one(f"#{name}", TextArea).text
        values["reminders"] = self.query_one("#reminders", Checkbox).value
        if self.medication is not None:
            values["effective"] = self.query_one("#effective", Input).value
        return values

    async def submit(self, values: dict[str, Any]) -> MedicationView:
        service = Medications(self.session)
        if self.medication is None:
            return await self.vault.attempt(service.create, self.vault.patient_id, **values)
        effective = values.pop("effective") or None
        if self._initial and values["supply_count"] != self._initial["supply_count"]:
            values["supply_counted_on"] = "today"  # a new count starts today
        return await self.vault.attempt(service.update, self.medication.id,
                                       effective=effective, **values)

    def saved_message(self, saved: MedicationView) -> str:
        return f"{saved.name} {saved.dosage} saved."


class StopDialog(UsesVault, ModalScreen["MedicationView | None"]):
    """When and why a medication was stopped; its history keeps both."""

    BINDINGS = [
        Binding("ctrl+s,f2", "stop", "Stop it", id="stop.confirm", priority=True),
        Binding("escape", "dismiss(None)", "Cancel", id="stop.cancel"),
    ]

    def __init__(self, medication: MedicationView) -> None:
        super().__init__()
        self.medication = medication


    def compose(self) -> ComposeResult:
        med = self.medication
        with Vertical(classes="dialog"):
            yield Label(plain(f"Stop {med.name} {med.dosage}?"), classes="heading")
            yield Label("It moves to the stopped list with its doses and history; s "
                        "resumes it.", classes="muted")
            yield Field("last day taken", Input("today", id="on", compact=True))
            yield Field("reason (optional)", Input("", id="reason", compact=True,
                                                   placeholder="e.g. side effects"))
            with Horizontal(classes="buttons"):
                yield Button("Stop it (ctrl+s)", id="stop", variant="warning")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#on", Input).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#stop")
    @on(Input.Submitted)
    async def action_stop(self) -> None:
        session = self.vault.session
        if session is None:
            return
        clear_errors(self)
        day = self.query_one("#on", Input).value
        reason = self.query_one("#reason", Input).value
        try:
            stopped = await self.vault.attempt(Medications(session).stop, self.medication.id,
                                              on=day, reason=reason)
        except ValidationError as error:
            if not show_field_error(self, "on", str(error)):
                self.notify(str(error), severity="error")
            return
        except LunaError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self.dismiss(stopped)
