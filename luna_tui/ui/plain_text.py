"""Text from the vault in a widget: shown as typed, never read as markup, and never
passing terminal controls through.

Textual reads a plain string given to a Label, a Static, a DataTable cell, an option or a
notification as content markup: a title typed as `[red]x[/red]` would turn red, and a
stray `[/b]` stops the screen with a MarkupError. A rich `Text` is taken as it is; and
Textual sends an ESC in it straight to the terminal, so its control characters are
shown escaped first (`luna_tui.terminal_text`).
"""

from __future__ import annotations

from rich.text import Text

from luna_tui.terminal_text import terminal_text


def plain(value: object, style: str = "") -> Text:
    """`value` as a Text a widget shows exactly: its control characters escaped, but its
    line breaks and tabs kept (in a widget they are layout, not commands)."""
    return Text(terminal_text(value, multiline=True), style=style)
