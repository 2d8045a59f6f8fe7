"""The list tables' short way for one-line cells (ui/widgets/list_table.py) renders each
cell exactly as DataTable's own rendering does, whatever the text: styled, spanned,
wide, too long for its column, ending in a new line or not, under the cursor or not."""

from __future__ import annotations

import random

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from luna_tui.ui.widgets.list_table import ListTable, cell_text

WORDS = ["calm", "garden", "walk", "ñandú", "日本語", "😀", "[bold]x[/]", "a\tb", "x" * 30,
         "  spaced  ", "", "#tag", "★", "two\nlines"]
STYLES = ["", "bold", "cyan", "dim red", "yellow on blue", "italic underline"]


def random_cell(rng: random.Random) -> object:
    kind = rng.random()
    if kind < 0.15:
        return rng.choice(WORDS)  # a string: the table formats it
    if kind < 0.25:
        return cell_text(rng.choice(WORDS))
    if kind < 0.3:
        return None if rng.random() < 0.5 else Text("")
    text = Text(end=rng.choice(["\n", ""]), no_wrap=rng.random() < 0.5,
                overflow=rng.choice([None, "ellipsis", "crop", "fold"]))
    for _ in range(rng.randint(0, 3)):
        text.append(rng.choice(WORDS) + " ", style=rng.choice(STYLES))
    if len(text) > 2 and rng.random() < 0.3:
        text.stylize(rng.choice(STYLES[1:]), 0, 2)
    return text


class Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield ListTable(id="table")


async def test_a_one_line_cell_renders_as_datatable_renders_it():
    rng = random.Random(14)
    app = Tables()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(ListTable)
        table.add_columns("When", Text("Entry", style="bold"), "Mood", "★")
        for number in range(60):
            table.add_row(*(random_cell(rng) for _ in range(4)), key=str(number))
        await pilot.pause()
        table.move_cursor(row=3)
        await pilot.pause()
        compared = fast = 0
        for row in range(-1, table.row_count):
            for column in range(len(table.columns)):
                for cursor in (False, True):
                    width = table.ordered_columns[column].get_render_width(table)
                    for cell_width in (width, max(1, width - 5)):
                        style = table.rich_style
                        table._cell_render_cache.clear()
                        mine = table._one_line_cell(
                            row, column, table._row_locations.get_key(row) if row >= 0
                            else table._header_row_key, style, cell_width, cursor, False)
                        table._cell_render_cache.clear()
                        theirs = DataTable._render_cell(table, row, column, style, cell_width,
                                                        cursor, False)
                        compared += 1
                        if mine is not None:
                            fast += 1
                            assert mine == theirs, (row, column, cursor, cell_width)
        assert fast > compared / 3  # the short way was taken, and often


class SideBySide(App[None]):
    def compose(self) -> ComposeResult:
        yield ListTable(id="mine")
        yield DataTable(id="theirs", cursor_type="row", zebra_stripes=True)


async def test_a_table_measures_and_paints_as_datatable_does():
    """Its columns are as wide and its lines the same as a plain DataTable's given the
    same rows (ListTable measures Text cells and styles rows its own way)."""
    rng = random.Random(15)
    app = SideBySide()
    async with app.run_test(size=(120, 60)) as pilot:
        tables = [app.query_one("#mine", DataTable), app.query_one("#theirs", DataTable)]
        rows = [[random_cell(rng) for _ in range(4)] for _ in range(40)]
        for table in tables:
            table.styles.height = 25
            table.add_columns("When", Text("Entry", style="bold"), "Mood", "★")
            for number, cells in enumerate(rows):
                table.add_row(*cells, key=str(number))
        await pilot.pause()
        for table in tables:
            table.move_cursor(row=3)
        app.set_focus(None)  # neither is focused (a focused table is styled otherwise)
        await pilot.pause()
        mine, theirs = tables
        assert [c.content_width for c in mine.ordered_columns] == [
            c.content_width for c in theirs.ordered_columns]
        assert max(c.content_width for c in mine.ordered_columns) > 20  # widths were measured
        region = mine.region.reset_offset
        assert mine.render_lines(region) == theirs.render_lines(region)
        assert mine.rich_style == theirs.rich_style  # and outside a paint, as before
