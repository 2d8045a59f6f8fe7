"""A place's first visit styles its screen once, as it mounts (PlaceScreen skips the
whole-screen restyle Textual does on the first resume): styling it all again afterwards
must change no widget's rules and not the picture, for every place."""

from __future__ import annotations

from test_app_snapshots import fill

from app_helpers import SIZE, make_app, settle, unlock
from conftest import FakeClock
from luna_tui.home import VaultLayout
from luna_tui.ui.places import PLACES


def _rules(screen) -> dict:  # noqa: ANN001
    return {(type(node).__name__, node.id, id(node)): dict(node.styles.base._rules)
            for node in screen.walk_children(with_self=True)}


async def test_a_first_visit_needs_no_second_styling(tmp_path):
    layout, clock = VaultLayout(tmp_path / "vault"), FakeClock()
    fill(layout, clock)
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle(pilot)
        for place in PLACES:
            await app.action_go(place)
            await settle(pilot)
            before, picture = _rules(app.screen), app.export_screenshot()
            app.stylesheet.update_nodes(list(app.screen.walk_children(with_self=True)))
            await settle(pilot)
            assert _rules(app.screen) == before, place
            assert app.export_screenshot() == picture, place


async def _journal_shown(tmp_path, monkeypatch, *, built_ahead: bool
                        ) -> tuple[list[int], str]:
    """Unlock, look at the dashboard, press 2: the journal's rows in each picture of it
    sent to the terminal, and the last picture."""
    layout, clock = VaultLayout(tmp_path / f"vault-{built_ahead}"), FakeClock()
    fill(layout, clock)
    app = make_app(layout, clock)
    if not built_ahead:
        monkeypatch.setattr(app, "_build_ahead", lambda place: None)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.pause(0.3)  # the dashboard looked at
        assert ("journal" in app._screen_stacks) == built_ahead
        shown = []
        display = app._display

        def showing(screen, update) -> None:  # noqa: ANN001
            if type(screen).__name__ == "JournalScreen" and not app._batch_count:
                shown.append(screen.query_one("#entries").row_count)
            display(screen, update)

        app._display = showing
        await pilot.press("2")
        await settle(pilot)
        return shown, app.export_screenshot()


async def test_the_journal_built_ahead_shows_with_its_rows_as_one_built_on_its_visit(
        tmp_path, monkeypatch):
    """While the dashboard is looked at, the journal's screen is built ahead
    (LunaApp._build_ahead). Pressing 2 then shows it with its rows in its first picture,
    never empty first, and the picture is the one of a journal built on its visit."""
    shown, picture = await _journal_shown(tmp_path, monkeypatch, built_ahead=True)
    assert shown and shown[0] == 31  # fill's entries, from the first picture on
    _, built_on_its_visit = await _journal_shown(tmp_path, monkeypatch, built_ahead=False)
    assert picture == built_on_its_visit
