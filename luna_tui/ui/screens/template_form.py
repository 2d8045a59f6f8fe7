"""Making or changing an entry template: its name, a title pattern, the body (headings
and prompts to write under), default tags, the type (a prompted one with its question)
and whether the entry asks for mood and sleep. {date}, {weekday} and {time} in the
title and body are filled when an entry is started from it. ctrl+s saves; Escape
leaves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, Select, TextArea

from luna_tui.services.entry_templates import EntryTemplates
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.entry_templates import TemplateView
    from luna_tui.ui.vault_calls import VaultCalls

TYPES = [("free writing", "free"), ("prompted", "prompted"), ("mood check", "mood_check")]


class TemplateFormScreen(FormScreen["TemplateView"]):
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="template_form.save", priority=True),
        Binding("escape", "leave", "Back", id="template_form.leave"),
    ]
    ACTION = "save a template"
    DRAFT_KIND = "entry_template"
    DRAFT_FOR_PATIENT = False  # templates are the vault's, not one patient's

    def __init__(self, template: TemplateView | None) -> None:
        super().__init__()
        self.template = template

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> TemplateFormScreen:
        return cls(await item_or_none(vault, EntryTemplates(vault.open_session).get,
                                      draft.item_id, "template"))

    def draft_item_id(self) -> str | None:
        return self.template.id if self.template else None

    def compose(self) -> ComposeResult:
        template = self.template
        yield TopBar("Journal · " + (f"template {template.name}" if template
                                     else "new template"))
        with Horizontal(id="template-form"):
            body = TextArea(template.body if template else "", id="body", soft_wrap=True,
                            show_line_numbers=False)
            body.border_title = "Body: headings and prompts to write under"
            yield body
            with FieldColumn(id="template-fields"):
                yield Field("name", Input(template.name if template else "", id="name",
                                          compact=True, placeholder="e.g. Evening check-in"))
                yield Field("title", Input(template.title or "" if template else "",
                                           id="title", compact=True,
                                           placeholder="e.g. Evening {weekday}"))
                yield Field("tags", Input(" ".join(f"#{t}" for t in template.tags)
                                          if template else "", id="tags", compact=True,
                                          placeholder="e.g. #evening"))
                yield Field("type", Select(TYPES, allow_blank=False, id="journal_type",
                                           compact=True,
                                           value=template.journal_type if template else "free"))
                yield Field("prompt (the question)", Input(
                    template.prompt or "" if template else "", id="prompt", compact=True))
                yield Checkbox("ask mood", template.asks_mood if template else True,
                               id="asks_mood")
                yield Checkbox("ask sleep", template.asks_sleep if template else True,
                               id="asks_sleep")
                yield Label("{date} {weekday} {time} are filled in when you write from it.",
                            classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._show_prompt_field()
        self.remember_initial()
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#journal_type")
    def _show_prompt_field(self) -> None:
        prompted = self.query_one("#journal_type", Select).value == "prompted"
        self.query_one("#prompt", Input).parent.display = prompted  # type: ignore[union-attr]

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: self.query_one(f"#{name}", Input).value
                                  for name in ("name", "title", "tags", "prompt")}
        values["body"] = self.query_one("#body", TextArea).text
        values["journal_type"] = self.query_one("#journal_type", Select).value
        for name in ("asks_mood", "asks_sleep"):
            values[name] = self.query_one(f"#{name}", Checkbox).value
        return values

    async def submit(self, values: dict[str, Any]) -> TemplateView:
        templates = EntryTemplates(self.session)
        if self.template is None:
            return await self.vault.attempt(templates.create, values.pop("name"), **values)
        return await self.vault.attempt(templates.update, self.template.id, **values)

    def saved_message(self, saved: TemplateView) -> str:
        return f"Template '{saved.name}' saved."
