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
