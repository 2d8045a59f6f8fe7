"""The audit log as a hash chain (Crosby & Wallach), one encrypted file per month.

Each row's `mac = HMAC-SHA256(audit-mac key, canonical(row) ‖ previous mac)`, with
seq counting up from 1 across all months and an all-zero MAC before the first row.
The newest (seq, mac) is also kept in luna.db (`audit_head`), so a log cut short is
noticed, and each append reads it inside the same IMMEDIATE transaction it writes in:
two Luna processes on one vault still make one straight chain.

Invariant: rows only ever go into the newest month file, so the month files hold
ascending, contiguous ranges of seq. An append that finds another process has moved
the chain into a later month retries after attaching that month.

Surviving a kill: SQLite commits luna.db and an attached file one after the other,
never as one unit. So `append` writes the row into luna.db's `audit_outbox`, in the
same transaction (and the same file) as the change it describes and the head; after
that commit, `flush` copies it into the month file in a second transaction, which
touches that file alone. A kill between the two leaves the row in the outbox, and the
next flush copies it: a crash can't lose a row. Outbox rows are removed at the start of
a later write transaction, once the month file is seen to hold them — never in the
transaction that copies them, since luna.db would commit the removal first. Anyone who
reads the log (doctor, a backup's verify) reads the outbox as its continuation.

Vaults older than the outbox could lose the newest row(s) of a transaction that way;
`audit_head.crash_safe_from` marks where the outbox began. A gap among rows before it is
reported as what such a crash leaves (see `verify_chain`), and `luna doctor --repair`
re-anchors the chain there: an `audit_anchor` lets the walk resume after the gap, and an
audit row says so. Removing rows on purpose is still found: an anchor needs the audit key
and an explicit repair, and any other gap is reported as rows removed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from peewee import fn

from luna_tui.clock import Clock, month_key, utc_timestamp
from luna_tui.errors import IntegrityFailure
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.store import migrate
from luna_tui.store.connection import VaultDatabase
from luna_tui.store.models.vault_state import AuditAnchor, AuditHead, AuditOutbox

GENESIS_MAC = "0" * 64
SCHEMA = "audit"
CRASH = "crash"  # why a gap was re-anchored: an older Luna killed between its two commits
MISSING_MONTH = "missing month"  # … or the newest month file was gone
ROW_COLUMNS = ("seq", "created_at", "event_name", "key_locator_hash", "record_locator", "diff",
               "host", "client", "mac")
OUTBOX_WHERE = "luna.db (rows on their way to the month file)"
# The most audit rows one transaction of a Luna before the outbox wrote (an unlock after a
# few failed attempts, a day's doses logged at once): a bigger old gap is not a crash's.
MAX_ROWS_OF_AN_OLD_TRANSACTION = 16


def canonical_row(seq: int, created_at: str, event_name: str, key_locator_hash: str | None,
                  record_locator: str | None, diff: str | None, host: str, client: str) -> bytes:
    return json.dumps(
        [seq, created_at, event_name, key_locator_hash, record_locator, diff, host, client],
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


def row_mac(key: bytes, canonical: bytes, previous_mac: str) -> str:
    return hmac.new(key, canonical + bytes.fromhex(previous_mac), hashlib.sha256).hexdigest()


def anchor_mac(key: bytes, resume_seq: int, missing_from: int, resume_mac: str, reason: str,
               created_at: str) -> str:
    canonical = json.dumps([resume_seq, missing_from, resume_mac, reason, created_at],
                           separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return hmac.new(key, b"luna/audit-anchor\0" + canonical, hashlib.sha256).hexdigest()


def encode_diff(diff: dict[str, object] | None) -> str | None:
    if diff is None:
        return None
    return json.dumps(diff, sort_keys=True, ensure_ascii=False, default=str)


def missing_month_sentence(month: str) -> str:
    return (
        f"The newest month of the audit log, audit/{month}.db, is missing, so Luna will not "
        "add to the log as if nothing happened. Put the file back from a backup (`luna "
        "backup restore`), or run `luna doctor --repair` to record that it is gone and go on."
    )


class AuditChain:
    """Appends to the chain. Use only on the DB thread.

    `accept_missing_month`: open even though the newest month file is gone (`luna doctor
    --repair` does, to record the loss); `missing_month` then names it.
    """

    def __init__(self, db: VaultDatabase, layout: VaultLayout, db_key: bytes, mac_key: bytes,
                 clock: Clock, host: str, client: str, *,
                 accept_missing_month: bool = False) -> None:
        self.db = db
        self.layout = layout
        self._db_key = db_key
        self._mac_key = mac_key
        self.clock = clock
        self.host = host
        self.client = client
        self.accept_missing_month = accept_missing_month
        self.missing_month: str | None = None
        self.first_row_after_missing_month: int | None = None
        self.attached_month: str | None = None
        self.rows_to_copy = False  # appended since the last flush
        self.warnings: list[str] = []

    # -- the month file -----------------------------------------------------------------

    def ensure_month_attached(self) -> None:
        """Attach the month new rows belong in. Outside any transaction (ATTACH can't
        run inside one). Rows a crash left in the outbox for another month go into their
        own month's file first."""
        head = AuditHead.get_by_id(1)
        month = max(month_key(self.clock.now()), head.month)
        others = self._outbox_months(besides=month)
        if month == self.attached_month and not others:
            return
        self._refuse_missing_head_month(head)
        for other in others:
            self._attach(other)
            self.flush()
            with self.db.atomic():
                self._forget_flushed()
        self._attach(month)

    def _outbox_months(self, besides: str) -> list[str]:
        query = (AuditOutbox.select(AuditOutbox.month).distinct()
                 .where(AuditOutbox.month != besides).order_by(AuditOutbox.month))
        return [row.month for row in query]

    def _refuse_missing_head_month(self, head: AuditHead) -> None:
        """The month holding the newest rows must be there: starting it afresh would
        hide that those rows are gone (only `luna doctor` would notice)."""
        path = self.layout.audit_db(head.month)
        # Emptied to 0 bytes is as gone as deleted: the head's month held rows.
        if head.seq == 0 or (path.exists() and path.stat().st_size > 0):
            return
        if self.accept_missing_month:
            # The file made afresh starts with what luna.db still holds of it, if anything.
            waiting = (AuditOutbox.select(fn.MIN(AuditOutbox.seq))
                       .where(AuditOutbox.month == head.month).scalar())
            self.missing_month = head.month
            self.first_row_after_missing_month = waiting or head.seq + 1
            return
        raise IntegrityFailure(missing_month_sentence(head.month))

    def _attach(self, month: str) -> None:
        path = self.layout.audit_db(month)
        ensure_private_dir(self.layout.audit_dir)
        self.db.attach_encrypted(path, SCHEMA, self._db_key, create=True)
        self.attached_month = month
        if migrate.pending_migrations(self.db, migrate.AUDIT):
            with self.db.atomic():  # under the write lock: another process may be here too
                migrate.migrate(self.db, migrate.AUDIT, self.clock)

    def head_is_in_attached_month(self) -> bool:
        """Inside the write transaction: has another process moved to a later month?"""
        return AuditHead.get_by_id(1).month <= (self.attached_month or "")

    # -- writing ------------------------------------------------------------------------

    def forget_copied_rows(self) -> None:
        """Inside a write transaction: drop outbox rows the month file already holds
        (committed there by an earlier transaction, so they can't be lost any more)."""
        self._forget_flushed()

    def _forget_flushed(self) -> None:
        self.db.execute_sql(
            "DELETE FROM main.audit_outbox WHERE month = ? AND EXISTS (SELECT 1 FROM "
            "audit.audit a WHERE a.seq = audit_outbox.seq AND a.mac = audit_outbox.mac)",
            (self.attached_month,),
        )

    def append(self, event_name: str, key_locator_hash: str | None,
               record_locator: str | None = None, diff: dict[str, object] | None = None) -> int:
        """Add one row to the outbox and move the head. Must run inside the write
        transaction; `flush` after the commit puts it into the month file."""
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
        self.rows_to_copy = True
        AuditOutbox.insert(
            seq=seq, month=self.attached_month, created_at=created_at, event_name=event_name,
            key_locator_hash=key_locator_hash, record_locator=record_locator, diff=diff_text,
            host=self.host, client=self.client, mac=mac,
        ).execute()
        AuditHead.update(seq=seq, mac=mac, month=self.attached_month, updated_at=created_at).where(
            AuditHead.id == 1
        ).execute()
        return seq

    def flush(self) -> None:
        """Copy the attached month's outbox rows that its file lacks into it: a
        transaction of its own, touching that file alone, after the change committed."""
        from luna_tui.fault_points import pause_here

        pause_here("audit.between-commits")
        self.rows_to_copy = False
        columns = ", ".join(ROW_COLUMNS)
        with self.db.atomic():
            self.db.execute_sql(
                f"INSERT INTO audit.audit ({columns}) SELECT {columns} FROM main.audit_outbox o"
                " WHERE o.month = ? AND NOT EXISTS (SELECT 1 FROM audit.audit a"
                " WHERE a.seq = o.seq) ORDER BY o.seq",
                (self.attached_month,),
            )

    # -- repairing ------------------------------------------------------------------------

    def anchor(self, gap: Gap, reason: str) -> None:
        """Inside a write transaction: let the walk resume after `gap` (see module doc).
        The caller records the audit row that says so, in the same transaction."""
        if gap.resume_seq is None or gap.resume_mac is None:
            raise ValueError("a gap at the end of the log is anchored by the row after it")
        created_at = utc_timestamp(self.clock.now())
        values = {"resume_seq": gap.resume_seq, "missing_from": gap.missing_from,
                  "resume_mac": gap.resume_mac, "reason": reason, "created_at": created_at}
        AuditAnchor.insert(mac=anchor_mac(self._mac_key, **values), **values).execute()


