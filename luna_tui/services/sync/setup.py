"""`luna sync setup FOLDER`: give this vault a device id and a subfolder, install the
capture triggers, and write the first snapshot a new device can join from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from luna_tui.clock import utc_timestamp
from luna_tui.errors import UsageError
from luna_tui.home import ensure_private_dir
from luna_tui.services.sync.engine import connection, refuse_read_only
from luna_tui.services.sync.folder import SyncFolder, new_device_id
from luna_tui.services.sync.snapshot import write_snapshot
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.sync import device_state, triggers


@dataclass(frozen=True)
class SetupResult:
    device_id: str
    folder: Path
    snapshot: Path


def setup_sync(session: VaultSession, folder: str | Path) -> SetupResult:
    refuse_read_only(session)
    path = Path(folder).expanduser().absolute()
    home = session.layout.home.absolute()
    if path == home or home in path.parents or path in home.parents:
        raise UsageError(
            f"The sync folder {path} must be outside the vault folder {home}, and not hold "
            "it: a syncer copying a live database corrupts it.")
    if session.run(lambda: device_state.this_device(connection())) is not None:
        raise UsageError("Sync is already set up for this vault; `luna sync status` shows it.")
    ensure_private_dir(path)
    device_id = new_device_id()
    session.run(_start, session, device_id, path)
    ensure_private_dir(SyncFolder(path).device_dir(device_id))
    snapshot = write_snapshot(session)
    return SetupResult(device_id, path, snapshot)


def _start(session: VaultSession, device_id: str, path: Path) -> None:
    with session.writing("set up sync") as tx:
        conn = connection()
        device_state.start(conn, device_id, str(path), utc_timestamp(session.clock.now()))
        made = triggers.install(conn)
        tx.record("sync.setup", diff={"device": device_id, "folder": str(path),
                                      "triggers": made})
