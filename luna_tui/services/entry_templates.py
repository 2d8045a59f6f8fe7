"""Entry templates the person defines, and a new entry filled from one.

A template has a name (unique, any case), a title pattern, a body of headings and
prompts, default tags, a journal type (a prompted one keeps its question) and whether
the entry asks for mood and sleep. Title and body may hold three placeholders, filled
when an entry is started from the template:

    {date}     the entry's day, 2026-11-22
    {weekday}  its weekday, Sunday
    {time}     the time it was started, 08:10

Nothing else in braces is touched, so `{` and `}` may be written as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import fn

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.journal import JOURNAL_TYPES, MAX_CONTENT
from luna_tui.services.validation import (
    choice,
    clean_tags,
    optional_text,
    refuse_controls,
    required_text,
)
from luna_tui.store.models.templates import EntryTemplate

MAX_NAME = 60
MAX_TITLE = 200
TEMPLATE_FIELDS = ("name", "title", "body", "tags", "journal_type", "prompt", "asks_mood",
                   "asks_sleep")
FREE_TEXT = frozenset({"title", "body", "prompt"})  # audited by length only
PLACEHOLDERS = ("{date}", "{weekday}", "{time}")


@dataclass(frozen=True)
class TemplateView:
    id: str
    name: str
    title: str | None
    body: str
    tags: tuple[str, ...]
    journal_type: str
    prompt: str | None
    asks_mood: bool
    asks_sleep: bool


@dataclass(frozen=True)
class FilledTemplate:
    """A new entry's starting values: what the editor (or `luna add`) begins with."""

    template: TemplateView
    title: str | None
    content: str
    tags: tuple[str, ...]
    journal_type: str
    prompt: str | None
    asks_mood: bool
    asks_sleep: bool