# -- reading and checking the chain ---------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    seq: int
    created_at: str
    event_name: str
    key_locator_hash: str | None
    record_locator: str | None
    diff: str | None
    host: str
    client: str
    mac: str


@dataclass(frozen=True)
class Gap:
    """Rows `missing_from`..`missing_to` are not in the log; the walk met row
    `resume_seq` next (None: the log ends there)."""

    missing_from: int
    missing_to: int
    resume_seq: int | None
    resume_mac: str | None
    where: str
    after: str | None  # when the row before the gap was written

    @property
    def count(self) -> int:
        return self.missing_to - self.missing_from + 1

    def rows_text(self) -> str:
        if self.count == 1:
            return f"row {self.missing_from} is"
        return f"rows {self.missing_from}–{self.missing_to} are"


@dataclass(frozen=True)
class ExplainedGap:
    gap: Gap
    reason: str  # CRASH or MISSING_MONTH


@dataclass(frozen=True)
class ChainReport:
    rows: int
    months: int
    problem: str | None  # the first thing wrong, naming the row; None when the chain holds
    explained: tuple[ExplainedGap, ...] = ()  # gaps a crash (or a lost month) accounts for
    anchored: tuple[Gap, ...] = ()  # gaps re-anchored by an earlier repair

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.explained


