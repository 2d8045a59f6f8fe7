"""The Settings place's Sync tab: whether this vault syncs, through which folder, the
other devices and when each last synced, and what waits here to be written.
Not on the DB thread: the status reads the sync folder's state files too."""

from __future__ import annotations

from dataclasses import dataclass

from luna_tui.services.sync.engine import connection
from luna_tui.services.sync.status import SyncStatus, sync_status
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.sync import device_state


@dataclass(frozen=True)
class SyncView:
    offered: bool  # False for a read-only key (it is not offered sync)
    status: SyncStatus | None  # None until `luna sync setup` (or the tab's Set up)


def sync_view(session: VaultSession) -> SyncView:
    if session.read_only:
        return SyncView(False, None)
    synced = session.run(lambda: device_state.this_device(connection())) is not None
    return SyncView(True, sync_status(session) if synced else None)
