"""What every place (dashboard, journal, patients) shares: the top bar, the footer, and
refreshing its data when it comes back into view or the vault changes (not when a screen
of its own, an editor, closes: that screen says what it changed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.screen import Screen

from luna_tui.ui.messages import PlaceShown
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession

R = TypeVar("R")
HOLD_PAINT = 0.05  # seconds a place's first paint waits for its data, at most


class PlaceScreen(UsesVault, Screen):
    # Whether its data must be loaded when it shows next: it never was; it was hidden by
    # another place or a screen not its own (what the person did there may show here);
    # the vault changed while it was covered (`data_changed`). A screen of its own
    # pushed with `push_own` (an editor, a reader) hands what it changed to a callback
    # instead, and the place is not loaded again when it shows.
    _stale = True
    _pushing_own = False
    _watching_modes = False
    _shown = False  # resumed, and not suspended since
    _painted_once = False  # its first load painted (and PlaceShown said so)

    @property
    def session(self) -> VaultSession:
        return self.vault.open_session

    def on_screen_suspend(self) -> None:
        self._shown = False
        if self._pushing_own:
            self._pushing_own = False
        else:
            self._stale = True

    def data_changed(self, _: object = None) -> None:
        """Load again when shown next (called by the App for a place a screen covers when
        the vault changed from outside, and on every switch of place)."""
        self._stale = True

    async def push_own(self, screen: Screen[R], callback: Callable[[R | None], Any]) -> None:
        """Push a screen of this place's own whose dismissal hands what it changed to
        `callback`: saving an entry does not reload the whole journal behind it."""
        self._pushing_own = True
        await self.app.push_screen(screen, callback)

    async def on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._shown:
            # Textual resumes a place twice on its first visit (as its mode is made, and
            # as the app switches to it): the second would load it, restyle every widget
            # and lay the screen out again, for nothing.
            event.prevent_default()
            return
        self._shown = True
        if not self._watching_modes:  # the first resume of all
            # It follows the mount, which styled every widget with the stylesheet of now
            # (see LunaApp._new_mode_screen): Textual would style the whole screen again
            # before its first paint, for nothing.
            event.refresh_styles = False
            # Another place shown while a screen of its own covers it: its callback does
            # not say what was done there.
            self.app.mode_change_signal.subscribe(self, self.data_changed, immediate=True)
            self._watching_modes = True
        if not self._stale:
            return
        self._stale = False
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
        if not self._painted_once:
            self._painted_once = True
            self.call_after_refresh(self.post_message, PlaceShown())

    async def _load(self) -> None:
        try:
            await self.refresh_data()
        except ServiceFailed:
            pass  # the person has been told why

    async def refresh_data(self) -> None:
        """Load what the screen shows; subclasses fill it in."""
