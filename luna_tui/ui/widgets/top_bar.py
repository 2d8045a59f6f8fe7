"""The bar at the top of every place: where you are, whose data, and the key's rights."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from luna_tui.ui.plain_text import plain


class TopBar(Horizontal):
    def __init__(self, place: str) -> None:
        super().__init__()
        self.place = place

    def compose(self) -> ComposeResult:
        yield Label(id="where")
        yield Label(id="badge")
        yield Label(id="lock-hint")

    def on_mount(self) -> None:
        # Each watch would fill the labels in at once: once is enough.
        for name in ("patient_name", "read_only", "auto_lock_minutes"):
            self.watch(self.app, name, self._refresh_labels, init=False)
        self._refresh_labels()

    def _refresh_labels(self, _value: object = None) -> None:
        app = self.app
        patient = getattr(app, "patient_name", "") or "…"
        self.query_one("#where", Label).update(plain(f"Luna · {self.place} · {patient} ▾ (p)"))
        self.query_one("#badge", Label).update("read-only" if app.read_only else "")
        minutes = getattr(app, "auto_lock_minutes", 5)
        self.query_one("#lock-hint", Label).update(f"locks after {minutes} min idle · ctrl+l")
