"""Consistent, still-encrypted copies of an open vault's databases, for a backup.

Copying a live WAL database with `cp` can produce a corrupt file (seed 002 did that).
Luna copies inside one read transaction on its own connection, so luna.db, stats.db and
the current audit month are copied as of one moment each: with SQLite's backup API, or,
for luna.db when a full checkpoint came just before the read began, as raw bytes (the
read then holds the WAL's read lock 0, which stops every checkpoint from touching the
file until it ends — see `_copy_databases`).
Files can't share a snapshot, so another Luna process committing between two of them
could leave the audit head and the audit log out of step; the copy checks that the
log (the month file, then the rows still in luna.db's outbox) reaches the head, and
starts again if not. Each copy is switched to a rollback journal, so it is
one self-contained file.

Runs on the DB thread (it uses the vault's connection).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luna_tui.errors import VaultBusy
from luna_tui.home import VaultLayout, create_private_file, ensure_private_dir
from luna_tui.store.connection import VaultDatabase, raw_key_literal

ATTEMPTS = 5
PAGES_PER_STEP = 4096

# Fraction of a database done, 0..1, and which one.
CopyProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class CopiedVault:
    files: list[tuple[str, Path]]  # name inside the vault, copy on disk
    counts: dict[str, int]


# What `backup list` and a restore tell the person. Not the AI messages: counting a
# million rows (decrypting their index) would cost a backup a second.
COUNTED_TABLES = {
    "patients": "patients", "entries": "journal_entries", "medications": "medications",
    "appointments": "appointments", "vitals": "vitals", "records": "records",
}


def copy_vault(db: VaultDatabase, layout: VaultLayout, keys: Any, attached_month: str,
               staging: Path, progress: CopyProgress | None = None) -> CopiedVault:
    """Copy every file of the vault into `staging`, as of one moment."""
    ensure_private_dir(staging)
    files = [("keys.db", _copy_keys_file(layout.keys_db, staging / "keys.db"))]
    for attempt in range(ATTEMPTS):
        copied, counts, head_seq, attachments = _copy_databases(db, layout, keys,
                                                                attached_month, staging,
                                                                progress)
        if _log_reaches_head(copied[0][1], copied[-1][1], keys, head_seq):
            break
        for _name, path in copied:  # another process committed in between: again
            path.unlink(missing_ok=True)
        if attempt == ATTEMPTS - 1:
            raise VaultBusy("Another Luna process kept writing while the backup was taken; "
                            "nothing was saved. Try again.")
    files += copied
    files += _older_audit_months(layout, keys.audit_db, attached_month, staging)
    files += attachments
    return CopiedVault(files, counts)


def _copy_databases(db: VaultDatabase, layout: VaultLayout, keys: Any, month: str,
                    staging: Path, progress: CopyProgress | None
                    ) -> tuple[list[tuple[str, Path]], dict[str, int], int,
                               list[tuple[str, Path]]]:
    conn = db.connection()
    plan = [("main", "luna.db", keys.main_db), ("stats", "stats.db", keys.stats_db),
            ("audit", f"audit/{month}.db", keys.audit_db)]
    version_before = _data_version(conn)
    fully_checkpointed = _checkpoint(conn)
    conn.execute("BEGIN")
    try:
        for schema, _name, _key in plan:  # pin each file's snapshot at once
            conn.execute(f"SELECT count(*) FROM {schema}.sqlite_master").fetchone()
        # Nobody committed between the full checkpoint and the pin: this read holds
        # SQLite's WAL read lock 0, which no checkpoint can pass, so luna.db's file
        # stays exactly this snapshot until COMMIT and may be copied as bytes.
        file_is_snapshot = fully_checkpointed and _data_version(conn) == version_before
        head_seq = int(conn.execute("SELECT seq FROM main.audit_head WHERE id = 1").fetchone()[0])
        counts = _counts(conn)
        attachments = _attachments(layout)  # listed at the snapshot its rows are from
        copied = []
        for schema, name, key in plan:
            target = staging / name
            if schema == "main" and file_is_snapshot and _copy_file_bytes(layout.main_db,
                                                                          target, key):
                if progress is not None:
                    progress(name, 1.0)
            else:
                _backup_schema(conn, schema, target, key, name, progress)
            copied.append((name, target))
    finally:
        conn.execute("COMMIT")
    return copied, counts, head_seq, attachments


def _backup_schema(conn: Any, schema: str, target: Path, key: bytes, name: str,
                   progress: CopyProgress | None) -> None:
    from sqlcipher3 import dbapi2 as sqlcipher

    ensure_private_dir(target.parent)
    target.unlink(missing_ok=True)
    create_private_file(target)
    copy = sqlcipher.connect(str(target), isolation_level=None)
    try:
        copy.execute("PRAGMA cipher_log_level = NONE")
        copy.execute(f'PRAGMA key = "{raw_key_literal(key)}"')

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None and total:
                progress(name, 1 - remaining / total)

        conn.backup(copy, pages=PAGES_PER_STEP, progress=step, name=schema)
        copy.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal to carry along
    finally:
        copy.close()
    if progress is not None:
        progress(name, 1.0)


def _data_version(conn: Any) -> int:
    return int(conn.execute("PRAGMA main.data_version").fetchone()[0])


def _checkpoint(conn: Any) -> bool:
    """A passive checkpoint of luna.db; True when every WAL frame is now in the file."""
    busy, log_frames, checkpointed = conn.execute(
        "PRAGMA main.wal_checkpoint(PASSIVE)").fetchone()
    return busy == 0 and log_frames == checkpointed


def _copy_file_bytes(source: Path, target: Path, key: bytes) -> bool:
    """The encrypted pages as they are, with no decrypting and re-encrypting of every page
    (what makes the backup API slow through SQLCipher, about 60 MB/s). False if it can't.

    The copy runs in a child process (`cp`): closing a file descriptor of luna.db in this
    process would silently drop the POSIX locks SQLite holds on it (SQLite's "how to
    corrupt a database", 2.2), letting another process think the vault unused.
    """
    import shutil
    import subprocess

    cp = shutil.which("cp")
    if cp is None:
        return False
    ensure_private_dir(target.parent)
    target.unlink(missing_ok=True)
    create_private_file(target)  # cp writes into it and keeps its 0600
    result = subprocess.run([cp, str(source), str(target)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        return False
    copy = open_copy(target, key)
    try:
        copy.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal to carry along
    finally:
        copy.close()
    return True


def _counts(conn: Any) -> dict[str, int]:
    counts = {}
    for label, table in COUNTED_TABLES.items():
        row = conn.execute(f"SELECT count(*) FROM main.{table}").fetchone()
        counts[label] = int(row[0])
    counts["audit_rows"] = int(
        conn.execute("SELECT seq FROM main.audit_head WHERE id = 1").fetchone()[0])
    return counts


def _log_reaches_head(main_copy: Path, audit_copy: Path, keys: Any, head_seq: int) -> bool:
    """Does the copied log (the month file, then the rows luna.db's outbox holds on their
    way to it) reach the copied head, with nothing in between missing?"""
    last = _audit_last_seq(audit_copy, keys.audit_db)
    conn = open_copy(main_copy, keys.main_db)
    try:
        waiting = [int(seq) for (seq,) in conn.execute(
            "SELECT seq FROM audit_outbox WHERE seq > ? ORDER BY seq", (last,))]
    finally:
        conn.close()
    # A month file ahead of the head (another process flushed between the two pins)
    # is out of step too: the copy would show rows the vault never recorded.
    return last <= head_seq and waiting == list(range(last + 1, head_seq + 1))


def _audit_last_seq(path: Path, key: bytes) -> int:
    conn = open_copy(path, key)
    try:
        row = conn.execute("SELECT max(seq) FROM audit").fetchone()
        return int(row[0] or 0)
    finally:
        conn.close()


def open_copy(path: Path, key: bytes) -> Any:
    """A connection to one copied (or restored) database file, keyed."""
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f'PRAGMA key = "{raw_key_literal(key)}"')
    return conn


def _older_audit_months(layout: VaultLayout, key: bytes, current: str,
                        staging: Path) -> list[tuple[str, Path]]:
    """Months before the current one take no more rows; each is copied on its own."""
    copied = []
    for month in layout.audit_months():
        if month == current:
            continue
        name = f"audit/{month}.db"
        target = staging / name
        source = open_copy(layout.audit_db(month), key)
        try:
            _backup_schema(source, "main", target, key, name, None)
        finally:
            source.close()
        copied.append((name, target))
    return copied


def _attachments(layout: VaultLayout) -> list[tuple[str, Path]]:
    """Attachment files are written once, whole, before their row; they go in as they are."""
    root = layout.attachments_dir
    if not root.is_dir():
        return []
    # A hidden `.<id>.part` is a file still being encrypted: not yet an attachment.
    return [(path.relative_to(layout.home).as_posix(), path)
            for path in sorted(root.rglob("*")) if path.is_file()
            and not path.name.startswith(".")]


def _copy_keys_file(source: Path, target: Path) -> Path:
    """keys.db is plain SQLite (it holds only wrapped keys): the backup API copies it."""
    target.unlink(missing_ok=True)
    create_private_file(target)
    src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
