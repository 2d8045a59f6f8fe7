"""The footer of every screen: Textual's, rebuilt only when the keys it shows change, and
in as many rows as its keys need.

Textual's footer rebuilds all its keys each time the screen says its bindings may have
changed: four to seven times as a place opens (it is shown, its table takes the focus,
the app's bindings are refreshed…), each a removal and a mount of a dozen widgets, about
15 ms apiece, before and after the first paint. The keys shown are nearly always the
same; here the rebuild happens only when they are not.

Textual's footer is one row, and the keys that do not fit are cut off at the right edge:
at 80 columns the dashboard lost "9 Backups" and "? Keys". Here the keys go on in a
second row (a third…) when the screen is too narrow for one; at 100 columns and more
every place fits in one row, as before.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

PALETTE_BORDER = 1  # the command palette's key is docked right behind a one-cell border


class FooterRow(HorizontalGroup):
    """One row of the footer's keys."""


def key_width(key: FooterKey) -> int:
    """The cells a key takes in a compact footer: its key, a space and its description,
    then a one-cell margin (app.tcss and Textual's compact footer style)."""
    description = f" {key.description}" if key.description else ""
    return cell_len(key.key_display) + cell_len(description) + 1


def rows_of(keys: list[FooterKey], width: int) -> list[list[FooterKey]]:
    """The keys in rows no wider than `width` cells, in their order."""
    rows: list[list[FooterKey]] = [[]]
    used = 0
    for key in keys:
        needed = key_width(key)
        if rows[-1] and used + needed > width:
            rows.append([])
            used = 0
        rows[-1].append(key)
        used += needed
    return rows


class KeysFooter(TextualFooter):
    _shown: tuple | None = None  # the keys of the last rebuild, and the width they had

    def _keys_to_show(self) -> tuple:
        """What Textual's compose reads: each binding shown (and the command palette's)
        with its key as displayed, whether it is enabled and its tooltip; and the width
        of the screen, which decides the rows."""
        app = self.app
        palette = self.show_command_palette and app.ENABLE_COMMAND_PALETTE
        return palette, app.size.width, tuple(
            (binding, app.get_key_display(binding), enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING)

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        palette = [key for key in keys if key.has_class("-command-palette")]
        shown = [key for key in keys if isinstance(key, FooterKey) and key not in palette]
        room = self.app.size.width - sum(key_width(key) + PALETTE_BORDER for key in palette)
        for row in rows_of(shown, room):
            yield FooterRow(*row)
        yield from palette

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._keys_to_show()
        if shown == self._shown and self.children:
            return  # (no children: it was composed before the bindings were ready)
        self._shown = shown
        await super().recompose()

    async def on_resize(self, event: events.Resize) -> None:
        # The rows follow the width; only a change of width once built rebuilds them (the
        # first layout's resize would rebuild the keys before they are ready).
        if self._shown is not None and self._shown[1] != self.app.size.width:
            await self.recompose()