@dataclass(frozen=True)
class ChainInputs:
    """What the walk needs from luna.db, read at one moment (a session or a copy)."""

    head_seq: int
    head_mac: str
    crash_safe_from: int
    outbox: tuple[AuditRow, ...]
    anchors: tuple[AuditAnchor, ...]


def read_chain_inputs(query: Callable[[str], Iterable[tuple]]) -> ChainInputs:
    """From luna.db, through `query(sql) -> rows` (the session's connection or a raw one
    on a backup's copy). A luna.db from before the outbox (a backup made by an older
    Luna) has none of it: every row then predates crash-safe writing."""
    tables = {name for (name,) in query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "audit_outbox" not in tables:
        seq, mac = next(iter(query("SELECT seq, mac FROM audit_head WHERE id = 1")))
        return ChainInputs(int(seq), str(mac), int(seq) + 1, (), ())
    seq, mac, crash_safe_from = next(iter(query(
        "SELECT seq, mac, crash_safe_from FROM audit_head WHERE id = 1")))
    outbox = tuple(AuditRow(*values) for values in query(
        f"SELECT {', '.join(ROW_COLUMNS)} FROM audit_outbox ORDER BY seq"))
    anchors = tuple(AuditAnchor(resume_seq=r[0], missing_from=r[1], resume_mac=r[2],
                                reason=r[3], created_at=r[4], mac=r[5]) for r in query(
        "SELECT resume_seq, missing_from, resume_mac, reason, created_at, mac FROM audit_anchor"))
    return ChainInputs(int(seq), str(mac), int(crash_safe_from), outbox, anchors)


def _read_month(path: Path, db_key: bytes) -> Iterator[AuditRow]:
    from sqlcipher3 import dbapi2 as sqlcipher

    from luna_tui.store.connection import raw_key_literal

    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f'PRAGMA key = "{raw_key_literal(db_key)}"')
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            # A month a Luna process began but never wrote to (it stopped, busy, before
            # the file had its table): empty, not damaged. Missing rows still show as gaps.
            return
        cursor = conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM audit ORDER BY seq")
        for values in cursor:
            yield AuditRow(*values)
    finally:
        conn.close()


