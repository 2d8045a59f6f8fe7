"""What every place (dashboard, journal, patients) shares: the top bar, the footer, and
refreshing its data when it comes back into view or the vault changes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.screen import Screen

from luna_tui.ui.vault_calls import ServiceFailed, UsesVault

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession

HOLD_PAINT = 0.05  # seconds a place's first paint waits for its data, at most


class PlaceScreen(UsesVault, Screen):
    # Whether the screen has been hidden since its data was last loaded on a resume
    # (it starts so: never loaded).
    _hidden_since_loaded = True

    @property
    def session(self) -> VaultSession:
        return self.vault.open_session

    def on_screen_suspend(self) -> None:
        self._hidden_since_loaded = True

    async def on_screen_resume(self) -> None:
        # Textual resumes a place twice on its first visit (as its mode is made, and as
        # the app switches to it): a resume with no suspend since the last load shows
        # nothing new, and loading twice cost the first paint a query and a table.
        if not self._hidden_since_loaded:
            return
        self._hidden_since_loaded = False
        # Loaded in the resume handler itself: loaded later (call_later), a DataTable
        # filled before its first layout keeps the widths of its headers. Nothing is
        # painted until the data is in, for at most HOLD_PAINT (the App no longer lets
        # Textual hold every switch of places for 50 ms: see LunaApp.delay_update), so
        # the place appears with its data, not empty first; a vault busy with a backup
        # does not hold the screen longer than that.
        loading = asyncio.ensure_future(self._load())
        try:
            with self.app.batch_update():
                await asyncio.wait({loading}, timeout=HOLD_PAINT)
            await loading
        finally:
            loading.cancel()  # the handler was cancelled (the screen went): so is the load

    async def _load(self) -> None:
        try:
            await self.refresh_data()
        except ServiceFailed:
            pass  # the person has been told why

    async def refresh_data(self) -> None:
        """Load what the screen shows; subclasses fill it in."""
