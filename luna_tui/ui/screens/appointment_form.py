"""Adding or changing an appointment, recording how it went, or booking its follow-up.

A follow-up starts with the same provider and place and says what it follows; saving
it links the two and clears the "follow-up needed" mark of the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Select, TextArea

from luna_tui.services.appointments import Appointments
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.appointments import AppointmentView
    from luna_tui.services.drafts import DraftView
    from luna_tui.ui.vault_calls import VaultCalls

TYPE_CHOICES = [("routine", "routine"), ("follow-up", "follow_up"),
                ("specialist", "specialist"), ("emergency", "emergency"), ("other", "other")]
STATUS_CHOICES = [("scheduled", "scheduled"), ("completed", "completed"),
                  ("cancelled", "cancelled"), ("rescheduled", "rescheduled")]
INPUTS = ("appointment_date", "appointment_time", "duration_minutes", "provider_name",
          "location")
SELECTS = ("appointment_type", "status")
TEXTS = ("reason", "preparation_notes", "outcome_summary")


class AppointmentFormScreen(FormScreen["AppointmentView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="appointment_form.save", priority=True),
        Binding("escape", "leave", "Back", id="appointment_form.leave"),
    ]
    ACTION = "save an appointment"
    DRAFT_KIND = "appointment"

    def __init__(self, appointment: AppointmentView | None, *, completing: bool = False,
                 follow_up_of: AppointmentView | None = None) -> None:
        super().__init__()
        self.appointment = appointment
        self.completing = completing
        self.follow_up_of = follow_up_of

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> AppointmentFormScreen:
        get = Appointments(vault.open_session).get
        appointment = await item_or_none(vault, get, draft.item_id, "appointment")
        follow_up_of = None
        if appointment is None and draft.context.get("follow_up_of"):
            follow_up_of = await item_or_none(vault, get, draft.context["follow_up_of"],
                                              "appointment")
        return cls(appointment, completing=bool(appointment and draft.context.get(
            "completing")), follow_up_of=follow_up_of)

    def draft_item_id(self) -> str | None:
        return self.appointment.id if self.appointment else None

    def draft_context(self) -> dict[str, Any]:
        return {"completing": self.completing,
                "follow_up_of": self.follow_up_of.id if self.follow_up_of else None}

    def _start(self) -> dict[str, Any]:
        """What the fields hold when the form opens."""
        if self.appointment is not None:
            values = {name: getattr(self.appointment, name) for name in
                      INPUTS + SELECTS + TEXTS + ("follow_up_required",)}
            if self.completing:
                values["status"] = "completed"
            return values
        original = self.follow_up_of
        if original is not None:
            reason = f"Follow-up of {original.appointment_date}" + (
                f": {original.reason}" if original.reason else "")
            return {"provider_name": original.provider_name, "location": original.location,
                    "appointment_type": "follow_up", "reason": reason,
                    "appointment_time": original.appointment_time,
                    "duration_minutes": original.duration_minutes}
        return {"appointment_type": "routine", "status": "scheduled"}

    def _title(self) -> str:
        if self.follow_up_of is not None:
            return "Appointments · book the follow-up"
        if self.appointment is None:
            return "Appointments · new appointment"
        return "Appointments · " + ("how it went" if self.completing else "editing")

    def compose(self) -> ComposeResult:
        start = self._start()

        def text(name: str) -> str:
            value = start.get(name)
            return "" if value is None else str(value)

        yield TopBar(self._title())
        with Horizontal(id="appointment-form"):
            with FieldColumn(classes="form-half"):
                yield Field("date", Input(text("appointment_date"), id="appointment_date",
                                          placeholder="YYYY-MM-DD, today, tomorrow",
                                          compact=True))
                yield Field("time", Input(text("appointment_time"), id="appointment_time",
                                          placeholder="09:30 or 2pm (empty: all day)",
                                          compact=True))
                yield Field("minutes", Input(text("duration_minutes"), id="duration_minutes",
                                             placeholder="e.g. 30 (empty: an hour in calendars)",
                                             compact=True))
                yield Field("type", Select(TYPE_CHOICES, id="appointment_type",
                                           allow_blank=False, compact=True,
                                           value=start.get("appointment_type", "routine")))
                yield Field("status", Select(STATUS_CHOICES, id="status", allow_blank=False,
                                             compact=True,
                                             value=start.get("status", "scheduled")))
                yield Field("provider", Input(text("provider_name"), id="provider_name",
                                              placeholder="e.g. Dr Rivera", compact=True))
                yield Field("location", Input(text("location"), id="location",
                                              placeholder="e.g. City Clinic, room 4",
                                              compact=True))
                yield Checkbox("a follow-up is needed", bool(start.get("follow_up_required")),
                               id="follow_up_required")
            with FieldColumn(classes="form-half"):
                for name, label in (("reason", "reason"),
                                    ("preparation_notes", "to prepare (questions, fasting…)"),
                                    ("outcome_summary", "how it went")):
                    yield Field(label, TextArea(text(name), id=name, classes="short-text"))
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.remember_initial()
        if self.completing:
            self.query_one("#outcome_summary", TextArea).focus()
        else:
            self.query_one("#appointment_date", Input).focus()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {n: self.query_one(f"#{n}", Input).value for n in INPUTS}
        for name in SELECTS:
            values[name] = self.query_one(f"#{name}", Select).value
        for name in TEXTS:
            values[name] = self.query_one(f"#{name}", TextArea).text
        values["follow_up_required"] = self.query_one("#follow_up_required", Checkbox).value
        return values

    async def submit(self, values: dict[str, Any]) -> AppointmentView:
        service = Appointments(self.session)
        if self.appointment is not None:
            return await self.vault.attempt(service.update, self.appointment.id, **values)
        day = values.pop("appointment_date")
        if self.follow_up_of is not None:
            return await self.vault.attempt(service.create_follow_up, self.follow_up_of.id,
                                           day, **values)
        return await self.vault.attempt(service.create, self.vault.patient_id, day, **values)

    def saved_message(self, saved: AppointmentView) -> str:
        who = f" with {saved.provider_name}" if saved.provider_name else ""
        return f"Appointment{who} on {saved.appointment_date} saved."
