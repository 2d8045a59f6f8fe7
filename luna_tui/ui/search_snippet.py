"""A search hit's snippet as the journal and the records show it: the words searched
for in reverse video among their dim context, as plain text (never markup)."""

from __future__ import annotations

from rich.text import Text

from luna_tui.ui.plain_text import plain


def highlighted_snippet(parts: list[tuple[str, bool]]) -> Text:
    """`parts`: the snippet's pieces, each with whether it matched."""
    text = Text(style="dim")
    for piece, matched in parts:
        piece = " ".join(piece.split())
        if piece:
            text.append(plain(piece + " ", style="bold reverse" if matched else "dim"))
    return text
