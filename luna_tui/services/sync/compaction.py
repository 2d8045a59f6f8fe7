"""`luna sync compact`: this device's subfolder shrinks to a fresh snapshot once every
other device has applied its change files.

Each device says what it has applied in its own state file (engine.write_state); a
change file every known device has applied is needed only by a device that joins later,
and a fresh snapshot holds it for them. A device that stopped syncing holds compaction
back until the person says it is gone (`luna sync forget DEVICE`): silently leaving it
out would take away the files it still needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from luna_tui.services.sync.engine import Syncer, connection, read_state
from luna_tui.services.sync.snapshot import write_snapshot
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.sync import device_state


@dataclass(frozen=True)
class Compacted:
    removed: int  # change files removed
    up_to: int  # every device had applied this device's files up to here
    waiting_for: list[str]  # devices that have not applied them all yet


def compact(session: VaultSession) -> Compacted:
    syncer = Syncer(session)
    me = syncer.device.device_id
    forgotten = {d for d, _s, _seen, gone in
                 session.run(lambda: device_state.peers(connection())) if gone}
    others = [d for d in syncer.folder.devices() if d != me and d not in forgotten]
    acknowledged = {}
    for device_id in others:
        state = read_state(session, syncer.folder, device_id)
        acknowledged[device_id] = int((state or {}).get("applied", {}).get(me, 0))
    written = syncer.device.next_seq - 1
    up_to = min(acknowledged.values(), default=written)
    waiting = sorted(d for d, seq in acknowledged.items() if seq < written)
    old = [seq for seq in syncer.folder.change_seqs(me) if seq <= up_to]
    if not old:
        return Compacted(0, up_to, waiting)
    write_snapshot(session)  # before any file goes: a new device joins from it
    for seq in old:
        syncer.folder.change_path(me, seq).unlink(missing_ok=True)
    session.run(_audit, session, len(old), up_to)
    return Compacted(len(old), up_to, waiting)


def _audit(session: VaultSession, removed: int, up_to: int) -> None:
    with session.writing("compact the sync folder") as tx:
        tx.record("sync.compact", diff={"removed": removed, "up_to": up_to})
