"""A table of rows to pick from (entries, patients): Home and End go to the first and
last row. In a plain DataTable they move along the row, which a row list never needs.
A cell of one line that fits its column is drawn the short way (see _render_cell)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.render import measure
from textual.strip import Strip
from textual.widgets import DataTable

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual._types import SegmentLines
    from textual.widgets.data_table import RowKey


class ListTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._style_of_this_paint: Style | None = None
        self._settings_of_this_paint: _PaintSettings | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """DataTable's, with the table's own style worked out once per paint: DataTable
        asks for it for every line, and each time Textual walks every ancestor's styles
        (nothing can change them while the lines are made)."""
        self._style_of_this_paint = None
        self._settings_of_this_paint = None
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False
            self._style_of_this_paint = None
            self._settings_of_this_paint = None

    _painting = False

    def _settings(self) -> _PaintSettings:
        """What every cell's drawing reads of the table, read once per paint (each is a
        reactive attribute, a look-up through Textual's descriptors: a dozen per cell)."""
        if self._painting and self._settings_of_this_paint is not None:
            return self._settings_of_this_paint
        app = self.app
        settings = _PaintSettings(
            self.cell_padding, self.header_height, self.fixed_rows, self.fixed_columns,
            self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
            app.console, app.console_options.justify or "default")
        if self._painting:
            self._settings_of_this_paint = settings
        return settings

    @property
    def rich_style(self) -> Style:
        if not self._painting:
            return super().rich_style
        if self._style_of_this_paint is None:
            self._style_of_this_paint = super().rich_style
        return self._style_of_this_paint

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable's, reading a row's component style through Textual's cache of them
        (emptied whenever the table is restyled or refreshed) instead of working it out
        from every ancestor's styles again for each line."""
        if row_index == -1:
            return self.get_component_rich_style("datatable--header")
        if row_index < self.fixed_rows:
            return self.get_component_rich_style("datatable--fixed")
        if self.zebra_stripes:
            return self.get_component_rich_style(
                "datatable--odd-row" if row_index % 2 else "datatable--even-row")
        return base_style

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable's, measuring a cell of Text the short way: the width of its widest
        line, which is what Rich's measure of a Text gives as its maximum, without the
        console options Rich makes for every cell (most of measuring a page of rows)."""
        console = self.app.console
        others = []
        columns = self.ordered_columns
        for row_key in new_rows:
            row_index = self._row_locations.get(row_key)
            row = self.rows.get(row_key)
            if row_index is None or row is None or row.label is not None or row.auto_height:
                others.append(row_key)  # DataTable's own way
                continue
            _label, cells = self._get_row_renderables(row_index)
            for column, cell in zip(columns, cells, strict=False):
                width = (_widest_line(cell.plain) if type(cell) is Text
                         else measure(console, cell, 1))
                if width > column.content_width:
                    column.content_width = width
        super()._update_dimensions(others)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        """DataTable's, with a shorter way for the common cell: one line of Text that
        fits its column. DataTable renders every cell through Rich's layers (Styled,
        Padding, Text wrapping, cropping, padding again: much of a list's first paint);
        for such a cell they come down to the text's segments between two spaces, in the
        cell's styles. The lines are made here and left in DataTable's cache, under its
        own key, so its method finds them; any other cell it renders as before."""
        settings = self._settings()
        if column_index >= 0 and (row_index == -1 or row_index >= settings.fixed_rows) and (
                column_index >= settings.fixed_columns):
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
        settings = self._settings()
        header = row_index == -1
        if header:
            height = settings.header_height
        else:
            row = self.rows.get(row_key)  # type: ignore[call-overload]
            height = None if row is None else row.height
        padding = settings.padding
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
        if ("\n" in plain or "\t" in plain or cell_len(plain) > inner
                or (cell.justify or settings.justify) != "default"):
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            header, False, False, hover, cursor, settings.show_cursor,
            settings.show_hover_cursor, settings.cursor_foreground_css,
            settings.cursor_background_css)
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre_style += component_style
        # What Text renders for a line that fits (no wrapping, cropping nor justifying).
        text = [segment for segment in
                Text("\n").join([cell]).render(settings.console, end=cell.end)
                if segment.text != "\n"]
        null = Style.null()
        line = Segment.adjust_line_length(text, inner, style=null, pad=True)
        if padding:
            line = [Segment(" " * padding, null), *line, Segment(" " * padding, null)]
        return [list(Segment.apply_style(line, pre_style, post_style))]


@dataclass(frozen=True)
class _PaintSettings:
    padding: int
    header_height: int
    fixed_rows: int
    fixed_columns: int
    show_cursor: bool
    show_hover_cursor: bool
    cursor_foreground_css: bool
    cursor_background_css: bool
    console: Console
    justify: str


def _widest_line(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def cell_text(words: str) -> Text:
    """A cell of words made by Luna (a date, a time), as the table would make them of a
    string (one line, no end) without parsing them as markup on every load. Never for
    vault text, which goes through plain_text.plain."""
    return Text(words, no_wrap=True, end="")
