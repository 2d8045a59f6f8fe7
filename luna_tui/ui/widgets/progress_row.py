"""One line saying what long work is under way (encrypting a file, saving a copy) with
its progress bar; hidden while nothing is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from luna_tui.ui.plain_text import plain


class ProgressRow(Horizontal):
    def compose(self) -> ComposeResult:
        yield Label("", classes="progress-what")
        yield ProgressBar(total=100, show_eta=False)

    def show(self, what: str, fraction: float) -> None:
        self.add_class("shown")
        self.query_one(".progress-what", Label).update(plain(what))
        self.query_one(ProgressBar).update(progress=round(fraction * 100))

    def hide(self) -> None:
        self.remove_class("shown")
