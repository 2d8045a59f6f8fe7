"""A snapshot: the whole vault as a backup file (store/backup_archive.py's format,
encrypted as every backup is) in this device's subfolder, named after the change file
it follows: `snapshot-<seq>.lunabak` holds everything up to change file <seq>.

A new device joins from the newest one. Written at `luna sync setup`, and by anything
that makes the old ones useless: after `luna keys rotate` (a new master key: the old
snapshots open only with the old passphrase), call `write_snapshot(session)`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from luna_tui.services.backups.folder import Backups
from luna_tui.services.sync.engine import Syncer, SyncReport, this_device
from luna_tui.services.sync.folder import TEMP_PREFIX, fsync_dir
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.online_copy import remove_tree


def write_snapshot(session: VaultSession) -> Path:
    """Write this device's pending changes, then snapshot the vault; returns its path.
    Older snapshots of this device are removed once the new one is in place."""
    syncer = Syncer(session)
    syncer.write_own(SyncReport())
    device = syncer.folder.device_dir(syncer.device.device_id)
    staging = device / f"{TEMP_PREFIX}snapshot-{secrets.token_hex(4)}"
    try:
        made = Backups(session).create(staging)
        last = this_device(session).next_seq - 1
        target = syncer.folder.snapshot_path(syncer.device.device_id, last)
        os.replace(made.path, target)
        fsync_dir(device)
    finally:
        remove_tree(staging)
    for _seq, older in syncer.folder.snapshots(syncer.device.device_id):
        if older != target:
            older.unlink(missing_ok=True)
    return target
