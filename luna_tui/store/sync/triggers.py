"""Change capture: SQLite triggers that copy every write of a synced table into
`sync_outbox`, in the same transaction as the write.

Triggers rather than a change log the services fill: they catch every write path —
each service, the bulk journal and vitals imports (store/journal_bulk.py, which
suspends only the journal's own index triggers, and store/vitals_bulk.py), every
importer, a cascade of deletes from a patient to their rows — with no service able to
forget to log, and they commit or roll back with the write itself.

They are installed by `luna sync setup`, not by a migration, so a vault that doesn't
sync pays nothing; a synced vault re-checks them at every opening (`ensure`), so a
table or column a later migration adds is captured from then on.

An insert carries every column; an update the columns whose value changed; a delete a
tombstone. Nothing is captured while `sync_applying` has its row (changes being applied
from another device). Each change gets its clock here, from `luna_sync_hlc`.
"""

from __future__ import annotations

from typing import Any

from luna_tui.store.sync.hlc import FUNCTION
from luna_tui.store.sync.tables import SyncTable, synced_tables

PREFIX = "sync_capture_"
_NOT_APPLYING = "NOT EXISTS (SELECT 1 FROM sync_applying)"
_CLOCK = (f"{FUNCTION}(max(coalesce((SELECT hlc FROM sync_outbox ORDER BY seq DESC LIMIT 1), "
          "0), (SELECT last_hlc FROM sync_device)))")


def _q(name: str) -> str:
    return f'"{name}"'


def _row_key(table: SyncTable, row: str) -> str:
    if not table.numbered:
        return f"{row}.{_q(table.key)}"
    return (f"coalesce((SELECT row_key FROM sync_row_map WHERE tbl = '{table.name}' AND "
            f"local_id = {row}.{_q(table.key)}), (SELECT device_id FROM sync_device) || '/' "
            f"|| {row}.{_q(table.key)})")


def _values(table: SyncTable) -> str:
    return ", ".join(f"'{c}', new.{_q(c)}" for c in table.columns)


def _outbox(table: SyncTable, row: str, op: str, cols: str) -> str:
    return (f"INSERT INTO sync_outbox (tbl, row_key, op, cols, hlc) VALUES ('{table.name}', "
            f"{_row_key(table, row)}, '{op}', {cols}, {_CLOCK});")


def trigger_sql(table: SyncTable) -> dict[str, str]:
    """The three triggers of one table, by name."""
    name = f"{PREFIX}{table.name}"
    unchanged = ", ".join(
        f"CASE WHEN new.{_q(c)} IS old.{_q(c)} THEN '$.\"{c}\"' ELSE '$.\"~\"' END"
        for c in table.columns)
    changed_values = f"json_remove(json_object({_values(table)}), {unchanged})"
    changed = " OR ".join(f"new.{_q(c)} IS NOT old.{_q(c)}" for c in table.columns)
    return {
        f"{name}_insert": (
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table.name} "
            f"WHEN {_NOT_APPLYING} BEGIN "
            f"{_outbox(table, 'new', 'u', f'json_object({_values(table)})')} END"),
        f"{name}_update": (
            f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table.name} "
            f"WHEN {_NOT_APPLYING} AND ({changed}) BEGIN "
            f"{_outbox(table, 'new', 'u', changed_values)} END"),
        f"{name}_delete": (
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table.name} "
            f"WHEN {_NOT_APPLYING} BEGIN {_outbox(table, 'old', 'd', 'NULL')} END"),
    }


def expected(connection: Any) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for table in synced_tables(connection):
        wanted.update(trigger_sql(table))
    return wanted


def installed(connection: Any) -> dict[str, str]:
    rows = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, ?) = ?",
        (len(PREFIX), PREFIX)).fetchall()
    return dict(rows)


def up_to_date(connection: Any) -> bool:
    return installed(connection) == expected(connection)


def install(connection: Any) -> int:
    """Make the triggers what this Luna expects (inside the caller's write transaction);
    returns how many were (re)made."""
    wanted = expected(connection)
    have = installed(connection)
    made = 0
    for name, sql in have.items():
        if wanted.get(name) != sql:
            connection.execute(f"DROP TRIGGER {name}")
    for name, sql in wanted.items():
        if have.get(name) != sql:
            connection.execute(sql)
            made += 1
    return made


def remove(connection: Any) -> None:
    for name in installed(connection):
        connection.execute(f"DROP TRIGGER {name}")