class _Walk:
    """Recomputes the chain row by row, filling gaps from the outbox, accepting gaps
    that carry a genuine anchor, and noting gaps an old crash can explain."""

    def __init__(self, mac_key: bytes, inputs: ChainInputs,
                 explained: Mapping[int, str]) -> None:
        self.mac_key = mac_key
        self.inputs = inputs
        self.outbox = {row.seq: row for row in inputs.outbox}
        self.anchors = {a.resume_seq: a for a in inputs.anchors if self._genuine(a)}
        self.explained_by_caller = explained
        self.expected, self.previous_mac, self.rows = 1, GENESIS_MAC, 0
        self.previous_created: str | None = None
        self.previous_where: str | None = None  # where the row before came from
        self.mac_at_head = GENESIS_MAC if inputs.head_seq == 0 else None
        self.explained: list[ExplainedGap] = []
        self.anchored: list[Gap] = []

    def _genuine(self, anchor: AuditAnchor) -> bool:
        wanted = anchor_mac(self.mac_key, anchor.resume_seq, anchor.missing_from,
                            anchor.resume_mac, anchor.reason, anchor.created_at)
        return hmac.compare_digest(wanted, anchor.mac)

    def take(self, row: AuditRow, where: str) -> str | None:
        """One row from a month file; the problem it shows, if any."""
        if row.seq > self.expected:
            problem = self._from_outbox(until=row.seq)
            if problem:
                return problem
        copy = self.outbox.get(row.seq)
        if copy is not None and copy.mac != row.mac:
            return (f"{where}, row {row.seq}: it differs from the copy of it kept in luna.db "
                    "— the row was changed.")
        if row.seq < self.expected:
            return (f"{where}: row {row.seq} is out of order (expected row {self.expected}); "
                    "rows were moved.")
        if row.seq > self.expected:
            return self._gap(row, where)
        return self._link(row, where)

    def finish(self) -> str | None:
        """After the last month file: the outbox rows that come next."""
        return self._from_outbox(until=None)

    def _from_outbox(self, until: int | None) -> str | None:
        while (until is None or self.expected < until) and self.expected in self.outbox:
            problem = self._link(self.outbox[self.expected], OUTBOX_WHERE)
            if problem:
                return problem
        return None

    def _link(self, row: AuditRow, where: str) -> str | None:
        canonical = canonical_row(row.seq, row.created_at, row.event_name, row.key_locator_hash,
                                  row.record_locator, row.diff, row.host, row.client)
        if row_mac(self.mac_key, canonical, self.previous_mac) != row.mac:
            return (f"{where}, row {row.seq} ({row.event_name} at {row.created_at}): "
                    "its MAC does not match — the row was changed, or a row before it was.")
        self._accept(row, where)
        return None

    def _accept(self, row: AuditRow, where: str) -> None:
        self.previous_mac, self.expected, self.rows = row.mac, row.seq + 1, self.rows + 1
        self.previous_created = row.created_at
        self.previous_where = where
        if row.seq == self.inputs.head_seq:
            self.mac_at_head = row.mac

    def _gap(self, row: AuditRow, where: str) -> str | None:
        """Rows are missing before `row`. Its own MAC can't be checked (it chains to a
        row that is gone), so it is taken only on an anchor or an explanation."""
        gap = Gap(self.expected, row.seq - 1, row.seq, row.mac, where, self.previous_created)
        anchor = self.anchors.get(row.seq)
        if anchor is not None and anchor.missing_from == gap.missing_from and (
                anchor.resume_mac == row.mac):
            self.anchored.append(gap)
        elif row.seq in self.explained_by_caller:
            self.explained.append(ExplainedGap(gap, self.explained_by_caller[row.seq]))
        elif self._an_old_crash_could_leave(gap, where):
            self.explained.append(ExplainedGap(gap, CRASH))
        else:
            return (f"{where}: {gap.rows_text()} missing before row {row.seq} "
                    "(rows or a month file were removed).")
        self._accept(row, where)
        return None

    def _an_old_crash_could_leave(self, gap: Gap, where: str | None) -> bool:
        """What the old crash window could lose: the newest rows of one transaction,
        written before the outbox began, in the month file of the row before them (or at
        the start of the next month's). A bigger gap, one at the very start of the log,
        or one across a missing month file is rows removed, however old."""
        return (gap.missing_to < self.inputs.crash_safe_from
                and gap.count <= MAX_ROWS_OF_AN_OLD_TRANSACTION
                and self.previous_where is not None
                and _same_or_next_month(self.previous_where, where))

    def tail_problem(self, current_head_seq: Callable[[], int] | None) -> str | None:
        last_seq = self.expected - 1
        head_seq, head_mac = self.inputs.head_seq, self.inputs.head_mac
        if head_seq > last_seq:
            gap = Gap(last_seq + 1, head_seq, None, None, "the end of the log",
                      self.previous_created)
            if self._an_old_crash_could_leave(gap, self.previous_where):
                self.explained.append(ExplainedGap(gap, CRASH))
                return None
            return (f"The log ends at row {last_seq}, but the vault recorded row {head_seq}: "
                    f"{gap.count} newest row(s) were cut off.")
        if head_seq == last_seq and head_mac != self.previous_mac:
            return f"Row {last_seq} is not the row the vault recorded as the newest."
        if head_seq < last_seq and not self._appended_since(last_seq, current_head_seq):
            return f"The log has rows after row {head_seq}, which the vault never recorded."
        return None

    def _appended_since(self, last_seq: int, current_head_seq: Callable[[], int] | None) -> bool:
        """Were the rows after the head added by a live Luna during the walk?"""
        if current_head_seq is None or self.mac_at_head != self.inputs.head_mac:
            return False
        return current_head_seq() >= last_seq


