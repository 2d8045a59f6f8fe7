"""The vault's own state: settings, and the newest link of the audit chain.

The head's month and time come from Luna's clock (`now`, given by Luna's migration
runner), never from SQLite's wall clock: the audit chain takes the later of the head's
month and the clock's, so a head stamped by another clock would put a test's (or a
restored vault's) rows in the wrong month file.
"""

import datetime


def up(migrator, db, now):
    db.execute_sql(
        """CREATE TABLE config (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"""
    )
    db.execute_sql(
        """CREATE TABLE audit_head (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    mac VARCHAR(255) NOT NULL,
    month VARCHAR(255) NOT NULL,
    updated_at TEXT NOT NULL
)"""
    )
    # The chain starts before its first row: seq 0 with an all-zero MAC. The stored
    # forms (UTC month `2026-11`, `2026-11-22T09:30:00.000Z`) are frozen here, so this
    # script never changes when the app's clock module does.
    moment = now.astimezone(datetime.UTC)
    db.execute_sql(
        "INSERT INTO audit_head (id, seq, mac, month, updated_at) VALUES (1, 0, ?, ?, ?)",
        ("0" * 64, moment.strftime("%Y-%m"),
         moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"),
    )
