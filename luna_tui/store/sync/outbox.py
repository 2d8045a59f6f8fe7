"""What the triggers caught: folded into this device's clocks, then taken into a change
file and removed.

Folding comes first, before any other device's change is merged, so a field changed
here and not yet written out still holds its clock: an older change from elsewhere
cannot overwrite it.
"""

from __future__ import annotations

import json
from typing import Any

from luna_tui.store.sync import device_state
from luna_tui.store.sync.changes import Change
from luna_tui.store.sync.clocks import clocks_to_set, set_field_clocks, set_tombstone
from luna_tui.store.sync.tables import NUMBER_REFERENCES, describe


def fold(connection: Any) -> None:
    """Give this device's captured changes their clocks (idempotent: a watermark)."""
    device = device_state.this_device(connection)
    if device is None:
        return
    rows = connection.execute(
        "SELECT seq, tbl, row_key, op, cols, hlc FROM sync_outbox WHERE seq > ? ORDER BY seq",
        (device.folded_seq,)).fetchall()
    if not rows:
        return
    clocks = []
    columns: dict[str, tuple[str, ...]] = {}
    for _seq, table, key, op, cols, hlc in rows:
        if op == "d":
            set_tombstone(connection, table, key, hlc, device.device_id)
            continue
        if table not in columns:
            columns[table] = describe(connection, table).columns
        clocks += clocks_to_set(table, key, list(json.loads(cols)), columns[table], hlc,
                                device.device_id)
    set_field_clocks(connection, clocks)
    connection.execute("UPDATE sync_device SET folded_seq = ?, last_hlc = max(last_hlc, ?)",
                       (rows[-1][0], max(r[5] for r in rows)))


def pending_count(connection: Any) -> int:
    return int(connection.execute("SELECT count(*) FROM sync_outbox").fetchone()[0])


def take(connection: Any, limit: int | None = None) -> tuple[list[Change], int]:
    """The captured changes, oldest first, and the last outbox seq they cover."""
    device = device_state.this_device(connection)
    assert device is not None
    query = "SELECT seq, tbl, row_key, op, cols, hlc FROM sync_outbox ORDER BY seq"
    if limit:
        query += f" LIMIT {int(limit)}"
    rows = connection.execute(query).fetchall()
    changes = []
    for _seq, table, key, op, cols, hlc in rows:
        values = json.loads(cols) if cols is not None else None
        if values is not None:
            values = _named_references(connection, device.device_id, table, values)
        changes.append(Change(table, key, op, values, hlc))
    return changes, (rows[-1][0] if rows else 0)


def _named_references(connection: Any, device_id: str, table: str,
                      values: dict[str, Any]) -> dict[str, Any]:
    """A column holding another row's local number carries that row's sync key."""
    for (source, column), target in NUMBER_REFERENCES.items():
        if source == table and values.get(column) is not None:
            row = connection.execute(
                "SELECT row_key FROM sync_row_map WHERE tbl = ? AND local_id = ?",
                (target, values[column])).fetchone()
            values[column] = row[0] if row else f"{device_id}/{values[column]}"
    return values


def remove_taken(connection: Any, up_to: int) -> None:
    connection.execute("DELETE FROM sync_outbox WHERE seq <= ?", (up_to,))
