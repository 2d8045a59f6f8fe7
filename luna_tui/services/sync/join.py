"""`luna sync join FOLDER`: an empty LUNA_HOME becomes a new device of the vault in
FOLDER, from the newest snapshot there and the change files written after it.

The snapshot is a backup: it is verified and restored with the passphrase or recovery
key (no key travels in plaintext: keys.db inside it is the vault's own, every secret
wrapped). The new device gets its own id; the snapshot's sync state says which change
files of each device it already holds, so only later ones are applied.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luna_tui.clock import Clock, SystemClock, utc_timestamp
from luna_tui.errors import LunaError, UsageError
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.services.backups.restore import restore_backup
from luna_tui.services.sync.engine import Syncer, SyncReport, connection
from luna_tui.services.sync.folder import SyncFolder, new_device_id
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.backup_archive import read_manifest
from luna_tui.store.sync import device_state, triggers
from luna_tui.store.sync.tables import synced_tables


@dataclass(frozen=True)
class JoinResult:
    device_id: str
    snapshot: Path
    report: SyncReport


def newest_snapshot(folder: SyncFolder) -> Path:
    found = []
    for device_id in folder.devices():
        for _seq, path in folder.snapshots(device_id):
            try:
                manifest = read_manifest(path)[0]
            except LunaError:
                continue
            found.append((manifest.created_at, path))
    if not found:
        raise UsageError(f"{folder.path} holds no Luna snapshot to join from (has the syncer "
                         "finished copying it?). Run `luna sync setup` on a device first.")
    return max(found)[1]


def join_sync(folder: str | Path, secret: str, layout: VaultLayout, *,
              clock: Clock | None = None) -> JoinResult:
    clock = clock or SystemClock()
    path = Path(folder).expanduser().absolute()
    if layout.home.exists() and any(layout.home.iterdir()):
        raise UsageError(f"`luna sync join` makes a new vault, so LUNA_HOME ({layout.home}) "
                         "must be empty or not exist yet.")
    snapshot = newest_snapshot(SyncFolder(path))
    restored = _restore_a_copy(snapshot, secret, layout, clock)
    session = VaultSession.connect(layout, restored.unlocked, clock=clock)
    try:
        device_id = new_device_id()
        session.run(_become_new_device, session, device_id, path)
        report = Syncer(session).run()
    finally:
        session.close()
    return JoinResult(device_id, snapshot, report)


def _restore_a_copy(snapshot: Path, secret: str, layout: VaultLayout, clock: Clock) -> Any:
    """Restore from a copy beside LUNA_HOME: verifying writes a note next to the file it
    verified, and the snapshot's subfolder has one writer, the device that made it."""
    ensure_private_dir(layout.home.parent)
    with tempfile.TemporaryDirectory(prefix=".luna-join-", dir=layout.home.parent) as temp:
        copy = Path(temp) / snapshot.name
        shutil.copyfile(snapshot, copy)
        return restore_backup(copy, secret, layout, clock=clock)


def _become_new_device(session: VaultSession, device_id: str, path: Path) -> None:
    with session.writing("join sync") as tx:
        conn = connection()
        old = device_state.this_device(conn)
        if old is None:
            raise LunaError("The snapshot holds no sync state; it is not from a synced vault.")
        # Rows numbered by the snapshot's device keep the names that device gave them.
        for table in synced_tables(conn):
            if table.numbered:
                conn.execute(
                    f"INSERT OR IGNORE INTO sync_row_map (tbl, row_key, local_id) "
                    f"SELECT ?, ? || '/' || {table.key}, {table.key} FROM {table.name} "
                    f"WHERE {table.key} NOT IN (SELECT local_id FROM sync_row_map WHERE tbl = ?)",
                    (table.name, old.device_id, table.name))
        # What the snapshot's outbox held comes again in that device's later files.
        conn.execute("DELETE FROM sync_outbox")
        if old.next_seq > 1:
            device_state.record_applied(conn, old.device_id, old.next_seq - 1,
                                        utc_timestamp(session.clock.now()))
        device_state.start(conn, device_id, str(path), utc_timestamp(session.clock.now()))
        device_state.saw_clock(conn, old.last_hlc)
        triggers.install(conn)
        tx.record("sync.join", diff={"device": device_id, "from": old.device_id})
