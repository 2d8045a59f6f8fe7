"""Sync on its own while the vault is unlocked (in the app, in an agent): a few seconds
after the last write, so a burst of writes goes out as one change file, and every
minute besides, for the other devices' changes.

`AutoSync` only decides; `sync_when_due` runs a round when it says so. The app's timer
(ui/auto_sync.py) and the agent's job (cli/agent_sync.py) call it about once a second.
A read-only key never syncs (engine.refuse_read_only).
"""

from __future__ import annotations

from dataclasses import dataclass

from luna_tui.clock import Clock
from luna_tui.services.sync.engine import Syncer, SyncReport, connection
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.sync import device_state, outbox

DEBOUNCE_SECONDS = 3.0
PULL_EVERY_SECONDS = 60.0
TICK_SECONDS = 1.0


@dataclass
class AutoSync:
    clock: Clock
    debounce: float = DEBOUNCE_SECONDS
    pull_every: float = PULL_EVERY_SECONDS
    _pending: int = 0
    _changed_at: float | None = None
    _last_round: float | None = None

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def due(self, pending: int) -> bool:
        """`pending`: changes waiting in the outbox now. Due once they stop growing for
        `debounce` seconds, or when the last round is `pull_every` seconds old."""
        now = self._now()
        if pending != self._pending:
            self._pending, self._changed_at = pending, now
        if pending and self._changed_at is not None and now - self._changed_at >= self.debounce:
            return True
        return self._last_round is None or now - self._last_round >= self.pull_every

    def done(self) -> None:
        self._last_round, self._pending, self._changed_at = self._now(), 0, None


def pending_if_synced(session: VaultSession) -> int | None:
    """Changes waiting to be written; None when this vault does not sync (or can't)."""
    if session.read_only or session.closed:
        return None

    def read() -> int | None:
        conn = connection()
        if device_state.this_device(conn) is None:
            return None
        return outbox.pending_count(conn)

    return session.run(read)


def sync_when_due(session: VaultSession, auto: AutoSync) -> SyncReport | None:
    """One round if one is due (not on the DB thread: the round uses it); else None."""
    pending = pending_if_synced(session)
    if pending is None or not auto.due(pending):
        return None
    try:
        return Syncer(session).run()
    finally:
        auto.done()  # a failed round waits `pull_every`, not a second
