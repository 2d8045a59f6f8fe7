"""An Input for file paths: the rest of a half-typed path is suggested from the disk
(Tab or → takes it), and files dropped on the terminal arrive as paths, several at
once, instead of only the first line of what the terminal pasted."""

from __future__ import annotations

import asyncio

from textual import events
from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from luna_tui.services.path_completion import complete_field, paths_from_paste, quote_paths


class PathSuggester(Suggester):
    def __init__(self) -> None:
        # Paths are case-sensitive, and the folder may change between two looks.
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip() or "\n" in value:
            return None
        return await asyncio.to_thread(complete_field, value)  # a big folder takes a while


class PathInput(Input):
    BINDINGS = [Binding("tab", "accept_suggestion", "Complete", show=False)]

    def __init__(self, value: str = "", **kwargs) -> None:  # noqa: ANN003 - Input's own
        super().__init__(value, suggester=PathSuggester(), **kwargs)

    def action_accept_suggestion(self) -> None:
        """Tab takes the suggestion; with none on offer it moves on, as Tab does."""
        if self._suggestion and self.cursor_at_end:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Input's own handler would paste the first line again
        paths = paths_from_paste(event.text)
        if not paths:
            return
        # One path into an empty field stays as it is (completion goes on from it);
        # anything more is quoted, so spaces in a name never split it in two.
        alone = len(paths) == 1 and not self.value.strip()
        text = paths[0] if alone else quote_paths(paths)
        if self.value and not self.value.endswith(" ") and not alone:
            text = " " + text
        self.insert_text_at_cursor(text)
