"""The vault's one SQLCipher connection: luna.db, with stats.db and the current audit
month attached under their own keys.

Keys are raw 256-bit sub-keys (`x'…'`), so SQLCipher runs no PBKDF2 of its own: the
Argon2id at unlock is the only slow step. They never pass through Peewee's
`execute_sql`, which logs statements and parameters at DEBUG level.
"""

from __future__ import annotations

import threading
from pathlib import Path

import peewee
from playhouse.sqlcipher_ext import SqlCipherDatabase

from luna_tui.errors import VaultCorrupt
from luna_tui.home import create_private_file, make_private

BUSY_TIMEOUT_SECONDS = 5.0
BUSY_TIMEOUT_ENV = "LUNA_BUSY_TIMEOUT"


def busy_timeout_seconds() -> float:
    """How long to wait for another Luna process before saying the vault is busy."""
    import os

    try:
        return max(0.0, float(os.environ.get(BUSY_TIMEOUT_ENV, BUSY_TIMEOUT_SECONDS)))
    except ValueError:
        return BUSY_TIMEOUT_SECONDS

# Seed 002's pragmas, plus secure_delete (deleted text is overwritten, not left in
# free pages) and temp_store=MEMORY (sorts and temp tables never touch the disk).
# synchronous=FULL, not NORMAL, on luna.db and the audit month: each commit is on the
# disk before the next begins, so a power cut keeps a prefix of the writes in both files.
# With NORMAL it could keep luna.db's later commit (the outbox tidied) and lose the
# audit file's earlier one (the row copied), or the reverse: a gap or a row past the
# head. Measured: saving an entry 2.5 → 3.1 ms (budget 10 ms).
MAIN_PRAGMAS = (
    ("foreign_keys", "ON"),
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("cache_size", "1000"),
    ("temp_store", "MEMORY"),
    ("secure_delete", "ON"),
)
ATTACHED_PRAGMAS = (("journal_mode", "WAL"), ("synchronous", "FULL"), ("secure_delete", "ON"))


def raw_key_literal(key: bytes) -> str:
    """SQLCipher's raw-key syntax: the key is used as is, with no key derivation."""
    if len(key) != 32:
        raise ValueError("a database key is 32 bytes")
    return f"x'{key.hex()}'"


class VaultDatabase(SqlCipherDatabase):
    """A Peewee database keyed with a raw key, usable only from the thread that owns it."""

    def __init__(self, path: Path, key: bytes, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        # IMMEDIATE: a write transaction takes the write lock on every attached file at
        # BEGIN, so an audit append reads the previous MAC under the same lock it writes.
        super().__init__(str(path), timeout=busy_timeout, lock_type="IMMEDIATE")
        self._key_literal = raw_key_literal(key)
        self.owner_thread = threading.get_ident()
        self.attached: dict[str, Path] = {}
        self.raw_connection = None  # for interrupt(), the one call safe from another thread

    def _connect(self):  # noqa: ANN202 - Peewee's signature
        if threading.get_ident() != self.owner_thread:
            raise RuntimeError("vault database used outside its DB thread")
        from sqlcipher3 import dbapi2 as sqlcipher

        conn = sqlcipher.connect(
            self.database, timeout=self._timeout, isolation_level=None, **self.connect_params
        )
        try:
            # SQLCipher logs decryption failures to stderr by default; Luna reports
            # them itself, in a sentence.
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f'PRAGMA key = "{self._key_literal}"')
            for name, value in MAIN_PRAGMAS:
                conn.execute(f"PRAGMA {name} = {value}")
            self._add_conn_hooks(conn)
        except Exception:
            conn.close()
            raise
        self.raw_connection = conn
        return conn

    def rollback(self):  # noqa: ANN201 - Peewee's signature
        """After a full disk or an I/O error SQLite may have rolled the transaction back
        by itself; Peewee's ROLLBACK would then fail with "no transaction is active" and
        hide the error that matters (a full disk would read as a bug)."""
        connection = self.raw_connection
        if connection is not None and not connection.in_transaction:
            return None
        return super().rollback()

    def savepoint(self):  # noqa: ANN201 - Peewee's signature
        return _Savepoint(self)

    def interrupt(self) -> None:
        """Stop the statement running on the DB thread (Ctrl-C); its transaction rolls
        back. sqlite3_interrupt is the one connection call safe from another thread."""
        if self.raw_connection is not None:
            self.raw_connection.interrupt()

    def forget_key(self) -> None:
        self._key_literal = ""
        self.raw_connection = None

    def attach_encrypted(self, path: Path, schema: str, key: bytes, *, create: bool) -> None:
        """ATTACH `path` as `schema`; the key goes in as a bound parameter."""
        if schema in self.attached:
            self.detach_encrypted(schema)
        if create and not path.exists():
            try:
                create_private_file(path)
            except FileExistsError:
                pass  # another Luna process made it a moment ago: attach it all the same
        conn = self.connection()
        conn.execute("ATTACH DATABASE ? AS " + _identifier(schema) + " KEY ?",
                     (str(path), raw_key_literal(key)))
        self.attached[schema] = path
        for name, value in ATTACHED_PRAGMAS:
            conn.execute(f"PRAGMA {_identifier(schema)}.{name} = {value}")

    def detach_encrypted(self, schema: str) -> None:
        self.connection().execute("DETACH DATABASE " + _identifier(schema))
        self.attached.pop(schema, None)

    def table_count(self, schema: str = "main") -> int:
        cursor = self.connection().execute(
            f"SELECT count(*) FROM {_identifier(schema)}.sqlite_master"
        )
        return int(cursor.fetchone()[0])


class _Savepoint(peewee._savepoint):
    """A nested atomic block whose rollback is a no-op once SQLite has rolled back the
    whole transaction by itself (a full disk mid-statement): ROLLBACK TO would fail with
    "no such savepoint" and hide the full disk (as VaultDatabase.rollback does for the
    outer transaction)."""

    def rollback(self, begin: bool = True) -> None:
        connection = self.db.raw_connection
        if connection is not None and not connection.in_transaction:
            return
        super().rollback(begin)


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad schema name {name!r}")
    return name


def open_main(path: Path, key: bytes, *, create: bool,
              busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> VaultDatabase:
    """Connect to luna.db (on the calling thread, which then owns it).

    An existing vault's luna.db must be there and not empty: SQLCipher would happily
    treat a missing or zero-byte file as a new database and start over.
    """
    if create:
        create_private_file(path)
    elif not path.exists():
        raise VaultCorrupt(
            f"{path.name} is missing from the vault; restore it from a backup."
        )
    elif path.stat().st_size == 0:
        raise VaultCorrupt(f"{path.name} is empty (zero bytes); restore it from a backup.")
    database = VaultDatabase(path, key, busy_timeout=busy_timeout)
    database.connect()
    make_private(path)
    return database
