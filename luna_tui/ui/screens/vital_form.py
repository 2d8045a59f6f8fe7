"""A new vital reading: kind, value (two for blood pressure), unit, when and notes.
Errors appear under the field that caused them, in the service's words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select, TextArea

from luna_tui.services.health_chart import kind_label
from luna_tui.services.vitals import KINDS, Vitals, split_pair
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.form import FormScreen
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.vitals import VitalView
    from luna_tui.ui.vault_calls import VaultCalls

OTHER = "__other__"  # the Select's choice that reveals a name field for one's own kind
INPUTS = ("kind_name", "value", "value2", "unit", "measured_at")
# The service names a value after its kind ("A heart rate of 0 bpm…", field "heart rate").
VALUE_NAMES = {"value"} | {kind.label.lower() for kind in KINDS.values()}
SECOND_VALUE_NAMES = {"value2", "second value"} | {
    kind.second_value for kind in KINDS.values() if kind.second_value}


class VitalFormScreen(FormScreen["VitalView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="vital_form.save", priority=True),
        Binding("escape", "leave", "Back", id="vital_form.leave"),
    ]
    ACTION = "record a reading"
    LOST = "This reading will be lost."
    DRAFT_KIND = "vital"

    def __init__(self, kind: str, latest: dict[str, VitalView]) -> None:
        """`kind`: the one chosen at first; `latest`: the newest reading of each kind in
        use, whose unit becomes the default (someone who weighs in lb keeps lb)."""
        super().__init__()
        self.first_kind = kind
        self.latest = latest
        self._default_unit = ""

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> VitalFormScreen:
        latest = await vault.call(Vitals(vault.open_session).latest, vault.patient_id)
        return cls(str(draft.fields.get("kind") or next(iter(KINDS))), latest)

    def compose(self) -> ComposeResult:
        kinds = list(KINDS) + sorted(k for k in self.latest if k not in KINDS)
        choices = [(plain(kind_label(k)), k) for k in kinds] + [("other…", OTHER)]
        first = self.first_kind if self.first_kind in kinds else kinds[0]
        yield TopBar("Vitals · new reading")
        with Horizontal(id="vital-form"), FieldColumn(classes="form-column"):
            yield Field("kind", Select(choices, value=first, allow_blank=False,
                                       id="kind"))
            yield Field("name of your own kind (e.g. peak flow, pain)",
                        Input(id="kind_name", compact=True))
            with Horizontal(classes="pair"):
                yield Field("value", Input(id="value", compact=True))
                yield Field("second value", Input(id="value2", compact=True))
            yield Field("unit", Input(id="unit", compact=True))
            yield Field("when (YYYY-MM-DD HH:MM, today 8am, yesterday)",
                        Input(self._now(), id="measured_at", compact=True))
            yield Field("notes", TextArea(id="vital-notes"))
            yield Label("ctrl+s or F2 saves · Escape leaves", classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._show_fields_of(str(self.query_one("#kind", Select).value))
        self.remember_initial()
        self.query_one("#value", Input).focus()

    def _now(self) -> str:
        return self.vault.clock.now().astimezone().strftime("%Y-%m-%d %H:%M")

    # -- the kind decides the other fields -----------------------------------------------

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self._show_fields_of(str(event.value))

    def _show_fields_of(self, kind: str) -> None:
        known = KINDS.get(kind)
        self._field("kind_name").display = kind == OTHER
        self._field("value2").display = bool(known and known.second_value)
        self._label("value", "systolic" if known and known.second_value else "value")
        if known and known.second_value:
            self._label("value2", known.second_value)
        self._label("unit", f"unit ({' or '.join(known.units)})" if known else "unit")
        unit = self.query_one("#unit", Input)
        if unit.value == self._default_unit:  # untouched: follow the kind
            self._default_unit = self._unit_for(kind)
            unit.value = self._default_unit

    def _unit_for(self, kind: str) -> str:
        if kind in self.latest:
            return self.latest[kind].unit
        known = KINDS.get(kind)
        return known.default_unit if known else ""

    def _field(self, input_id: str) -> Field:
        return self.query_one(f"#{input_id}").parent  # type: ignore[return-value]

    def _label(self, input_id: str, text: str) -> None:
        self._field(input_id).query_one(".field-label", Label).update(text)

    # -- saving ---------------------------------------------------------------------------

    def _kind(self) -> str:
        chosen = str(self.query_one("#kind", Select).value)
        return self.query_one("#kind_name", Input).value if chosen == OTHER else chosen

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: self.query_one(f"#{name}", Input).value
                                  for name in INPUTS}
        values["kind"] = str(self.query_one("#kind", Select).value)
        values["notes"] = self.query_one("#vital-notes", TextArea).text
        return values

    async def submit(self, values: dict[str, Any]) -> VitalView:
        two_values = self._field("value2").display
        value, value2 = values["value"], None
        if two_values:
            # "120/80" in the first field is both values, as the CLI takes it: the fields
            # show them apart, so a complaint about either appears under its own.
            value, value2 = split_pair(value, values["value2"])
            if value != values["value"]:
                # Quietly: a Changed arriving after the service's answer would clear the
                # error it puts under these fields.
                with self.prevent(Input.Changed):
                    self.query_one("#value", Input).value = value
                    self.query_one("#value2", Input).value = value2 or ""
                if self.draft is not None:
                    self.draft.field_changed()
        return await self.vault.attempt(
            Vitals(self.session).record, self.vault.patient_id, self._kind(), value,
            value2, unit=values["unit"], measured_at=values["measured_at"],
            notes=values["notes"])

    def saved_message(self, saved: VitalView) -> str:
        return f"{kind_label(saved.kind)} {saved.display_value} saved."

    def field_for(self, name: str | None) -> str | None:
        """The service names a value after its kind ("heart rate", "diastolic")."""
        if name in SECOND_VALUE_NAMES:
            return "value2"
        if name in VALUE_NAMES:
            return "value"
        if name == "kind":
            return "kind_name" if self._field("kind_name").display else "kind"
        return name if name in INPUTS else None
