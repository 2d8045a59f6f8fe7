"""Sync's own tables (README, "Sync between your devices"): empty and idle until
`luna sync setup`.

The capture triggers are not made here: `luna sync setup` installs them (and every
opening of a synced vault re-checks them, store/sync/triggers.py), so a vault that
never syncs pays nothing on a write.

- `sync_device`: this device's id, its folder, the sequence number its next change
  file gets, how far the outbox is folded into the clocks, and the newest hybrid
  logical clock it has seen (one row; none until setup).
- `sync_applying`: a row only while changes from another device are being applied,
  inside that transaction; the triggers capture nothing while it has one, so applied
  rows never come back out of this device's outbox.
- `sync_outbox`: what the triggers caught: per row, the changed columns' new values
  (a JSON object) or a delete, each with its clock, until a change file carries it.
- `sync_field_clock`: per table, row and column, the clock of the value this device
  holds: a change with a newer clock wins that field (last writer wins per field).
- `sync_tombstone`: deleted rows; a delete is final.
- `sync_pending`: rows known only in part (a change whose insert, parent or attachment
  has not arrived yet), waiting to be inserted whole.
- `sync_row_map`: rows whose primary key is a local number (messages): the sync key
  another device gave it, and the number it has here.
- `sync_peer`: each other device: the last change file applied from it, and when.
- `sync_key_seen`, `sync_key_removed`: keys.db rows (by locator) this device last shared,
  and rows removed on any device (a revoked key, a changed passphrase's old wrap), so a
  removal reaches every device instead of coming back from one that still has the row.
"""

STATEMENTS = [
    """CREATE TABLE sync_device (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    next_seq INTEGER NOT NULL DEFAULT 1,
    folded_seq INTEGER NOT NULL DEFAULT 0,
    last_hlc INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
)""",
    "CREATE TABLE sync_applying (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1))",
    """CREATE TABLE sync_outbox (
    seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('u', 'd')),
    cols TEXT,
    hlc INTEGER NOT NULL
)""",
    """CREATE TABLE sync_field_clock (
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    col TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (tbl, row_key, col)
) WITHOUT ROWID""",
    """CREATE TABLE sync_tombstone (
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (tbl, row_key)
) WITHOUT ROWID""",
    """CREATE TABLE sync_pending (
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    cols TEXT NOT NULL CHECK (json_valid(cols)),
    PRIMARY KEY (tbl, row_key)
) WITHOUT ROWID""",
    """CREATE TABLE sync_row_map (
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    local_id INTEGER NOT NULL,
    PRIMARY KEY (tbl, row_key)
) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX sync_row_map_local ON sync_row_map (tbl, local_id)",
    """CREATE TABLE sync_peer (
    device_id TEXT NOT NULL PRIMARY KEY,
    applied_seq INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    forgotten INTEGER NOT NULL DEFAULT 0 CHECK (forgotten IN (0, 1))
)""",
    "CREATE TABLE sync_key_seen (locator TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE sync_key_removed (locator TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
