"""The audit log of one month (attached as schema `audit`)."""


def up(migrator, db):
    db.execute_sql(
        """CREATE TABLE audit.audit (
    seq INTEGER NOT NULL PRIMARY KEY,
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
