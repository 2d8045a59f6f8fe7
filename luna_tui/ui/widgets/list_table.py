"""A table of rows to pick from (entries, patients): Home and End go to the first and
last row. In a plain DataTable they move along the row, which a row list never needs."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class ListTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)


def cell_text(words: str) -> Text:
    """A cell of words made by Luna (a date, a time), as the table would make them of a
    string (one line, no end) without parsing them as markup on every load. Never for
    vault text, which goes through plain_text.plain."""
    return Text(words, no_wrap=True, end="")
