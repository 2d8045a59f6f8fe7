"""Audit rows that survive any kill: an outbox in luna.db, and anchors for old gaps.

SQLite commits luna.db and the audit month file one after the other, never as one
unit. So each audit row is first written into `audit_outbox`, in the same luna.db
transaction as the change it describes and the chain's head; a second transaction
then copies it into the month file. A kill between the two leaves the row in luna.db,
and the next write copies it over: the log can no longer lose a row to a crash.

`audit_head.crash_safe_from` is the first row written this way. A gap among older
rows may be what the old crash window left behind (doctor says so, in words distinct
from tampering); `luna doctor --repair` then records an `audit_anchor`, so the walk
resumes after the gap, and an audit row says it did.
"""


def up(migrator, db):
    db.execute_sql(
        """CREATE TABLE audit_outbox (
    seq INTEGER NOT NULL PRIMARY KEY,
    month TEXT NOT NULL,
    created_at TEXT NOT NULL,
    event_name TEXT NOT NULL,
    key_locator_hash TEXT,
    record_locator TEXT,
    diff TEXT,
    host TEXT NOT NULL,
    client TEXT NOT NULL,
    mac TEXT NOT NULL
)"""
    )
    db.execute_sql(
        """CREATE TABLE audit_anchor (
    resume_seq INTEGER NOT NULL PRIMARY KEY,
    missing_from INTEGER NOT NULL,
    resume_mac TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    mac TEXT NOT NULL
)"""
    )
    db.execute_sql(
        "ALTER TABLE audit_head ADD COLUMN crash_safe_from INTEGER NOT NULL DEFAULT 1"
    )
    db.execute_sql("UPDATE audit_head SET crash_safe_from = seq + 1")
