"""A copy of one SQLCipher database under a new key (`luna keys rotate`).

The copy is made beside the vault, never in place: the source is checkpointed into its
main file (`wal_checkpoint(TRUNCATE)` empties the -wal, so no committed page lives
only there), copied byte for byte, and the copy re-encrypted with `PRAGMA rekey`.
SQLCipher's rekey rewrites every page, free pages too; on a WAL database the new pages
go into the copy's own -wal, which starts empty, so it never holds a page under the old
key, and a second checkpoint moves them into the file. `PRAGMA cipher_integrity_check`
then proves every page authenticates under the new key: a page the rekey missed would
fail it.

Only safe while no other connection writes the source: the caller holds the vault's
exclusive lock.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from luna_tui.errors import IntegrityFailure, VaultBusy
from luna_tui.home import create_private_file, ensure_private_dir
from luna_tui.store.connection import raw_key_literal
from luna_tui.store.online_copy import open_copy


def open_keyed(path: Path, key: bytes) -> Any:
    """A raw connection to one database file under `key`; sorts and temporary tables
    stay in memory, so no plaintext temp file is ever written."""
    conn = open_copy(path, key)
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def checkpoint(path: Path, key: bytes) -> None:
    """Every committed page of `path` into the file itself; its -wal emptied."""
    conn = open_keyed(path, key)
    try:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise VaultBusy(f"{path.name} is in use by another program; nothing was changed.")


def rekeyed_copy(source: Path, target: Path, old_key: bytes, new_key: bytes) -> None:
    """`target`: the checkpointed `source`, re-encrypted under `new_key`."""
    checkpoint(source, old_key)
    ensure_private_dir(target.parent)
    target.unlink(missing_ok=True)
    create_private_file(target)
    shutil.copyfile(source, target)
    conn = open_keyed(target, old_key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the old key fits
        conn.execute(f'PRAGMA rekey = "{raw_key_literal(new_key)}"')
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    failures = pages_not_under(target, new_key)
    if failures:
        raise IntegrityFailure(
            f"Re-encrypting {source.name} went wrong ({failures[0]}); nothing was changed.")


def pages_not_under(path: Path, key: bytes) -> list[str]:
    """The pages of `path` that do not authenticate under `key` (empty: every one does)."""
    conn = open_keyed(path, key)
    try:
        return [row[0] for row in conn.execute("PRAGMA cipher_integrity_check")]
    finally:
        conn.close()
