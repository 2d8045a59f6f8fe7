"""keys.db across devices: each device shares its key rows (every secret in them is a
wrap of the master key under a passphrase, recovery or access key, and the labels are
sealed) in `FOLDER/<device>/keys.sealed`, sealed again under the sync sub-key, and takes
the others' rows: a key added on one device opens the vault on all of them, and a key
revoked (or a passphrase changed: its old wrap removed) on one is removed on all.

A row is taken only if it passes the same checks as a row of this device's own keys.db
(key_manager.judge_row: its checksum, its vault, its sealed label). Of two versions of
one row the later `updated_at` wins. A removal is final, like a deleted row. The last
owner key of a device is never removed by sync (the device could no longer be opened);
that is said, not silently done.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any

from luna_tui.errors import SyncFileRefused
from luna_tui.services.sync.change_files import open_payload, seal_payload
from luna_tui.services.sync.folder import SyncFolder, write_atomically
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.base import database
from luna_tui.vault import keystore
from luna_tui.vault.key_manager import OWNER, judge_row
from luna_tui.vault.keystore import KeyRow

KEYS_MAGIC = b"LUNAKEYS1\n"
KEYS_FILE = "keys.sealed"
_BYTES = ("display_name", "wrapped_master_key")


@dataclass
class KeysMerged:
    added: int = 0
    replaced: int = 0
    removed: int = 0
    kept: list[str] = field(default_factory=list)  # sentences: a removal not done


def share_keys(session: VaultSession, folder: SyncFolder, device_id: str, key: bytes) -> None:
    """Write this device's key rows and every removal it knows of."""
    rows = keystore.read(session.layout.keys_db).rows
    removed = session.run(_note_removals, session, {r.key_locator_hash for r in rows})
    payload = {"device": device_id, "seq": 0, "rows": [_encoded(r) for r in rows],
               "removed": sorted(removed)}
    path = folder.device_dir(device_id) / KEYS_FILE
    if _without_use(_shared(session, path, device_id, key)) == _without_use(payload):
        return  # unchanged but for an unlock's `last_used_at`: nothing to carry
    write_atomically(path, seal_payload(key, session.key.vault_id, device_id, 0, payload,
                                        magic=KEYS_MAGIC))


def _without_use(payload: Any) -> Any:
    """A shared payload without what every unlock changes (`last_used_at`, and the row
    checksum that covers it): the other devices merge by `updated_at`."""
    if not isinstance(payload, dict):
        return payload
    rows = [{k: v for k, v in row.items() if k not in ("last_used_at", "checksum")}
            for row in payload.get("rows", [])]
    return {**payload, "rows": rows}


def _shared(session: VaultSession, path: Any, device_id: str, key: bytes) -> Any:
    """What this device shared last (None: nothing readable)."""
    try:
        return open_payload(key, session.key.vault_id, device_id, 0, path.read_bytes(),
                            path.name, magic=KEYS_MAGIC)
    except (OSError, SyncFileRefused):
        return None


def _note_removals(session: VaultSession, current: set[str]) -> set[str]:
    conn = database.connection()
    seen = {r[0] for r in conn.execute("SELECT locator FROM sync_key_seen")}
    if seen == current:  # nothing added or removed here since: no write
        return {r[0] for r in conn.execute("SELECT locator FROM sync_key_removed")}
    with session.writing("share the vault's keys") as _tx:
        conn.executemany("INSERT OR IGNORE INTO sync_key_removed (locator) VALUES (?)",
                         [(locator,) for locator in seen - current])
        conn.execute("DELETE FROM sync_key_seen")
        conn.executemany("INSERT INTO sync_key_seen (locator) VALUES (?)",
                         [(locator,) for locator in current])
        return {r[0] for r in conn.execute("SELECT locator FROM sync_key_removed")}


def take_keys(session: VaultSession, folder: SyncFolder, device_id: str,
              key: bytes) -> KeysMerged:
    """Merge another device's key rows into this keys.db."""
    merged = KeysMerged()
    path = folder.device_dir(device_id) / KEYS_FILE
    if not path.is_file():
        return merged
    payload = open_payload(key, session.key.vault_id, device_id, 0, path.read_bytes(),
                           path.name, magic=KEYS_MAGIC)
    removed = set(payload.get("removed", []))
    removed |= session.run(_remember_removals, session, removed)
    key_file = keystore.read(session.layout.keys_db)
    local = {r.key_locator_hash: r for r in key_file.rows}
    for row in (_decoded(item, path.name, device_id) for item in payload.get("rows", [])):
        if row.key_locator_hash in removed:
            continue
        if judge_row(row, key_file.vault, session.key.master_key).problem is not None:
            continue  # not a row this vault's owner made
        mine = local.get(row.key_locator_hash)
        if mine is None:
            keystore.insert_key(session.layout.keys_db, row)
            session.run(_seen, session, row.key_locator_hash)
            merged.added += 1
        elif row.updated_at > mine.updated_at:
            keystore.replace_key(session.layout.keys_db, row)
            merged.replaced += 1
    _remove(session, removed, merged)
    if merged.added or merged.replaced or merged.removed:
        session.run(_audit, session, device_id, merged)
    return merged


def _remove(session: VaultSession, removed: set[str], merged: KeysMerged) -> None:
    rows = keystore.read(session.layout.keys_db).rows
    owners = [r for r in rows if r.role == OWNER and r.key_locator_hash not in removed]
    for row in rows:
        if row.key_locator_hash not in removed:
            continue
        if row.role == OWNER and not owners:
            merged.kept.append("A key removed on another device is kept here: it is this "
                               "device's last owner key.")
            continue
        keystore.delete_key(session.layout.keys_db, row.key_locator_hash)
        merged.removed += 1


def _remember_removals(session: VaultSession, removed: set[str]) -> set[str]:
    with session.writing("take the vault's keys") as _tx:
        conn = database.connection()
        conn.executemany("INSERT OR IGNORE INTO sync_key_removed (locator) VALUES (?)",
                         [(locator,) for locator in removed])
        return {r[0] for r in conn.execute("SELECT locator FROM sync_key_removed")}


def _seen(session: VaultSession, locator: str) -> None:
    """A row taken from another device is this device's from now on: removing it here
    is a removal to share."""
    with session.writing("take the vault's keys") as _tx:
        database.connection().execute(
            "INSERT OR IGNORE INTO sync_key_seen (locator) VALUES (?)", (locator,))


def _audit(session: VaultSession, device_id: str, merged: KeysMerged) -> None:
    with session.writing("take the vault's keys") as tx:
        tx.record("sync.keys", record_locator=device_id,
                  diff={"added": merged.added, "replaced": merged.replaced,
                        "removed": merged.removed})


def _encoded(row: KeyRow) -> dict[str, Any]:
    values = asdict(row)
    for name in _BYTES:
        values[name] = base64.b64encode(values[name]).decode("ascii")
    return values


def _decoded(item: dict[str, Any], name: str, device_id: str) -> KeyRow:
    try:
        values = dict(item)
        for column in _BYTES:
            values[column] = base64.b64decode(values[column])
        return KeyRow(**values)
    except (TypeError, ValueError, KeyError) as exc:
        raise SyncFileRefused(f"The sync file {name} from device {device_id} holds a key row "
                              "Luna does not recognise; it was refused.") from exc
