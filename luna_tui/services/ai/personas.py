"""Personas: who answers in a session, how, and what of the person's records it may read.

The built-in ones can be edited, not deleted; the person's own can be created, edited
and deleted (a session of a deleted persona is then answered by the default one). Each
is checked field by field and audited, its prompt and description by length only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.ai.context import DATA_KINDS, DEFAULT_PERSONA_ID
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.validation import refuse_controls
from luna_tui.store.models.ai import Persona

MAX_PERSONA_NAME = 60
MAX_PERSONA_DESCRIPTION = 300
MAX_SYSTEM_PROMPT = 8000
TEMPERATURE_RANGE = (0.0, 2.0)
MAX_TOKENS_RANGE = (16, 32_000)
PERSONA_FIELDS = ("name", "description", "system_prompt", "temperature", "max_tokens",
                  "data_access")
PERSONA_FREE_TEXT = frozenset({"description", "system_prompt"})  # audited by length only


@dataclass(frozen=True)
class PersonaView:
    id: str
    name: str
    description: str | None
    system_prompt: str
    temperature: float
    max_tokens: int
    data_access: tuple[str, ...]
    builtin: bool


class Personas(DomainService):
    @on_db_thread
    def list(self) -> list[PersonaView]:
        """The built-in ones first, then by name."""
        return [_persona_view(r) for r in
                Persona.select().order_by(Persona.builtin.desc(), Persona.name)]

    @on_db_thread
    def find(self, name: str) -> PersonaView:
        """The persona a person means by `name`: its whole name (any case), its id, or
        the beginning of only one persona's name."""
        wanted = " ".join(name.split()).casefold()
        personas = self.list()
        matches = [p for p in personas if p.name.casefold() == wanted or p.id == name] or [
            p for p in personas if p.name.casefold().startswith(wanted)]
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(p.name for p in personas)
        if matches:
            raise ValidationError(f"More than one persona matches '{name}': {names}.", "persona")
        raise NotFound(f"There is no persona called '{name}'. Personas: {names}.")

    @on_db_thread
    def get(self, persona_id: str) -> PersonaView:
        row = Persona.get_or_none(Persona.id == persona_id)
        if row is None:
            raise NotFound("That persona no longer exists.")
        return _persona_view(row)

    @on_db_thread
    def create(self, name: str, system_prompt: str, *, description: str | None = None,
               temperature: object = 0.7, max_tokens: object = 800,
               data_access: object = DATA_KINDS) -> PersonaView:
        """A persona of the person's own: checked like an edit, audited (the prompt and
        description by their length only)."""
        given = {"name": name, "description": description, "system_prompt": system_prompt,
                 "temperature": temperature, "max_tokens": max_tokens,
                 "data_access": data_access}
        refuse_controls(given)
        values = _checked(None, given)
        stamp = self.stamp()
        with self.session.writing("create a persona") as tx:
            row = Persona.create(id=new_id(), builtin=0, created_at=stamp, updated_at=stamp,
                                 **values)
            tx.record("ai.persona.create", row.id,
                      audit_diff(None, values, PERSONA_FREE_TEXT))
        return self.get(row.id)

    @on_db_thread
    def update(self, persona_id: str, **changes: object) -> PersonaView:
        """Change any of PERSONA_FIELDS; built-in personas may be edited too."""
        unknown = sorted(set(changes) - set(PERSONA_FIELDS))
        if unknown:
            raise TypeError(f"Personas.update() got unknown fields: {', '.join(unknown)}")
        before = self.get(persona_id)
        old = {name: getattr(before, name) for name in PERSONA_FIELDS}
        old["data_access"] = list(before.data_access)
        refuse_controls(changes, stored=old)
        values = _checked(persona_id, {**old, **changes})
        diff = audit_diff(old, values, PERSONA_FREE_TEXT)
        if not diff:
            return before
        with self.session.writing("edit a persona") as tx:
            Persona.update(updated_at=self.stamp(), **values).where(
                Persona.id == persona_id).execute()
            tx.record("ai.persona.update", persona_id, diff)
        return self.get(persona_id)

    @on_db_thread
    def delete(self, persona_id: str) -> None:
        """Delete a persona of the person's own. Its sessions stay (their persona is
        cleared by ON DELETE SET NULL) and are answered by the default persona."""
        persona = self.get(persona_id)
        if persona.builtin or persona.id == DEFAULT_PERSONA_ID:
            raise ValidationError(
                f"'{persona.name}' is built in: it can be edited but not deleted.", "persona")
        with self.session.writing("delete a persona") as tx:
            Persona.delete().where(Persona.id == persona_id).execute()
            tx.record("ai.persona.delete", persona_id, {"name": [persona.name, None]})


