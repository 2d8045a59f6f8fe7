"""What sync needs after `luna keys rotate` (built apart from sync): a new master key
means a new sync key, so every change file written before it no longer opens, on any
device. The other devices join again (`luna sync join`, with the new passphrase) as new
devices; here, the old ones are forgotten (their files would only be refused) and a
fresh snapshot, under the new keys, is written for them to join from.

`luna keys rotate` and the app's rotation call `restart_after_rotation(session)` with
the session opened under the new key, and say `REJOIN` when it wrote a snapshot.
"""

from __future__ import annotations

from pathlib import Path

from luna_tui.services.sync.engine import connection, this_device
from luna_tui.services.sync.folder import SyncFolder
from luna_tui.services.sync.snapshot import write_snapshot
from luna_tui.services.sync.status import forget_device
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.sync import device_state

REJOIN = ("This vault syncs: the other devices were forgotten and a fresh snapshot under "
          "the new keys is in the sync folder. On each other device, join again with the "
          "new passphrase (`luna sync join FOLDER` into an empty LUNA_HOME), and remove a "
          "lost device from the syncer.")


def restart_after_rotation(session: VaultSession) -> Path | None:
    """The fresh snapshot's path; None when this vault does not sync."""
    if session.run(lambda: device_state.this_device(connection())) is None:
        return None
    device = this_device(session)
    known = set(SyncFolder(Path(device.folder)).devices()) | {
        d for d, *_ in session.run(lambda: device_state.peers(connection()))}
    for device_id in sorted(known - {device.device_id}):
        forget_device(session, device_id)
    return write_snapshot(session)
