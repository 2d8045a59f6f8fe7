"""The footer of every screen: Textual's, rebuilt only when the keys it shows change.

Textual's footer rebuilds all its keys each time the screen says its bindings may have
changed: four to seven times as a place opens (it is shown, its table takes the focus,
the app's bindings are refreshed…), each a removal and a mount of a dozen widgets, about
15 ms apiece, before and after the first paint. The keys shown are nearly always the
same; here the rebuild happens only when they are not.
"""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class KeysFooter(TextualFooter):
    _shown: tuple | None = None  # the keys of the last rebuild

    def _keys_to_show(self) -> tuple:
        """What Textual's compose reads: each binding shown (and the command palette's)
        with its key as displayed, whether it is enabled and its tooltip."""
        app = self.app
        palette = self.show_command_palette and app.ENABLE_COMMAND_PALETTE
        return palette, tuple(
            (binding, app.get_key_display(binding), enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING)

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._keys_to_show()
        if shown == self._shown and self.children:
            return  # (no children: it was composed before the bindings were ready)
        self._shown = shown
        await super().recompose()