def fill(template: TemplateView, moment: dt.datetime) -> FilledTemplate:
    """The template with its placeholders filled for an entry started at `moment`
    (local, naive)."""
    values = {"{date}": moment.date().isoformat(), "{weekday}": moment.strftime("%A"),
              "{time}": moment.strftime("%H:%M")}

    def filled(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    return FilledTemplate(template, filled(template.title) if template.title else None,
                          filled(template.body), template.tags, template.journal_type,
                          template.prompt, template.asks_mood, template.asks_sleep)


class EntryTemplates(DomainService):
    @on_db_thread
    def list(self) -> list[TemplateView]:
        """By name, whatever its case."""
        return [_view(row) for row in
                EntryTemplate.select().order_by(fn.lower(EntryTemplate.name), EntryTemplate.id)]

    @on_db_thread
    def get(self, template_id: str) -> TemplateView:
        row = EntryTemplate.get_or_none(EntryTemplate.id == template_id)
        if row is None:
            raise NotFound("That template no longer exists.")
        return _view(row)

    @on_db_thread
    def find(self, name: str) -> TemplateView:
        """The template a person means by `name`: its whole name (any case) or the
        beginning of only one template's name."""
        wanted = " ".join(name.split()).casefold()
        templates = self.list()
        matches = [t for t in templates if t.name.casefold() == wanted] or [
            t for t in templates if t.name.casefold().startswith(wanted)]
        if wanted and len(matches) == 1:
            return matches[0]
        names = ", ".join(t.name for t in templates) or "none yet (luna templates add)"
        if wanted and matches:
            raise ValidationError(f"More than one template matches '{name}': "
                                  f"{', '.join(t.name for t in matches)}.", "template")
        raise NotFound(f"There is no template called '{name}'. Templates: {names}.")

    @on_db_thread
    def filled(self, template_id: str) -> FilledTemplate:
        """The template, filled for an entry started now."""
        return fill(self.get(template_id), self.local_now())

    @on_db_thread
    def create(self, name: str, **fields: object) -> TemplateView:
        unknown = sorted(set(fields) - set(TEMPLATE_FIELDS))
        if unknown:
            raise TypeError(f"EntryTemplates.create() got unknown fields: {', '.join(unknown)}")
        given = {**dict.fromkeys(TEMPLATE_FIELDS), "asks_mood": True, "asks_sleep": True,
                 **fields, "name": name}
        refuse_controls(given)
        values = _checked(None, given)
        stamp = self.stamp()
        with self.session.writing("save a template") as tx:
            row = EntryTemplate.create(id=new_id(), created_at=stamp, updated_at=stamp,
                                       **values)
            tx.record("journal.template.create", row.id, audit_diff(None, values, FREE_TEXT))
        return self.get(row.id)

    @on_db_thread
    def update(self, template_id: str, **changes: object) -> TemplateView:
        unknown = sorted(set(changes) - set(TEMPLATE_FIELDS))
        if unknown:
            raise TypeError(f"EntryTemplates.update() got unknown fields: {', '.join(unknown)}")
        before = self.get(template_id)
        old = _values(before)
        refuse_controls(changes, stored=old)
        values = _checked(template_id, {**old, **changes})
        diff = audit_diff(old, values, FREE_TEXT)
        if not diff:
            return before
        with self.session.writing("change a template") as tx:
            EntryTemplate.update(updated_at=self.stamp(), **values).where(
                EntryTemplate.id == template_id).execute()
            tx.record("journal.template.update", template_id, diff)
        return self.get(template_id)

    @on_db_thread
    def delete(self, template_id: str) -> None:
        """Entries written from it stay as they are: they hold their own text."""
        template = self.get(template_id)
        with self.session.writing("delete a template") as tx:
            EntryTemplate.delete().where(EntryTemplate.id == template_id).execute()
            tx.record("journal.template.delete", template_id, {"name": [template.name, None]})


def _view(row: EntryTemplate) -> TemplateView:
    return TemplateView(row.id, row.name, row.title, row.body, tuple(row.tags),
                        row.journal_type, row.prompt, bool(row.asks_mood),
                        bool(row.asks_sleep))


def _values(template: TemplateView) -> dict[str, Any]:
    return {"name": template.name, "title": template.title, "body": template.body,
            "tags": list(template.tags), "journal_type": template.journal_type,
            "prompt": template.prompt, "asks_mood": int(template.asks_mood),
            "asks_sleep": int(template.asks_sleep)}


# -- checking (DB thread: a name must be unique) --------------------------------------------


def _checked(template_id: str | None, raw: dict[str, object]) -> dict[str, Any]:
    journal_type = choice(raw.get("journal_type"), "journal_type", JOURNAL_TYPES, "free")
    prompt = optional_text(raw.get("prompt"))
    if journal_type == "prompted" and not prompt:
        raise ValidationError("A prompted template needs its prompt: the question the entry "
                              "answers.", "prompt")
    title = optional_text(raw.get("title"))
    if title and len(title) > MAX_TITLE:
        raise ValidationError(f"The title is too long ({len(title)} characters; at most "
                              f"{MAX_TITLE}).", "title")
    body = str(raw.get("body") or "").strip("\n")
    if len(body) > MAX_CONTENT:
        raise ValidationError(f"The body is too long ({len(body):,} characters; at most "
                              f"{MAX_CONTENT:,}).", "body")
    return {"name": _name(template_id, raw.get("name")), "title": title, "body": body,
            "tags": clean_tags(raw.get("tags")), "journal_type": journal_type,
            "prompt": prompt if journal_type == "prompted" else None,
            "asks_mood": 1 if raw.get("asks_mood") else 0,
            "asks_sleep": 1 if raw.get("asks_sleep") else 0}


def _name(template_id: str | None, value: object) -> str:
    name = required_text(value, "name", max_length=MAX_NAME)
    other = EntryTemplate.get_or_none(fn.lower(EntryTemplate.name) == name.lower())
    if other is not None and other.id != template_id:
        raise ValidationError(f"There is already a template called '{other.name}'; choose "
                              "another name.", "name")
    return name
