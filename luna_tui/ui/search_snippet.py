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


def taken_from(snippet: str, title: str) -> bool:
    """Whether a search snippet (cut with "…" at either end) is taken from `title`: a list
    shows the title once then, highlighted, not "Bad knee day · Bad knee day"."""
    words = " ".join(snippet.replace("…", " ").split())
    return bool(words) and words.casefold() in " ".join(title.split()).casefold()
