"""The Insights place: `i` opens it from anywhere but a text field; it lists each
change and measure with its verdict, says the highlighted one in the same sentence as
`luna insights`, charts it, lists the pairs in a second tab, and fits 80×24."""

from __future__ import annotations

import datetime as dt

from test_app_small_screen import SMALL, footer_fits, inside
from textual.geometry import Region
from textual.widgets import Static, TabbedContent

from app_helpers import make_app, settle, settle_until, table_rows, unlock
from insight_data import plant_mood
from luna_tui.services.insights.rows import describe
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings


def with_sleep(session, clock) -> None:
    """The planted record, and sleep on each of the last 20 days."""
    plant_mood(session, clock)
    me = Settings(session).current_patient_id()
    for days in range(1, 21):
        Journal(session).create(me, EntryDraft(
            content="Slept", sleep_hours=6 + days % 3,
            entry_date=(clock.today() - dt.timedelta(days=days)).isoformat()))
    session.close()


async def open_insights(pilot) -> None:
    await unlock(pilot)
    await pilot.press("i")
    await settle_until(pilot, lambda: pilot.app.screen.view is not None)


async def test_i_opens_insights_with_the_planted_change_clear(session, layout, clock):
    with_sleep(session, clock)
    app = make_app(layout, clock)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_insights(pilot)
        screen = app.screen
        assert type(screen).__name__ == "InsightsScreen"
        rows = table_rows(pilot, "#changes")
        assert [row[1:] for row in rows] == [["Metformin started", "Mood", "clear change"],
                                            ["Metformin started", "Sleep", "not enough data"]]
        mood = screen.view.rows[0]
        assert str(screen.query_one("#change-detail", Static).content).startswith(
            describe(mood))
        chart = screen.query_one("#change-chart")
        assert chart.counts == {"before": 14, "after": 21, "marks": 2}  # the change, its lag
        # The pairs: sleep then mood, in the second tab.
        screen.query_one("#insights-tabs", TabbedContent).active = "tab-pairs"
        await settle(pilot)
        [pair] = table_rows(pilot, "#pairs")
        assert pair[:2] == ["Sleep", "Mood"]
        assert screen.query_one("#pair-chart").counts["Sleep"] == 20


async def test_w_changes_the_window(session, layout, clock):
    with_sleep(session, clock)
    app = make_app(layout, clock)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_insights(pilot)
        await pilot.press("w")
        await settle_until(pilot, lambda: app.screen.view.rows[0].window == 21)
        assert app.screen.view.rows[0].days_before == 21


async def test_insights_fit_80_by_24(session, layout, clock):
    with_sleep(session, clock)
    app = make_app(layout, clock)
    async with app.run_test(size=SMALL) as pilot:
        await open_insights(pilot)
        screen = app.screen
        assert screen.region == Region(0, 0, *SMALL)
        footer_fits(screen)
        for part in ("#changes", "#change-detail", "#change-chart"):
            inside(screen.region, screen.query_one(part), part)


async def test_i_in_a_text_field_is_a_letter(session, layout, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=(100, 36)) as pilot:
        await unlock(pilot)
        await pilot.press("7")  # the companion: its message field has the focus
        await settle(pilot)
        field = app.screen.focused
        await pilot.press("i")
        await settle(pilot)
        assert app.current_mode == "companion" and field.value == "i"
