"""The audit log as a hash chain (Crosby & Wallach), one encrypted file per month.

Each row's `mac = HMAC-SHA256(audit-mac key, canonical(row) ‖ previous mac)`, with
seq counting up from 1 across all months and an all-zero MAC before the first row.
The newest (seq, mac) is also kept in luna.db (`audit_head`), so a log cut short is
noticed, and each append reads it inside the same IMMEDIATE transaction it writes in:
two Luna processes on one vault still make one straight chain.

Invariant: rows only ever go into the newest month file, so the month files hold
ascending, contiguous ranges of seq. An append that finds another process has moved
the chain into a later month retries after attaching that month.

WAL commits are atomic per file, not across attached files; SQLite commits luna.db
first. A crash between the two commits leaves the head one step ahead of the log,
which `verify_chain` reports like a cut-off tail: Luna cannot tell the two apart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from luna_tui.clock import Clock, month_key, utc_timestamp
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.store import migrate
from luna_tui.store.connection import VaultDatabase
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.vault_state import AuditHead

GENESIS_MAC = "0" * 64
SCHEMA = "audit"


def canonical_row(seq: int, created_at: str, event_name: str, key_locator_hash: str | None,
                  record_locator: str | None, diff: str | None, host: str, client: str) -> bytes:
    return json.dumps(
        [seq, created_at, event_name, key_locator_hash, record_locator, diff, host, client],
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


def row_mac(key: bytes, canonical: bytes, previous_mac: str) -> str:
    return hmac.new(key, canonical + bytes.fromhex(previous_mac), hashlib.sha256).hexdigest()


def encode_diff(diff: dict[str, object] | None) -> str | None:
    if diff is None:
        return None
    return json.dumps(diff, sort_keys=True, ensure_ascii=False, default=str)


class AuditChain:
    """Appends to the chain. Use only on the DB thread."""

    def __init__(self, db: VaultDatabase, layout: VaultLayout, db_key: bytes, mac_key: bytes,
                 clock: Clock, host: str, client: str) -> None:
        self.db = db
        self.layout = layout
        self._db_key = db_key
        self._mac_key = mac_key
        self.clock = clock
        self.host = host
        self.client = client
        self.attached_month: str | None = None
        self.warnings: list[str] = []

    def ensure_month_attached(self) -> None:
        """Attach the month new rows belong in. Outside any transaction (ATTACH can't
        run inside one)."""
        head = AuditHead.get_by_id(1)
        month = max(month_key(self.clock.now()), head.month)
        if month == self.attached_month:
            return
        path = self.layout.audit_db(month)
        if not path.exists() and month == head.month and head.seq > 0 and (
            self.attached_month is None
        ):
            self.warnings.append(
                f"The audit log is incomplete: audit/{month}.db is missing. "
                "Run `luna doctor` for details."
            )
        ensure_private_dir(self.layout.audit_dir)
        self.db.attach_encrypted(path, SCHEMA, self._db_key, create=True)
        if migrate.pending_migrations(self.db, migrate.AUDIT):
            with self.db.atomic():  # under the write lock: another process may be here too
                migrate.migrate(self.db, migrate.AUDIT, self.clock)
        self.attached_month = month

    def head_is_in_attached_month(self) -> bool:
        """Inside the write transaction: has another process moved to a later month?"""
        return AuditHead.get_by_id(1).month <= (self.attached_month or "")

    def append(self, event_name: str, key_locator_hash: str | None,
               record_locator: str | None = None, diff: dict[str, object] | None = None) -> int:
        """Add one row. Must run inside the write transaction."""
        if not self.db.in_transaction():
            raise RuntimeError("audit rows are appended inside a write transaction")
        head = AuditHead.get_by_id(1)
        seq = head.seq + 1
        created_at = utc_timestamp(self.clock.now())
        diff_text = encode_diff(diff)
        mac = row_mac(
            self._mac_key,
            canonical_row(seq, created_at, event_name, key_locator_hash, record_locator,
                          diff_text, self.host, self.client),
            head.mac,
        )
        AuditEvent.insert(
            seq=seq, created_at=created_at, event_name=event_name,
            key_locator_hash=key_locator_hash, record_locator=record_locator, diff=diff_text,
            host=self.host, client=self.client, mac=mac,
        ).execute()
        AuditHead.update(seq=seq, mac=mac, month=self.attached_month, updated_at=created_at).where(
            AuditHead.id == 1
        ).execute()
        return seq


@dataclass(frozen=True)
class ChainReport:
    rows: int
    months: int
    problem: str | None  # the first thing wrong, naming the row; None when the chain holds

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class _Row:
    seq: int
    created_at: str
    event_name: str
    key_locator_hash: str | None
    record_locator: str | None
    diff: str | None
    host: str
    client: str
    mac: str


def _read_month(path: Path, db_key: bytes) -> Iterator[_Row]:
    from sqlcipher3 import dbapi2 as sqlcipher

    from luna_tui.store.connection import raw_key_literal

    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f'PRAGMA key = "{raw_key_literal(db_key)}"')
        cursor = conn.execute(
            "SELECT seq, created_at, event_name, key_locator_hash, record_locator, diff, host,"
            " client, mac FROM audit ORDER BY seq"
        )
        for values in cursor:
            yield _Row(*values)
    finally:
        conn.close()


def verify_chain(audit_files: list[tuple[str, Path]], db_key: bytes, mac_key: bytes,
                 head_seq: int, head_mac: str,
                 current_head_seq: Callable[[], int] | None = None) -> ChainReport:
    """Walk every month in order and recompute every MAC; name the first bad row.

    `head_seq`/`head_mac` are read before the walk. Another Luna process may append
    while it runs: rows after the head are accepted when the head's row is the one the
    vault recorded and `current_head_seq()`, read after the walk, shows the vault has
    since recorded them too (luna.db commits first, so it is never behind a live log).
    """
    expected_seq, previous_mac, rows = 1, GENESIS_MAC, 0
    mac_at_head = GENESIS_MAC if head_seq == 0 else None
    for month, path in audit_files:
        where = f"audit/{month}.db"
        try:
            for row in _read_month(path, db_key):
                if row.seq != expected_seq:
                    return ChainReport(rows, len(audit_files), _gap(where, expected_seq, row.seq))
                canonical = canonical_row(row.seq, row.created_at, row.event_name,
                                          row.key_locator_hash, row.record_locator, row.diff,
                                          row.host, row.client)
                if row_mac(mac_key, canonical, previous_mac) != row.mac:
                    return ChainReport(
                        rows, len(audit_files),
                        f"{where}, row {row.seq} ({row.event_name} at {row.created_at}): "
                        "its MAC does not match — the row was changed, or a row before it was.",
                    )
                previous_mac, expected_seq, rows = row.mac, expected_seq + 1, rows + 1
                if row.seq == head_seq:
                    mac_at_head = row.mac
        except Exception as exc:  # noqa: BLE001 - any read failure is a damaged file
            from luna_tui.store.sqlite_errors import is_database_error

            if not is_database_error(exc):
                raise
            return ChainReport(rows, len(audit_files),
                               f"{where} can't be read with the vault's key ({exc}).")
    last_seq = expected_seq - 1
    if head_seq > last_seq:
        return ChainReport(
            rows, len(audit_files),
            f"The log ends at row {last_seq}, but the vault recorded row {head_seq}: "
            f"{head_seq - last_seq} newest row(s) were cut off (or lost in a crash).",
        )
    if head_seq == last_seq and head_mac != previous_mac:
        return ChainReport(rows, len(audit_files),
                           f"Row {last_seq} is not the row the vault recorded as the newest.")
    if head_seq < last_seq and not _appended_since(head_mac, mac_at_head, last_seq,
                                                   current_head_seq):
        return ChainReport(
            rows, len(audit_files),
            f"The log has rows after row {head_seq}, which the vault never recorded.",
        )
    return ChainReport(rows, len(audit_files), None)


def _appended_since(head_mac: str, mac_at_head: str | None, last_seq: int,
                    current_head_seq: Callable[[], int] | None) -> bool:
    """Were the rows after the head added by a live Luna during the walk?"""
    if current_head_seq is None or mac_at_head != head_mac:
        return False
    return current_head_seq() >= last_seq


def _gap(where: str, expected: int, found: int) -> str:
    if found > expected:
        if found == expected + 1:
            missing = f"row {expected} is"
        else:
            missing = f"rows {expected}–{found - 1} are"
        return f"{where}: {missing} missing before row {found} (rows or a month file were removed)."
    return f"{where}: row {found} is out of order (expected row {expected}); rows were moved."