def verify_chain(audit_files: list[tuple[str, Path]], db_key: bytes, mac_key: bytes,
                 inputs: ChainInputs, current_head_seq: Callable[[], int] | None = None,
                 explained: Mapping[int, str] | None = None) -> ChainReport:
    """Walk every month in order and recompute every MAC; name the first bad row.

    `inputs` are read before the walk. Another Luna process may append while it runs:
    rows after the head are accepted when the head's row is the one the vault recorded
    and `current_head_seq()`, read after the walk, shows the vault has since recorded
    them too (luna.db commits first, so it is never behind a live log).
    `explained`: gaps the caller knows the cause of, by the seq of the row after them.
    """
    walk = _Walk(mac_key, inputs, explained or {})
    months = len(audit_files)
    for month, path in audit_files:
        where = f"audit/{month}.db"
        try:
            for row in _read_month(path, db_key):
                problem = walk.take(row, where)
                if problem:
                    return ChainReport(walk.rows, months, problem)
        except Exception as exc:  # noqa: BLE001 - any read failure is a damaged file
            from luna_tui.store.sqlite_errors import is_database_error

            if not is_database_error(exc):
                raise
            return ChainReport(walk.rows, months,
                               f"{where} can't be read with the vault's key ({exc}).")
    problem = walk.finish() or walk.tail_problem(current_head_seq)
    return ChainReport(walk.rows, months, problem, tuple(walk.explained), tuple(walk.anchored))


def _same_or_next_month(before: str, after: str | None) -> bool:
    """Are two places of the walk the same month file, or consecutive months' files?
    (The outbox, which has no month, counts as the same.)"""
    months = [re.search(r"(\d{4})-(\d{2})\.db", place or "") for place in (before, after)]
    if months[0] is None or months[1] is None:
        return True
    (year, month), (next_year, next_month) = (
        (int(found.group(1)), int(found.group(2))) for found in months)
    return (next_year, next_month) in ((year, month), (year + (month == 12), month % 12 + 1))


def explained_gap_sentence(explained: ExplainedGap) -> str:
    """How doctor and a backup's verify put a gap with a known cause into words."""
    gap = explained.gap
    if explained.reason == MISSING_MONTH:
        return (f"{gap.rows_text()} gone with a month file that went missing, before row "
                f"{gap.resume_seq}.")
    after = f", after {gap.after[:16].replace('T', ' ')} UTC" if gap.after else ""
    where = "At the end of the log" if gap.resume_seq is None else (
        f"{gap.where}: before row {gap.resume_seq}")
    return (f"{where}, {gap.rows_text()} missing{after}. An older Luna killed in the "
            "instant between its two commits leaves exactly this gap (not a sign of tampering "
            "by itself); if no Luna was stopped then, rows were removed.")
