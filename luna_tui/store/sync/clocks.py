"""Per-field clocks and tombstones: what decides which of two changes wins.

A clock is (hlc, device id); the greater wins. A field with no clock yet (a row from
before sync, or from a snapshot) loses to any change.

A change that sets every column of a row (an insert, mostly) is kept as one clock for
the row, column `*`, instead of one per column: ten thousand new entries are ten
thousand clock rows, not two hundred thousand. A field's clock is the later of its own
and the row's.
"""

from __future__ import annotations

from typing import Any

Clock = tuple[int, str]


WHOLE_ROW = "*"


def field_clocks(connection: Any, table: str, key: str) -> dict[str, Clock]:
    rows = connection.execute(
        "SELECT col, hlc, device FROM sync_field_clock WHERE tbl = ? AND row_key = ?",
        (table, key)).fetchall()
    return {col: (int(hlc), device) for col, hlc, device in rows}


_SET_FIELD_CLOCK = (
    "INSERT INTO sync_field_clock (tbl, row_key, col, hlc, device) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tbl, row_key, col) DO UPDATE SET hlc = excluded.hlc, "
    "device = excluded.device")


def set_field_clocks(connection: Any, rows: list[tuple[str, str, str, int, str]]) -> None:
    """Many at once: (table, key, column, hlc, device) each."""
    connection.executemany(_SET_FIELD_CLOCK, rows)


def clock_of(held: dict[str, Clock], column: str) -> Clock | None:
    """A field's clock from its row's clocks (field_clocks): its own or the row's."""
    own, row = held.get(column), held.get(WHOLE_ROW)
    if own is None or row is None:
        return own or row
    return max(own, row)


def clocks_to_set(table: str, key: str, columns: list[str], every_column: tuple[str, ...],
                  hlc: int, device: str) -> list[tuple[str, str, str, int, str]]:
    """The clock rows a change to `columns` leaves: one for the row when it sets them all."""
    if set(every_column) <= set(columns):
        return [(table, key, WHOLE_ROW, hlc, device)]
    return [(table, key, column, hlc, device) for column in columns]


def tombstone(connection: Any, table: str, key: str) -> Clock | None:
    row = connection.execute(
        "SELECT hlc, device FROM sync_tombstone WHERE tbl = ? AND row_key = ?",
        (table, key)).fetchone()
    return (int(row[0]), row[1]) if row else None


def set_tombstone(connection: Any, table: str, key: str, hlc: int, device: str) -> None:
    """A delete is final: the first one known is kept, and the row's field clocks go."""
    connection.execute(
        "INSERT INTO sync_tombstone (tbl, row_key, hlc, device) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tbl, row_key) DO NOTHING",
        (table, key, hlc, device))
    connection.execute("DELETE FROM sync_field_clock WHERE tbl = ? AND row_key = ?",
                       (table, key))
