"""The floor `luna bench` measures start-up against: a bare Textual app that paints one
screen (one label) and nothing else, run as `python -m luna_tui.bench.bare_textual` by the
same interpreter in the same pseudo-terminal as `luna`. Whatever `luna` takes beyond this
to paint its unlock screen is Luna's own; the ratio of the two is its start-up target.

Textual is imported when it runs, not when the module is imported: below the app
nothing imports Textual (tests/test_layers.py imports every module to check).
"""

from __future__ import annotations

MARK = "Bare Textual painted"


def main() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class BareTextual(App[None]):
        def compose(self) -> ComposeResult:
            yield Label(MARK)

    BareTextual().run()  # ctrl+q, Textual's own quit key, ends it


if __name__ == "__main__":
    main()
