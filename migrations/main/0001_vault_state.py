"""The vault's own state: settings, and the newest link of the audit chain."""


def up(migrator, db):
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
    # The chain starts before its first row: seq 0 with an all-zero MAC.
    db.execute_sql(
        "INSERT INTO audit_head (id, seq, mac, month, updated_at) VALUES "
        "(1, 0, ?, strftime('%Y-%m', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        ("0" * 64,),
    )
