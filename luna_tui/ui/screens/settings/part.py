"""What every part of the Settings place shares: the seam, the session, and the
screen's ctrl+s landing on the part shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll

from luna_tui.ui.vault_calls import UsesVault

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession


class SettingsPart(UsesVault, VerticalScroll, can_focus=False):
    """One tab of the Settings place: a column that scrolls (at 80×24 most parts are
    taller than the screen) but is never a tab stop of its own."""

    @property
    def session(self) -> VaultSession:
        return self.vault.open_session

    async def refresh_data(self) -> None:
        """Load what the part shows (the place calls it when it shows)."""

    async def submit(self) -> None:
        """ctrl+s / F2: the part's main form goes ahead."""

    def still_open(self, session: object) -> bool:
        """False once the vault was locked (or another opened) since `session`: nothing
        of it may show then."""
        return session is not None and self.vault.session is session
