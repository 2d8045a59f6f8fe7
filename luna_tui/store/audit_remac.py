"""The audit chain carried over to a new MAC key (`luna keys rotate`).

Each row's MAC is an HMAC under a sub-key of the master key, so a new master key means
new MACs: keeping the old ones would mean keeping the old key to check them. The
caller first verifies the whole chain under the old key (store/audit_chain.py), then
this recomputes every link under the new key, in seq order, in the rotation's copies of
luna.db and the audit months: the rows themselves (seq, time, event, key, diff, host,
client) are unchanged, so the log reads exactly as before and a changed row fails the
walk as it always did. The copies in luna.db (outbox, head) and the repair anchors get
the new MACs too.

A row after a gap the walk accepts (an anchored or explained one) is chained to the row
before the gap: the walk takes such a row's MAC as given, and the rows after it check.
"""

from __future__ import annotations

from pathlib import Path

from luna_tui.store import rekey
from luna_tui.store.audit_chain import (
    GENESIS_MAC,
    ROW_COLUMNS,
    AuditRow,
    anchor_mac,
    canonical_row,
    row_mac,
)


def remac_chain(main_db: Path, main_key: bytes, months: list[Path], audit_key: bytes,
                new_mac_key: bytes) -> int:
    """Re-MAC every row of the copies; returns how many rows the chain holds."""
    main = rekey.open_keyed(main_db, main_key)
    month_conns = [rekey.open_keyed(path, audit_key) for path in months]
    try:
        rows = _every_row(main, month_conns)
        new_macs = _new_macs(rows, new_mac_key)
        for conn in month_conns:
            _store(conn, "audit", new_macs)
        _store(main, "audit_outbox", new_macs)
        _store_head_and_anchors(main, new_macs, new_mac_key)
        return len(new_macs)
    finally:
        for conn in (main, *month_conns):
            conn.close()


def _every_row(main, month_conns: list) -> dict[int, AuditRow]:  # noqa: ANN001
    """The chain by seq: the month files' rows, and the outbox's for rows not there yet
    (the verify before this showed both copies of a row agree)."""
    columns = ", ".join(ROW_COLUMNS)
    rows: dict[int, AuditRow] = {}
    for conn in month_conns:
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'audit'").fetchone()[0]:
            for values in conn.execute(f"SELECT {columns} FROM audit"):
                rows[values[0]] = AuditRow(*values)
    for values in main.execute(f"SELECT {columns} FROM audit_outbox"):
        rows.setdefault(values[0], AuditRow(*values))
    return rows


def _new_macs(rows: dict[int, AuditRow], key: bytes) -> dict[int, str]:
    previous, macs = GENESIS_MAC, {}
    for seq in sorted(rows):
        row = rows[seq]
        previous = row_mac(key, canonical_row(row.seq, row.created_at, row.event_name,
                                              row.key_locator_hash, row.record_locator,
                                              row.diff, row.host, row.client), previous)
        macs[seq] = previous
    return macs


def _store(conn, table: str, macs: dict[int, str]) -> None:  # noqa: ANN001
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    if table not in tables:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        seqs = [seq for (seq,) in conn.execute(f"SELECT seq FROM {table}").fetchall()]
        conn.executemany(f"UPDATE {table} SET mac = ? WHERE seq = ?",
                         [(macs[seq], seq) for seq in seqs])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _store_head_and_anchors(main, macs: dict[int, str], key: bytes) -> None:  # noqa: ANN001
    conn = main
    conn.execute("BEGIN IMMEDIATE")
    try:
        (head_seq,) = conn.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()
        if head_seq in macs:  # else the log ends before the head, a gap the walk explains
            conn.execute("UPDATE audit_head SET mac = ? WHERE id = 1", (macs[head_seq],))
        anchors = conn.execute("SELECT resume_seq, missing_from, reason, created_at "
                               "FROM audit_anchor").fetchall()
        for resume_seq, missing_from, reason, created_at in anchors:
            if resume_seq not in macs:
                continue  # an anchor for a row that is gone anchors nothing
            resume_mac = macs[resume_seq]
            conn.execute("UPDATE audit_anchor SET resume_mac = ?, mac = ? WHERE resume_seq = ?",
                         (resume_mac, anchor_mac(key, resume_seq, missing_from, resume_mac,
                                                 reason, created_at), resume_seq))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
