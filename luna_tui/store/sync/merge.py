"""Merging another device's changes into this vault (inside the caller's transaction,
with `sync_applying` holding its row so nothing is captured again).

- An edit wins field by field when its clock is newer than the field's (last writer
  wins per field): an edit on one device and a star on another both survive.
- A delete is final: the row goes, with its children as the schema cascades, and no
  later change brings it back (the device that deleted never sees one that would).
- Rows only ever added (doses, vitals, messages) are a union: each has its own key.
  Where a unique index allows only one of two (a dose logged for the same slot on two
  devices), the one with the smaller key stays, on every device alike.
- A change for a row not here yet waits in `sync_pending` until the row can be inserted
  whole (its insert, its parent, or its attachment file has arrived).

The outcome depends only on the set of changes, not their order: that is the property
tests/test_sync_merge.py checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luna_tui.store.attachment_files import storage_path
from luna_tui.store.sync.changes import Change
from luna_tui.store.sync.clocks import (
    clock_of,
    clocks_to_set,
    field_clocks,
    set_field_clocks,
    set_tombstone,
    tombstone,
)
from luna_tui.store.sync.tables import NUMBER_REFERENCES, SyncTable

BlobFinder = Callable[[str], Path | None]
_SAFE_ID = re.compile(r"[0-9A-Za-z_-]{2,64}")  # an attachment id, as a file name
ATTACHMENTS = "attachments"


@dataclass
class MergeResult:
    applied: int = 0  # changes that changed something
    waiting: int = 0  # rows still pending after this merge
    files_to_remove: list[Path] = field(default_factory=list)  # after the commit


class Merger:
    def __init__(self, connection: Any, own_device: str, tables: list[SyncTable],
                 home: Path, find_blob: BlobFinder) -> None:
        self.connection = connection
        self.own_device = own_device
        self.tables = {t.name: t for t in tables}
        self.home = home
        self.find_blob = find_blob
        self.result = MergeResult()

    # -- one change -----------------------------------------------------------------

    def merge(self, change: Change, origin: str) -> None:
        table = self.tables.get(change.table)
        if table is None:  # a table this vault no longer syncs
            return
        if change.op == "d":
            self._delete(table, change, origin)
        else:
            self._update(table, change, origin)

    def _delete(self, table: SyncTable, change: Change, origin: str) -> None:
        if tombstone(self.connection, table.name, change.key) is not None:
            return
        set_tombstone(self.connection, table.name, change.key, change.hlc, origin)
        self.connection.execute("DELETE FROM sync_pending WHERE tbl = ? AND row_key = ?",
                                (table.name, change.key))
        local = self._locate(table, change.key)
        if local is not None:
            if table.name == ATTACHMENTS:
                self._forget_attachment_file(local)
            self.connection.execute(
                f'DELETE FROM {table.name} WHERE "{self._local_column(table)}" = ?', (local,))
        self.result.applied += 1

    def _update(self, table: SyncTable, change: Change, origin: str) -> None:
        if tombstone(self.connection, table.name, change.key) is not None:
            return
        clock = (change.hlc, origin)
        held = field_clocks(self.connection, table.name, change.key)
        winners = {}
        for column, value in (change.cols or {}).items():
            if column not in table.columns:
                continue  # a column this schema doesn't have (checked by version first)
            if table.name == ATTACHMENTS and column == "storage_path" and \
                    value != storage_path(change.key):
                continue  # a file's place is its id's, never one another device chose
            mine = clock_of(held, column)
            if mine is None or clock > mine:
                winners[column] = value
        if not winners:
            return
        set_field_clocks(self.connection, clocks_to_set(
            table.name, change.key, list(winners), table.columns, *clock))
        local = self._locate(table, change.key)
        if local is not None:
            self._update_row(table, change.key, local, self._local_values(table, winners))
        else:
            self._add_pending(table, change.key, winners)
            self._try_insert(table, change.key)
        self.result.applied += 1

    def _update_row(self, table: SyncTable, key: str, local: Any,
                    values: dict[str, Any]) -> None:
        assignments = ", ".join(f'"{c}" = ?' for c in values)
        statement = f'UPDATE {table.name} SET {assignments} WHERE "{table.key}" = ?'
        self.connection.execute("SAVEPOINT sync_update")
        try:
            self.connection.execute(statement, (*values.values(), local))
        except Exception as exc:
            self.connection.execute("ROLLBACK TO sync_update")
            self.connection.execute("RELEASE sync_update")
            columns = _unique_columns(str(exc), table.name)
            if not _constraint(exc) or table.numbered or not columns:
                raise  # the file waits (engine.Syncer: a parent from another device)
            listed = ", ".join(f'"{c}"' for c in columns)
            current = self.connection.execute(
                f'SELECT {listed} FROM {table.name} WHERE "{table.key}" = ?',
                (local,)).fetchone()
            wanted = {c: values.get(c, current[i]) for i, c in enumerate(columns)}
            if self._drop_loser(table, key, wanted, columns) != key:
                self.connection.execute(statement, (*values.values(), local))
            return
        self.connection.execute("RELEASE sync_update")

    def _drop_loser(self, table: SyncTable, key: str, values: dict[str, Any],
                    columns: list[str]) -> str | None:
        """Of `key` and the row already holding `values` in the unique `columns`, the one
        with the greater key is deleted as by a delete; returns it (None: no such row)."""
        where = " AND ".join(f'"{c}" IS ?' for c in columns)
        row = self.connection.execute(
            f'SELECT "{table.key}" FROM {table.name} WHERE {where}',
            tuple(values[c] for c in columns)).fetchone()
        if row is None or str(row[0]) == key:
            return None
        loser = max(str(row[0]), key)
        set_tombstone(self.connection, table.name, loser, 0, "")
        self.connection.execute("DELETE FROM sync_pending WHERE tbl = ? AND row_key = ?",
                                (table.name, loser))
        if table.name == ATTACHMENTS:
            self._forget_attachment_file(loser)
        self.connection.execute(f'DELETE FROM {table.name} WHERE "{table.key}" = ?', (loser,))
        return loser

    # -- rows not here yet ------------------------------------------------------------

    def _add_pending(self, table: SyncTable, key: str, values: dict[str, Any]) -> None:
        row = self.connection.execute(
            "SELECT cols FROM sync_pending WHERE tbl = ? AND row_key = ?",
            (table.name, key)).fetchone()
        merged = {**(json.loads(row[0]) if row else {}), **values}
        self.connection.execute(
            "INSERT INTO sync_pending (tbl, row_key, cols) VALUES (?, ?, ?) "
            "ON CONFLICT (tbl, row_key) DO UPDATE SET cols = excluded.cols",
            (table.name, key, json.dumps(merged, sort_keys=True)))

    def _try_insert(self, table: SyncTable, key: str) -> bool:
        row = self.connection.execute(
            "SELECT cols FROM sync_pending WHERE tbl = ? AND row_key = ?",
            (table.name, key)).fetchone()
        if row is None:
            return False
        values = self._local_values(table, json.loads(row[0]))
        if not table.numbered:
            values[table.key] = key
        if table.name == ATTACHMENTS and not self._bring_attachment_file(key, values):
            return False
        columns = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join("?" for _ in values)
        self.connection.execute("SAVEPOINT sync_insert")
        try:
            cursor = self.connection.execute(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", tuple(values.values()))
        except Exception as exc:  # a parent not here yet, a NOT NULL column not yet known
            self.connection.execute("ROLLBACK TO sync_insert")
            self.connection.execute("RELEASE sync_insert")
            if not _constraint(exc):
                raise
            return self._one_of_two(table, key, values, str(exc))
        self.connection.execute("RELEASE sync_insert")
        if table.numbered:
            self.connection.execute(
                "INSERT INTO sync_row_map (tbl, row_key, local_id) VALUES (?, ?, ?)",
                (table.name, key, cursor.lastrowid))
        self.connection.execute("DELETE FROM sync_pending WHERE tbl = ? AND row_key = ?",
                                (table.name, key))
        return True

    def _one_of_two(self, table: SyncTable, key: str, values: dict[str, Any],
                    error: str) -> bool:
        """Two devices made the same thing twice (a dose logged for one slot on each, one
        file attached to a record on both): a unique index allows one. The row with the
        smaller key stays, on every device alike; the other is deleted as if by a delete
        (so no later change brings it back). True when the pending row went in."""
        columns = _unique_columns(error, table.name)
        if table.numbered or not columns or any(c not in values for c in columns):
            return False  # not a uniqueness this rule settles: it waits
        loser = self._drop_loser(table, key, values, columns)
        if loser is None:
            return False
        if loser == key:  # the row here stays; the one that arrived is dropped
            if table.name == ATTACHMENTS and values.get("storage_path") == storage_path(key):
                self.result.files_to_remove.append(self.home / values["storage_path"])
            return False
        return self._try_insert(table, key)

    def settle_pending(self) -> None:
        """Insert what can be inserted now, parents before children, until nothing moves."""
        while True:
            rows = self.connection.execute(
                "SELECT tbl, row_key FROM sync_pending ORDER BY tbl, row_key").fetchall()
            moved = sum(self._try_insert(self.tables[t], k) for t, k in rows if t in self.tables)
            if not moved:
                self.result.waiting = len(rows)
                return

    # -- keys and values ------------------------------------------------------------

    def _local_column(self, table: SyncTable) -> str:
        return table.key

    def _locate(self, table: SyncTable, key: str) -> Any:
        """The row's value in its key column here, or None when it isn't here."""
        if not table.numbered:
            row = self.connection.execute(
                f'SELECT 1 FROM {table.name} WHERE "{table.key}" = ?', (key,)).fetchone()
            return key if row else None
        local = self._local_number(table.name, key)
        if local is None:
            return None
        row = self.connection.execute(
            f'SELECT 1 FROM {table.name} WHERE "{table.key}" = ?', (local,)).fetchone()
        return local if row else None

    def _local_number(self, table_name: str, key: str) -> int | None:
        row = self.connection.execute(
            "SELECT local_id FROM sync_row_map WHERE tbl = ? AND row_key = ?",
            (table_name, key)).fetchone()
        if row:
            return int(row[0])
        device, _, number = key.rpartition("/")
        if device == self.own_device and number.isdigit():
            return int(number)
        return None

    def _local_values(self, table: SyncTable, values: dict[str, Any]) -> dict[str, Any]:
        """Sync keys in number columns become this device's numbers (None if unknown)."""
        local = dict(values)
        for (source, column), target in NUMBER_REFERENCES.items():
            if source == table.name and local.get(column) is not None:
                target_table = self.tables.get(target)
                local[column] = (self._locate(target_table, str(local[column]))
                                 if target_table else None)
        return local

    # -- attachment files -----------------------------------------------------------

    def _bring_attachment_file(self, attachment_id: str, values: dict[str, Any]) -> bool:
        """Copy the attachment's encrypted file from the sync folder (it stays encrypted:
        every device has the same attachments key). False while it has not arrived."""
        relative = values.get("storage_path")
        if not _SAFE_ID.fullmatch(attachment_id) or relative != storage_path(attachment_id):
            return False  # never a path of another device's choosing: it waits, unused
        target = self.home / relative
        if target.exists():
            return True
        source = self.find_blob(attachment_id)
        if source is None:
            return False
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.sync-{os.getpid()}")
        shutil.copyfile(source, temp)
        os.chmod(temp, 0o600)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
        return True

    def _forget_attachment_file(self, attachment_id: str) -> None:
        row = self.connection.execute("SELECT storage_path FROM attachments WHERE id = ?",
                                      (attachment_id,)).fetchone()
        if row and row[0] == storage_path(attachment_id):
            self.result.files_to_remove.append(self.home / row[0])


def _constraint(exc: Exception) -> bool:
    return type(exc).__name__ == "IntegrityError"


def _unique_columns(error: str, table: str) -> list[str]:
    """The columns SQLite names in "UNIQUE constraint failed: t.a, t.b"."""
    prefix = "UNIQUE constraint failed: "
    if not error.startswith(prefix):
        return []
    named = [part.strip() for part in error[len(prefix):].split(",")]
    return [n.split(".", 1)[1] for n in named if n.startswith(f"{table}.")]
