"""The app syncs while it is unlocked, when this vault syncs: a timer ticks about once a
second, and each tick is a short worker asking services/sync/auto.py whether a round is
due (a few seconds after the last write, or a minute after the last round). What a
round brings is said with a message to the App ("attributes down, messages up"), which
refreshes the screen when another device's changes arrived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from luna_tui.errors import LunaError
from luna_tui.services.sync.auto import TICK_SECONDS, AutoSync, sync_when_due
from luna_tui.ui.messages import SyncNotice
from luna_tui.ui.vault_calls import ServiceFailed

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.worker import Worker

    from luna_tui.services.sync.engine import SyncReport
    from luna_tui.services.vault_session import VaultSession


class AppAutoSync:
    """Starts with the unlocked vault, stops when it locks."""

    def __init__(self, app: Any, *, every: float = TICK_SECONDS) -> None:
        self.app, self.every = app, every
        self.session: VaultSession | None = None
        self.auto: AutoSync | None = None
        self._timer: Timer | None = None
        self._worker: Worker[None] | None = None

    def start(self, session: VaultSession) -> None:
        self.stop()
        if session.read_only:
            return  # a read-only key is not offered sync
        self.session, self.auto = session, AutoSync(self.app.clock)
        self._timer = self.app.set_interval(self.every, self.tick)

    def tick(self) -> None:
        if self.session is None or (self._worker is not None and self._worker.is_running):
            return
        self._worker = self.app.run_worker(self.round(), group="auto-sync",
                                           exit_on_error=False)

    async def round(self) -> None:
        session, auto = self.session, self.auto
        if session is None or auto is None:
            return
        try:
            report = await self.app.vault.attempt(sync_when_due, session, auto)
        except ServiceFailed:
            return  # locked meanwhile
        except LunaError as error:
            self.app.post_message(SyncNotice(session, f"Sync failed: {error}",
                                             severity="warning"))
            return
        if report is not None:
            self._tell(session, report)

    def _tell(self, session: VaultSession, report: SyncReport) -> None:
        for sentence in report.refused:
            self.app.post_message(SyncNotice(session, sentence, severity="error"))
        if report.files_applied:
            self.app.post_message(SyncNotice(
                session, "Changes from your other devices arrived.", arrived=True))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.session is not None:
            self.app.workers.cancel_group(self.app, "auto-sync")
        self.session, self.auto, self._worker = None, None, None