def _persona_view(row: Persona) -> PersonaView:
    return PersonaView(row.id, row.name, row.description, row.system_prompt, row.temperature,
                       row.max_tokens, tuple(row.data_access), bool(row.builtin))


# -- checking a persona's fields (DB thread: a name must be unique) -----------------------


def _checked(persona_id: str | None, raw: dict[str, object]) -> dict[str, Any]:
    """The checked, normalised values of a persona, or a ValidationError naming the
    field."""
    return {"name": _name(persona_id, raw.get("name")),
            "description": _description(raw.get("description")),
            "system_prompt": _system_prompt(raw.get("system_prompt")),
            "temperature": _temperature(raw.get("temperature")),
            "max_tokens": _max_tokens(raw.get("max_tokens")),
            "data_access": _data_access(raw.get("data_access"))}


def _name(persona_id: str | None, raw: object) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationError("A persona needs a name.", "name")
    if len(name) > MAX_PERSONA_NAME:
        raise ValidationError(
            f"A persona's name can be at most {MAX_PERSONA_NAME} characters.", "name")
    for other in Persona.select(Persona.id, Persona.name):
        if other.id != persona_id and other.name.casefold() == name.casefold():
            raise ValidationError(f"There is already a persona called '{other.name}'.", "name")
    return name


def _description(raw: object) -> str | None:
    description = str(raw or "").strip() or None
    if description and len(description) > MAX_PERSONA_DESCRIPTION:
        raise ValidationError(f"A description can be at most {MAX_PERSONA_DESCRIPTION} "
                              "characters.", "description")
    return description


def _system_prompt(raw: object) -> str:
    prompt = str(raw or "").strip()
    if not prompt:
        raise ValidationError("A persona needs a system prompt: what it is and how it answers.",
                              "system_prompt")
    if len(prompt) > MAX_SYSTEM_PROMPT:
        raise ValidationError(f"A system prompt can be at most {MAX_SYSTEM_PROMPT:,} "
                              "characters.", "system_prompt")
    return prompt


def _temperature(raw: object) -> float:
    low, high = TEMPERATURE_RANGE
    try:
        temperature = float(str(raw).strip())
    except ValueError:
        temperature = -1.0
    if not low <= temperature <= high:  # also refuses nan
        raise ValidationError(f"Temperature is a number from {low:g} to {high:g}.",
                              "temperature")
    return temperature


def _max_tokens(raw: object) -> int:
    low, high = MAX_TOKENS_RANGE
    try:
        max_tokens = int(str(raw).strip().replace(",", ""))
    except ValueError:
        max_tokens = 0
    if not low <= max_tokens <= high:
        raise ValidationError(f"Max tokens is a whole number from {low} to {high:,}.",
                              "max_tokens")
    return max_tokens


def _data_access(raw: object) -> list[str]:
    """The kinds of record it may read, in DATA_KINDS' order; a string may list them
    separated by commas or spaces."""
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    kinds = [str(kind).strip().lower() for kind in (raw or ())]
    unknown = [kind for kind in kinds if kind not in DATA_KINDS]
    if unknown:
        raise ValidationError(
            f"A persona can read only: {', '.join(DATA_KINDS)} (not {', '.join(unknown)}).",
            "data_access")
    return [kind for kind in DATA_KINDS if kind in kinds]
