"""What `n` in the journal offers once the person has templates: a blank entry (the
built-in types, prompted ones too, are chosen in the editor as before), each of their
templates, and the list of templates to add or change them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from luna_tui.ui.plain_text import plain

if TYPE_CHECKING:
    from luna_tui.services.entry_templates import TemplateView

BLANK = "blank"  # a new entry without a template
MANAGE = "manage"  # the templates list


class TemplateChooser(ModalScreen[str | None]):
    """Dismisses with BLANK, MANAGE, a template's id, or None (Escape)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="chooser.cancel")]

    def __init__(self, templates: list[TemplateView]) -> None:
        super().__init__()
        self.templates = templates

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Write a new entry", classes="heading")
            options = [Option("Blank entry", id=BLANK)]
            for template in self.templates:
                line = plain(template.name)
                if template.title:
                    line.append(plain(f"  {template.title}", "dim"))
                options.append(Option(line, id=f"template:{template.id}"))
            options.append(Option(plain("Edit templates…", "italic"), id=MANAGE))
            yield OptionList(*options, id="template-choices")
            yield Label("Enter to choose · Escape to cancel · T in the journal lists the "
                        "templates", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#template-choices", OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id or BLANK
        self.dismiss(choice.removeprefix("template:"))
