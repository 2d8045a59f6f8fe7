"""Creating or editing an AI companion persona: its name, what it is for, its system
prompt, how freely it answers (temperature), how long its answers may be (max tokens),
and a checkbox for each kind of record it may read. ctrl+s saves; Escape leaves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, TextArea

from luna_tui.services.ai.context import DATA_KINDS
from luna_tui.services.ai.personas import Personas
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.ai.personas import PersonaView
    from luna_tui.services.drafts import DraftView
    from luna_tui.ui.vault_calls import VaultCalls

KIND_LABELS = {"profile": "profile (name, age, allergies, doctor)",
               "medications": "active medications", "appointments": "upcoming appointments",
               "vitals": "vitals of the last 30 days",
               "journal": "shared journal entries (never private ones)",
               "pins": "pinned facts", "summaries": "summary of the earlier conversation"}


class PersonaFormScreen(FormScreen["PersonaView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="persona_form.save", priority=True),
        Binding("escape", "leave", "Back", id="persona_form.leave"),
    ]
    ACTION = "save a persona"
    DRAFT_KIND = "persona"
    DRAFT_FOR_PATIENT = False  # personas are the vault's, not one patient's

    def __init__(self, persona: PersonaView | None) -> None:
        super().__init__()
        self.persona = persona

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> PersonaFormScreen:
        return cls(await item_or_none(vault, Personas(vault.open_session).get, draft.item_id,
                                      "persona"))

    def draft_item_id(self) -> str | None:
        return self.persona.id if self.persona else None

    def compose(self) -> ComposeResult:
        persona = self.persona
        yield TopBar("Companion · " + (f"persona {persona.name}" if persona else "new persona"))
        with Horizontal(id="persona-form"):
            with FieldColumn(classes="form-half"):
                yield Field("name", Input(persona.name if persona else "", id="name",
                                          compact=True, placeholder="e.g. Sleep coach"))
                yield Field("description (what it is for)",
                            Input(persona.description or "" if persona else "",
                                  id="description", compact=True))
                yield Field("system prompt (what it is and how it answers)",
                            TextArea(persona.system_prompt if persona else "",
                                     id="system_prompt"))
                yield Field("temperature, 0 (steady) to 2 (free)",
                            Input(f"{persona.temperature:g}" if persona else "0.7",
                                  id="temperature", compact=True))
                yield Field("max tokens of an answer, 16 to 32,000",
                            Input(str(persona.max_tokens) if persona else "800",
                                  id="max_tokens", compact=True))
            with FieldColumn(classes="form-half"):
                yield Label("What it may read of your records", classes="field-label")
                allowed = set(persona.data_access) if persona else set(DATA_KINDS)
                for kind in DATA_KINDS:
                    yield Checkbox(KIND_LABELS.get(kind, kind), kind in allowed,
                                   id=f"kind-{kind}")
                yield Field("", Label("", id="data_access"))
                if persona is not None and persona.builtin:
                    yield Label("Built in: it can be changed, not deleted.", classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.remember_initial()
        self.query_one("#name", Input).focus()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: self.query_one(f"#{name}", Input).value
                                  for name in ("name", "description", "temperature",
                                               "max_tokens")}
        values["system_prompt"] = self.query_one("#system_prompt", TextArea).text
        values["data_access"] = [kind for kind in DATA_KINDS
                                 if self.query_one(f"#kind-{kind}", Checkbox).value]
        return values

    async def submit(self, values: dict[str, Any]) -> PersonaView:
        personas = Personas(self.session)
        if self.persona is None:
            name, prompt = values.pop("name"), values.pop("system_prompt")
            return await self.vault.attempt(personas.create, name, prompt, **values)
        return await self.vault.attempt(personas.update, self.persona.id, **values)

    def saved_message(self, saved: PersonaView) -> str:
        return f"Persona '{saved.name}' saved."
