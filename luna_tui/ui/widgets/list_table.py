"""A table of rows to pick from (entries, patients): Home and End go to the first and
last row. In a plain DataTable they move along the row, which a row list never needs.
A cell of one line that fits its column is drawn the short way (see _render_cell)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

if TYPE_CHECKING:
    from textual._types import SegmentLines


class ListTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        """DataTable's, with a shorter way for the common cell: one line of Text that
        fits its column. DataTable renders every cell through Rich's layers (Styled,
        Padding, Text wrapping, cropping, padding again: much of a list's first paint);
        for such a cell they come down to the text's segments between two spaces, in the
        cell's styles. The lines are made here and left in DataTable's cache, under its
        own key, so its method finds them; any other cell it renders as before."""
        if column_index >= 0 and (row_index == -1 or row_index >= self.fixed_rows) and (
                column_index >= self.fixed_columns):
            row_key = (self._header_row_key if row_index == -1
                       else self._row_locations.get_key(row_index))
            key = (row_key, self._column_locations.get_key(column_index), base_style,
                   cursor, hover, self._show_hover_cursor, self._update_count,
                   self._pseudo_class_state)
            if key not in self._cell_render_cache:
                lines = self._one_line_cell(row_index, column_index, row_key, base_style,
                                            width, cursor, hover)
                if lines is not None:
                    self._cell_render_cache[key] = lines
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)

    def _one_line_cell(self, row_index: int, column_index: int, row_key: object,
                       base_style: Style, width: int, cursor: bool, hover: bool
                       ) -> SegmentLines | None:
        header = row_index == -1
        if header:
            height = self.header_height
        else:
            row = self.rows.get(row_key)  # type: ignore[call-overload]
            height = None if row is None else row.height
        padding = self.cell_padding
        inner = width - 2 * padding
        if height != 1 or inner < 1:
            return None
        _label, cells = self._get_row_renderables(row_index)
        if column_index >= len(cells):
            return None
        cell = cells[column_index]
        if type(cell) is not Text:
            return None
        plain = cell.plain
        console = self.app.console
        if ("\n" in plain or "\t" in plain or cell_len(plain) > inner
                or (cell.justify or self.app.console_options.justify or "default")
                != "default"):
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            header, False, False, hover, cursor, self.show_cursor,
            self._show_hover_cursor, self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css")
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre_style += component_style
        # What Text renders for a line that fits (no wrapping, cropping nor justifying).
        text = [segment for segment in Text("\n").join([cell]).render(console, end=cell.end)
                if segment.text != "\n"]
        null = Style.null()
        line = Segment.adjust_line_length(text, inner, style=null, pad=True)
        if padding:
            line = [Segment(" " * padding, null), *line, Segment(" " * padding, null)]
        return [list(Segment.apply_style(line, pre_style, post_style))]


def cell_text(words: str) -> Text:
    """A cell of words made by Luna (a date, a time), as the table would make them of a
    string (one line, no end) without parsing them as markup on every load. Never for
    vault text, which goes through plain_text.plain."""
    return Text(words, no_wrap=True, end="")
