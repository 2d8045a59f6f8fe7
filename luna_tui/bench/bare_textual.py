"""The floor `luna bench` measures start-up against: a bare Textual app that paints one
screen (one label) and nothing else, run as `python -m luna_tui.bench.bare_textual` by the
same interpreter in the same pseudo-terminal as `luna`. Whatever `luna` takes beyond this
to paint its unlock screen is Luna's own; the ratio of the two is its start-up target.

It imports only Textual (the package `luna_tui` and this one define nothing on import).
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Label

MARK = "Bare Textual painted"


class BareTextual(App[None]):
    def compose(self) -> ComposeResult:
        yield Label(MARK)


if __name__ == "__main__":
    BareTextual().run()  # ctrl+q, Textual's own quit key, ends it
