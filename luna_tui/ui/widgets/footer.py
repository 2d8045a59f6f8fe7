"""The footer of every screen: the keys it offers, drawn by one widget, in as many rows as
they need.

Textual's footer is a container of a widget per key, rebuilt (a dozen widgets removed
and mounted, each styled, laid out and painted on its own) whenever the screen says its
bindings may have changed: four to seven times as a place opens. Here the keys are the
lines of one widget, drawn again only when the keys shown or the width change: a place's
first visit no longer builds a dozen widgets (luna bench, in the pty at 100k entries:
the journal's `2` → painted, 53-58 → 36-56 ms of the app's thread).

Textual's footer is one row, and the keys that do not fit are cut off at the right edge:
at 80 columns the dashboard lost "9 Backups" and "? Keys". Here the keys go on in a
second row (a third…) when the screen is too narrow for one; at 100 columns and more
every place fits in one row. The command palette's key (^p) sits at the right of the
first row, behind a thin border, as in Textual's. A key is clicked as it is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

PALETTE_BORDER = "▏"  # between the keys and the command palette's key, as Textual draws it


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str  # as Textual names it ("question_mark"), what a click presses
    key_display: str  # as shown ("?")
    description: str
    enabled: bool = True

    @property
    def width(self) -> int:
        """The cells it takes: its key, a space and its description (no margin)."""
        description = f" {self.description}" if self.description else ""
        return cell_len(self.key_display) + cell_len(description)


def rows_of(keys: list[FooterKey], width: int) -> list[list[FooterKey]]:
    """The keys in rows no wider than `width` cells, a one-cell margin after each, in
    their order."""
    rows: list[list[FooterKey]] = [[]]
    used = 0
    for key in keys:
        needed = key.width + 1
        if rows[-1] and used + needed > width:
            rows.append([])
            used = 0
        rows[-1].append(key)
        used += needed
    return rows


class KeysFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keys-footer--key", "keys-footer--description",
                         "keys-footer--border"}

    def __init__(self, *, compact: bool = True, show_command_palette: bool = True) -> None:
        """`compact`: kept for the screens' calls; the footer is always compact (a key,
        a space, its description, a space)."""
        super().__init__()
        self.show_command_palette = show_command_palette
        self._shown: tuple | None = None  # what the lines were last drawn from
        # Where each key was drawn: (row, first cell, after its last cell, the key).
        self._spots: list[tuple[int, int, int, FooterKey]] = []

    # -- what it shows ------------------------------------------------------------------

    def keys(self) -> tuple[list[FooterKey], FooterKey | None]:
        """The keys shown, in order, and the command palette's (None: not shown)."""
        if self._shown is None:
            return [], None
        return list(self._shown[2]), self._shown[1]

    def rows(self, width: int | None = None) -> list[list[FooterKey]]:
        """The keys as the rows show them, `width` cells wide (the footer's own, or the
        screen's before it is laid out); the palette's key is not in them."""
        keys, palette = self.keys()
        room = width or self.size.width or self.app.size.width
        if palette is not None:
            room -= palette.width + cell_len(PALETTE_BORDER) + 1
        return rows_of(keys, room)

    def _keys_to_show(self) -> tuple:
        """What the lines are made of: the screen's bindings shown (and the command
        palette's), each with its key as displayed and whether it is enabled, and the
        width, which decides the rows."""
        app = self.app
        keys, palette, actions = [], None, set()
        for key, (_, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            shown = FooterKey(binding.key, app.get_key_display(binding), binding.description,
                              enabled)
            if key == app.COMMAND_PALETTE_BINDING:
                if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
                    palette = shown
            elif binding.show and binding.action not in actions:
                keys.append(shown)  # an action's first key only (^s, not also f2), as Textual
                actions.add(binding.action)
        return self.size.width or app.size.width, palette, tuple(keys)

    def _update(self) -> None:
        shown = self._keys_to_show()
        if shown != self._shown:
            rows_before = len(self.rows()) if self._shown is not None else None
            self._shown = shown
            self.refresh(layout=len(self.rows()) != rows_before)

    # -- when it changes ----------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._update()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._update()

    def on_resize(self, _: events.Resize) -> None:
        self._update()

    # -- drawing ------------------------------------------------------------------------

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self.rows(width)))

    def render(self) -> Text:
        _, palette = self.keys()
        self._spots = []
        lines = [self._line(number, row) for number, row in enumerate(self.rows())]
        lines = lines or [Text()]
        if palette is not None:
            first = lines[0]
            room = self.size.width - palette.width - cell_len(PALETTE_BORDER) - 1
            first.truncate(max(0, room), pad=True)
            first.append(PALETTE_BORDER, self.get_component_rich_style("keys-footer--border"))
            self._spots.append((0, first.cell_len, first.cell_len + palette.width, palette))
            first.append_text(self._key(palette))
            first.append(" ")
        text = Text("\n").join(lines)
        text.no_wrap = True
        text.overflow = "crop"
        return text

    def _line(self, number: int, row: list[FooterKey]) -> Text:
        line = Text()
        for key in row:
            self._spots.append((number, line.cell_len, line.cell_len + key.width, key))
            line.append_text(self._key(key))
            line.append(" ")
        return line

    def _key(self, key: FooterKey) -> Text:
        dim = Style(dim=True) if not key.enabled else Style()
        text = Text()
        text.append(key.key_display, self.get_component_rich_style("keys-footer--key") + dim)
        if key.description:
            text.append(f" {key.description}",
                        self.get_component_rich_style("keys-footer--description") + dim)
        return text

    def offset_of(self, key_name: str) -> tuple[int, int] | None:
        """Where the key `key_name` ("question_mark") is drawn: (x, y) in the footer."""
        for row, start, _end, key in self._spots:
            if key.key == key_name:
                return start, row
        return None

    def on_click(self, event: events.Click) -> None:
        """A key clicked is pressed; a key not available now rings the bell."""
        for row, start, end, key in self._spots:
            if event.y == row and start <= event.x < end:
                event.stop()
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return
