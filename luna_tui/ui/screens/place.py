"""What every place (dashboard, journal, patients) shares: the top bar, the footer, and
refreshing its data when it comes back into view or the vault changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from luna_tui.ui.vault_calls import ServiceFailed, UsesVault

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession


class PlaceScreen(UsesVault, Screen):
    @property
    def session(self) -> VaultSession:
        return self.vault.open_session

    async def on_screen_resume(self) -> None:
        # Loaded in the resume handler itself: loaded later (call_later), a DataTable
        # filled before its first layout keeps the widths of its headers.
        try:
            await self.refresh_data()
        except ServiceFailed:
            pass  # the person has been told why

    async def refresh_data(self) -> None:
        """Load what the screen shows; subclasses fill it in."""
