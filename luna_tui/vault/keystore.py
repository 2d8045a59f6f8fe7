"""keys.db: the one plain (unencrypted) file of a vault.

It holds, per key, the master key wrapped under that key (AES-GCM), the Argon2id
parameters, the role and expiry (all bound into the wrap's AAD), and the key's label
sealed under a sub-key of the master key, so nobody learns "Dr Rivera" from the file.
The label's seal also binds the key's kind, role and expiry, so an owner can check every
row, not only the one they unlock with. In the clear: how many keys, their kinds and
roles, expiry dates and timestamps, and the times and host name of failed unlock
attempts (moved into the encrypted audit log at the next unlock).

Each row also carries an unkeyed SHA-256 checksum of its fields. It cannot stop an
attacker (the AAD does that); it lets Luna say "keys.db is damaged" for a flipped bit
instead of "wrong passphrase", the defect jrnl has.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from luna_tui.errors import (
    LunaError,
    ReadOnlyLocation,
    VaultBusy,
    VaultCorrupt,
    VaultMissing,
)
from luna_tui.home import create_private_file, disk_full, make_private, no_room_to_write

FORMAT_VERSION = 1
MAX_REMEMBERED_FAILURES = 1000

_SCHEMA = """
CREATE TABLE vault (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id TEXT NOT NULL,
    format_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    master_key_check TEXT NOT NULL,
    checksum TEXT NOT NULL
);
CREATE TABLE keys (
    key_locator_hash TEXT PRIMARY KEY,
    display_name BLOB NOT NULL,
    database_id_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    kdf TEXT NOT NULL,
    wrapped_master_key BLOB NOT NULL,
    acl TEXT NOT NULL,
    expiry_date TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_used_at TEXT,
    checksum TEXT NOT NULL
);
CREATE TABLE unlock_failures (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    key_locator_hash TEXT,
    host TEXT NOT NULL,
    client TEXT NOT NULL
);
"""


def _checksum(values: dict[str, object]) -> str:
    encoded = {
        k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
        for k, v in values.items()
        if k != "checksum"
    }
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VaultRecord:
    vault_id: str
    format_version: int
    created_at: str
    master_key_check: str
    checksum: str = ""

    def sealed(self) -> VaultRecord:
        return replace(self, checksum=_checksum(asdict(self)))

    @property
    def intact(self) -> bool:
        return self.checksum == _checksum(asdict(self))

    @property
    def database_id_hash(self) -> str:
        return database_id_hash(self.vault_id)


def database_id_hash(vault_id: str) -> str:
    return hashlib.sha256(b"luna/vault-id\0" + vault_id.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class KeyRow:
    key_locator_hash: str
    display_name: bytes  # the label, sealed under the key-labels sub-key
    database_id_hash: str
    kind: str  # "passphrase" | "recovery" | "access"
    kdf: str  # JSON text, exactly as bound into the AAD
    wrapped_master_key: bytes  # nonce ‖ AES-256-GCM(master key)
    acl: str  # JSON text: {"role": "owner" | "read-only"}
    expiry_date: str | None  # YYYY-MM-DD, the last local day the key works; NULL = never
    created_at: str
    updated_at: str
    last_used_at: str | None
    checksum: str = ""

    def sealed(self) -> KeyRow:
        return replace(self, checksum=_checksum(asdict(self)))

    @property
    def intact(self) -> bool:
        return self.checksum == _checksum(asdict(self))

    @property
    def role(self) -> str:
        try:
            return str(json.loads(self.acl).get("role", "?"))
        except (ValueError, AttributeError):
            return "?"


_KEY_COLUMNS = [f.name for f in fields(KeyRow)]
_VAULT_COLUMNS = [f.name for f in fields(VaultRecord)]


@dataclass(frozen=True)
class KeyFile:
    vault: VaultRecord
    rows: list[KeyRow]


@contextmanager
def _connect(path: Path, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    if not create and not path.exists():
        raise VaultMissing(
            f"There is no Luna vault at {path.parent}. Create one with `luna init`."
        )
    if create:
        create_private_file(path)
    try:
        uri = f"{path.absolute().as_uri()}?mode=rw"  # percent-encodes '#', '?', '%'
        conn = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)
    except sqlite3.Error as exc:
        raise _classify(exc, path) from exc
    try:
        # Freed pages are zeroed in the file. (A changed or revoked key's old wrap can still
        # sit in the rollback journal's freed disk blocks: see README, Security.)
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA synchronous = FULL")  # key changes are rare and must survive a crash
        yield conn
    except sqlite3.Error as exc:
        raise _classify(exc, path) from exc
    finally:
        conn.close()


def _classify(exc: sqlite3.Error, path: Path) -> LunaError:
    text = str(exc).lower()
    if "disk is full" in text or ("disk i/o error" in text and no_room_to_write(path.parent)):
        return disk_full(path.parent)
    if "locked" in text or "busy" in text:
        return VaultBusy()
    if "readonly" in text or "read-only" in text:
        return ReadOnlyLocation(f"Luna can't write to {path.parent}: the folder is read-only.")
    return VaultCorrupt(
        f"{path.name} is damaged ({exc}); restore it from a backup. Luna changed nothing."
    )


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        _roll_back(conn)
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        _roll_back(conn)
        raise


def _roll_back(conn: sqlite3.Connection) -> None:
    """After a full disk or an I/O error SQLite may have rolled back by itself; the
    error to report is the one that stopped the work, never ROLLBACK's own complaint."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def create(path: Path, vault: VaultRecord, rows: list[KeyRow]) -> None:
    """Write a new keys.db (at creation, into the staging folder)."""
    with _connect(path, create=True) as conn:
        conn.executescript(_SCHEMA)
        with _transaction(conn):
            _insert(conn, "vault", {"id": 1, **asdict(vault.sealed())})
            for row in rows:
                _insert(conn, "keys", asdict(row.sealed()))
    make_private(path)


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, object]) -> None:
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values()))


