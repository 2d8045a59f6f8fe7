"""Every place at 80×24 (and the journal's filter bar at 120 columns too): what it shows
fits on the screen (issue 15).

"Snapshot" here means a look at the laid-out screen, not a picture: each place is opened
at 80×24 with a filled vault, then the regions Textual laid out are checked — every key
of the footer (and `?`, which lists the rest) lies whole inside the screen, the journal's
columns and filter fields are all on it, the dashboard's entries are one line each. The
pictures at 100×36 are in tests/test_app_snapshots.py; these checks say why a layout is
wrong at 80×24 without anyone having to look at a picture.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from test_app_snapshots import fill
from textual.geometry import Region
from textual.widgets import DataTable, Input, Static, TextArea

from app_helpers import make_app, settle, unlock
from conftest import FakeClock
from luna_tui.ui.widgets.footer import KeysFooter

SMALL = (80, 24)
PLACES = ["dashboard", "journal", "medications", "appointments", "vitals", "records",
          "companion", "patients", "backups", "plan"]


@pytest.fixture
def filled(layout):
    fill(layout, FakeClock())
    return layout


def inside(outer: Region, widget, what: str) -> None:  # noqa: ANN001
    region = widget.region
    assert region.width > 0 and region.height > 0, f"{what} is not on the screen"
    assert outer.contains_region(region), f"{what} at {region} is cut by {outer}"


def footer_fits(screen) -> None:  # noqa: ANN001
    """The footer lies whole inside the screen, every key in one of its rows, each row as
    wide as the footer leaves beside the palette's key, every row on the screen."""
    footer = screen.query_one(KeysFooter)
    inside(screen.region, footer, "the footer")
    keys, palette = footer.keys()
    if not isinstance(screen.focused, Input | TextArea):  # there ? is a character typed
        assert "question_mark" in {key.key for key in keys}, "the footer lost ? Keys"
    rows = footer.rows()
    assert [key for row in rows for key in row] == keys
    assert len(rows) <= footer.region.height, "a row of keys is cut off"
    room = footer.region.width - (palette.width + 2 if palette is not None else 0)
    for row in rows:
        what = " ".join(f"{key.key_display} {key.description}" for key in row)
        assert sum(key.width + 1 for key in row) <= room, f"the footer's {what} is clipped"


async def open_place(pilot, place: str) -> None:  # noqa: ANN001
    await unlock(pilot)
    if place != "dashboard":
        await pilot.app.run_action(f"go('{place}')")
    await settle(pilot)


@pytest.mark.parametrize("place", PLACES)
async def test_each_place_fits_80_by_24(filled, place):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=SMALL) as pilot:
        await open_place(pilot, place)
        screen = app.screen
        assert screen.__class__.__name__.lower().startswith(place[:5])
        assert screen.region == Region(0, 0, *SMALL)
        footer_fits(screen)
        for bar in screen.query("TopBar"):
            inside(screen.region, bar, "the top bar")
        if screen.focused is not None:
            inside(screen.region, screen.focused, f"the focused {screen.focused}")
        if isinstance(screen.focused, Input):  # the companion's message: leave it
            await pilot.press("escape")
            await settle(pilot)
            footer_fits(screen)


async def test_the_dashboards_latest_entries_are_one_line_each_with_their_star(filled):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=SMALL) as pilot:
        await open_place(pilot, "dashboard")
        body = app.screen.query_one("#latest-body", Static)
        lines = str(body.content).split("\n")
        assert any("★" in line for line in lines)  # the fill has a favorite among them
        room = body.content_region.width
        assert all(cell_len(line) <= room for line in lines), (room, lines)
        assert body.virtual_size.height == len(lines)  # none wrapped


async def test_the_journal_shows_every_column_at_80(filled):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=SMALL) as pilot:
        await open_place(pilot, "journal")
        table = app.screen.query_one("#entries", DataTable)
        assert table.row_count > 0
        assert table.virtual_size.width <= table.scrollable_content_region.width, (
            "the ★ column is off the screen")


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
async def test_every_filter_of_the_journal_is_on_the_screen(filled, size):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=size) as pilot:
        await open_place(pilot, "journal")
        await pilot.press("ctrl+f")
        await settle(pilot)
        screen = app.screen
        bar = screen.query_one("#filters")
        inside(screen.region, bar, "the filter bar")
        for field_id in ("filter-mood", "filter-tag", "filter-type", "filter-privacy",
                         "filter-favorite", "filter-from", "filter-to"):
            inside(bar.region, screen.query_one(f"#{field_id}"), field_id)
        footer_fits(screen)


async def test_the_welcome_card_fits_80_by_24_with_its_button_and_status(layout):
    app = make_app(layout)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.__class__.__name__ == "WelcomeScreen"
        for selector in ("#passphrase", "#again", "#notice", "#create", "#status"):
            inside(screen.region, screen.query_one(selector), selector)
        footer_fits(screen)


@pytest.mark.parametrize(("place", "form"), [
    ("journal", "EntryEditorScreen"), ("medications", "MedicationFormScreen"),
    ("appointments", "AppointmentFormScreen"), ("vitals", "VitalFormScreen"),
    ("records", "RecordFormScreen"), ("patients", "PatientFormScreen")])
async def test_each_places_new_form_fits_80_by_24(filled, place, form):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=SMALL) as pilot:
        await open_place(pilot, place)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert screen.__class__.__name__ == form
        footer_fits(screen)
        inside(screen.region, screen.focused, f"the focused {screen.focused}")


async def test_the_unlock_screen_fits_80_by_24(filled):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = app.screen
        for selector in ("#passphrase", "#status"):
            inside(screen.region, screen.query_one(selector), selector)
        footer_fits(screen)


async def test_the_footer_follows_a_narrower_terminal(filled):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=(120, 36)) as pilot:
        await open_place(pilot, "dashboard")
        footer = app.screen.query_one(KeysFooter)
        assert footer.region.height == 1  # at 120 columns every key fits one row
        await pilot.resize_terminal(*SMALL)
        await settle(pilot)
        footer_fits(app.screen)
        assert footer.region.height == 2


async def test_a_key_of_the_footer_is_pressed_by_a_click(filled):
    app = make_app(filled, FakeClock())
    async with app.run_test(size=(120, 40)) as pilot:
        await open_place(pilot, "dashboard")
        footer = app.screen.query_one(KeysFooter)
        x, y = footer.offset_of("2")
        await pilot.click(KeysFooter, offset=(x + 1, y))
        await settle(pilot)
        assert app.current_mode == "journal"
