"""Per-field clocks and tombstones: what decides which of two changes wins.

A clock is (hlc, device id); the greater wins. A field with no clock yet (a row from
before sync, or from a snapshot) loses to any change.
"""

from __future__ import annotations

from typing import Any

Clock = tuple[int, str]


def field_clock(connection: Any, table: str, key: str, column: str) -> Clock | None:
    row = connection.execute(
        "SELECT hlc, device FROM sync_field_clock WHERE tbl = ? AND row_key = ? AND col = ?",
        (table, key, column)).fetchone()
    return (int(row[0]), row[1]) if row else None


def field_clocks(connection: Any, table: str, key: str) -> dict[str, Clock]:
    rows = connection.execute(
        "SELECT col, hlc, device FROM sync_field_clock WHERE tbl = ? AND row_key = ?",
        (table, key)).fetchall()
    return {col: (int(hlc), device) for col, hlc, device in rows}


def set_field_clock(connection: Any, table: str, key: str, column: str, hlc: int,
                    device: str) -> None:
    connection.execute(
        "INSERT INTO sync_field_clock (tbl, row_key, col, hlc, device) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (tbl, row_key, col) DO UPDATE SET hlc = excluded.hlc, "
        "device = excluded.device", (table, key, column, hlc, device))


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