def read(path: Path) -> KeyFile:
    """Every key row and the vault record; VaultCorrupt if the file is not whole."""
    with _connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"vault", "keys", "unlock_failures"} <= tables:
            raise VaultCorrupt(
                f"{path.name} is empty or incomplete; restore it from a backup. "
                "Without it the vault cannot be opened."
            )
        vault_rows = conn.execute(f"SELECT {', '.join(_VAULT_COLUMNS)} FROM vault").fetchall()
        key_rows = conn.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM keys").fetchall()
    if len(vault_rows) != 1:
        raise VaultCorrupt(f"{path.name} has no vault record; restore it from a backup.")
    try:
        vault = VaultRecord(*vault_rows[0])
        rows = [KeyRow(*r) for r in key_rows]
    except TypeError as exc:
        raise VaultCorrupt(f"{path.name} is damaged ({exc}); restore it from a backup.") from exc
    if not vault.intact or vault.format_version != FORMAT_VERSION:
        raise VaultCorrupt(
            f"{path.name} is damaged (its vault record fails its checksum); "
            "restore it from a backup."
        )
    return KeyFile(vault, rows)


def insert_key(path: Path, row: KeyRow) -> None:
    with _connect(path) as conn, _transaction(conn):
        _insert(conn, "keys", asdict(row.sealed()))


def replace_key(path: Path, row: KeyRow) -> None:
    values = asdict(row.sealed())
    locator = values.pop("key_locator_hash")
    assignments = ", ".join(f"{name} = ?" for name in values)
    with _connect(path) as conn, _transaction(conn):
        cursor = conn.execute(
            f"UPDATE keys SET {assignments} WHERE key_locator_hash = ?",
            [*values.values(), locator],
        )
        if cursor.rowcount != 1:
            raise VaultCorrupt(f"{path.name} changed while Luna was updating it; try again.")


def touch_last_used(path: Path, row: KeyRow, when: str) -> None:
    """Record an unlock on `row`, unless the row changed since it was read (a passphrase
    changed meanwhile must not be overwritten with the old wrap)."""
    touched = replace(row, last_used_at=when).sealed()
    with _connect(path) as conn, _transaction(conn):
        conn.execute(
            "UPDATE keys SET last_used_at = ?, checksum = ? "
            "WHERE key_locator_hash = ? AND checksum = ?",
            (when, touched.checksum, row.key_locator_hash, row.checksum),
        )


def swap_key(path: Path, old_locator: str, new_row: KeyRow) -> None:
    """Replace one key by another in one transaction: never both valid, never neither."""
    with _connect(path) as conn, _transaction(conn):
        conn.execute("DELETE FROM keys WHERE key_locator_hash = ?", (old_locator,))
        _insert(conn, "keys", asdict(new_row.sealed()))


def delete_key(path: Path, locator: str) -> None:
    with _connect(path) as conn, _transaction(conn):
        conn.execute("DELETE FROM keys WHERE key_locator_hash = ?", (locator,))


def record_failure(path: Path, created_at: str, reason: str, locator: str | None,
                   host: str, client: str) -> None:
    """Remember a failed unlock until the next unlock can put it in the audit log.

    A failure must never hide the reason it happened, so a keys.db we cannot write
    (read-only folder, full disk) is ignored here.
    """
    try:
        with _connect(path) as conn, _transaction(conn):
            conn.execute(
                "INSERT INTO unlock_failures (created_at, reason, key_locator_hash, host, client)"
                " VALUES (?, ?, ?, ?, ?)",
                (created_at, reason, locator, host, client),
            )
            conn.execute(
                "DELETE FROM unlock_failures WHERE id <= "
                "(SELECT MAX(id) FROM unlock_failures) - ?",
                (MAX_REMEMBERED_FAILURES,),
            )
    except (LunaError, OSError):
        pass


@dataclass(frozen=True)
class UnlockFailure:
    id: int
    created_at: str
    reason: str
    key_locator_hash: str | None
    host: str
    client: str


def pending_failures(path: Path) -> list[UnlockFailure]:
    with _connect(path) as conn:
        rows = conn.execute(
            "SELECT id, created_at, reason, key_locator_hash, host, client"
            " FROM unlock_failures ORDER BY id"
        ).fetchall()
    return [UnlockFailure(*r) for r in rows]


def forget_failures(path: Path, up_to_id: int) -> None:
    with _connect(path) as conn, _transaction(conn):
        conn.execute("DELETE FROM unlock_failures WHERE id <= ?", (up_to_id,))

