"""Text from the vault in a widget: shown as typed, never read as markup, and never
passing terminal controls through.

Textual reads a plain string given to a Label, a Static, a DataTable cell, an option or a
notification as content markup: a title typed as `[red]x[/red]` would turn red, and a
stray `[/b]` stops the screen with a MarkupError. A rich `Text` is taken as it is; and
Textual sends an ESC in it straight to the terminal, so its control characters are
shown escaped first (`luna_tui.terminal_text`).

A form field (Input, TextArea) shows its text raw, and the person edits that text, so
there only the characters a person may no longer type (control characters; see
services/validation.py) are escaped: text stored before that rule comes up as `\\x1b`,
harmless, and saving the form keeps it so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from luna_tui.terminal_text import CONTROL, controls_escaped, terminal_text

if TYPE_CHECKING:
    from textual.widget import Widget


def plain(value: object, style: str = "") -> Text:
    """`value` as a Text a widget shows exactly: its control characters escaped, but its
    line breaks and tabs kept (in a widget they are layout, not commands)."""
    return Text(terminal_text(value, multiline=True), style=style)


def field_text(value: object) -> str:
    """Text from the vault for a form field: its control characters shown escaped."""
    return controls_escaped("" if value is None else str(value))


def escape_field_controls(root: Widget) -> None:
    """Every Input and TextArea under `root` holding a control character gets it escaped
    (a form filled from text stored before the rule, whatever its field)."""
    from textual.widgets import Input, TextArea

    for widget in root.query("Input, TextArea"):
        if isinstance(widget, TextArea) and CONTROL.search(widget.text):
            widget.text = field_text(widget.text)
        elif isinstance(widget, Input) and not widget.password and CONTROL.search(
                widget.value):
            widget.value = field_text(widget.value)
