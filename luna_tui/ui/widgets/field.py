"""A form field: its label above, the input, and the line where its error appears."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Label

from luna_tui.ui.plain_text import plain


class FieldColumn(VerticalScroll, can_focus=False):
    """A column of fields that scrolls but is never a tab stop of its own: Tab goes from
    field to field, not to the container around them."""


class Field(Vertical):
    def __init__(self, label: str, widget: Widget) -> None:
        super().__init__(classes="field")
        self.label_text = label
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield Label(self.label_text, classes="field-label")
        yield self.widget
        yield Label("", id=f"error-{self.widget.id}", classes="field-error")

    def show_error(self, message: str) -> None:
        label = self.query_one(".field-error", Label)
        label.update(plain(message))  # the service's sentence may quote what was typed
        label.set_class(bool(message), "shown")


def clear_errors(screen: Widget) -> None:
    for field in screen.query(Field):
        field.show_error("")


def clear_error_of(widget: Widget) -> None:
    """The error under `widget`'s field goes (its value changed), if it has one."""
    field = widget.parent
    if isinstance(field, Field) and field.widget is widget:
        field.show_error("")


def show_field_error(screen: Widget, field_id: str, message: str, *,
                     focus: bool = True) -> bool:
    """Show `message` under the field whose input is `field_id` (and focus it, unless
    the message comes unasked, while the person may be elsewhere); False if there is
    none."""
    for field in screen.query(Field):
        if field.widget.id == field_id:
            field.show_error(message)
            if focus:
                field.widget.focus()
            return True
    return False
