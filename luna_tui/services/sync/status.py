"""`luna sync status` and `luna sync forget`: the devices sharing the folder, when each
last synced (from its own state file), how far this device has applied each one's
change files, and what is waiting here to be written."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from luna_tui.clock import utc_timestamp
from luna_tui.errors import NotFound
from luna_tui.services.sync.engine import connection, read_state, this_device
from luna_tui.services.sync.folder import SyncFolder
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.sync import device_state, outbox

# A device silent this long is named as perhaps gone; it is left out of compaction's
# count only when the person confirms (`luna sync forget`).
UNSEEN_DAYS = 30


@dataclass(frozen=True)
class DeviceStatus:
    device_id: str
    last_seen: str | None  # when it last wrote its state (its last sync)
    applied_seq: int  # its change files applied here
    available_seq: int  # its newest change file in the folder
    forgotten: bool
    long_unseen: bool  # no sync for UNSEEN_DAYS: gone? (only the person can say)


@dataclass(frozen=True)
class SyncStatus:
    device_id: str
    folder: str
    pending_changes: int
    devices: list[DeviceStatus]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def sync_status(session: VaultSession) -> SyncStatus:
    device = this_device(session)
    folder = SyncFolder(Path(device.folder))
    peers = {d: (seq, seen, gone) for d, seq, seen, gone in
             session.run(lambda: device_state.peers(connection()))}
    pending = session.run(lambda: outbox.pending_count(connection()))
    unseen_since = utc_timestamp(session.clock.now() - dt.timedelta(days=UNSEEN_DAYS))
    devices = []
    for device_id in sorted(set(folder.devices()) | set(peers)):
        if device_id == device.device_id:
            continue
        applied, seen_here, gone = peers.get(device_id, (0, None, False))
        state = read_state(session, folder, device_id)
        seqs = folder.change_seqs(device_id)
        seen = state.get("written_at") if state else seen_here
        devices.append(DeviceStatus(device_id, seen, applied, max(seqs) if seqs else applied,
                                    gone, seen is None or seen < unseen_since))
    return SyncStatus(device.device_id, device.folder, pending, devices)


def forget_device(session: VaultSession, device_id: str) -> None:
    """After the person confirms the device is gone: its files are no longer applied and
    compaction stops waiting for it."""
    device = this_device(session)
    if device_id == device.device_id:
        raise NotFound("That is this device; forget it from another one.")
    known = set(SyncFolder(Path(device.folder)).devices()) | {
        d for d, *_ in session.run(lambda: device_state.peers(connection()))}
    if device_id not in known:
        raise NotFound(f"No device {device_id} syncs through {device.folder}.")
    session.run(_forget, session, device_id)


def _forget(session: VaultSession, device_id: str) -> None:
    with session.writing("forget a device") as tx:
        conn = connection()
        if device_state.applied_seq(conn, device_id) == 0:
            device_state.record_applied(conn, device_id, 0, utc_timestamp(session.clock.now()))
        device_state.forget(conn, device_id)
        tx.record("sync.forget", record_locator=device_id)
