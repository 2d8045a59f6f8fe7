"""Adding many vital readings at once: one prepared statement per batch (executemany),
each row kept only if its id is new. The service checks every value first."""

from __future__ import annotations

from collections.abc import Sequence

from luna_tui.store.models.base import database

COLUMNS = ("id", "patient_id", "kind", "value", "value2", "unit", "measured_at", "notes",
           "created_at", "updated_at")


def insert_new_readings(rows: Sequence[Sequence[object]]) -> int:
    """Insert rows given in COLUMNS order; a row whose id is already here is left alone
    (importing a file twice adds nothing). Returns how many were added."""
    if not rows:
        return 0
    cursor = database.cursor()
    cursor.executemany(
        f"INSERT INTO vitals ({', '.join(COLUMNS)}) VALUES "
        f"({', '.join('?' for _ in COLUMNS)}) ON CONFLICT (id) DO NOTHING", rows)
    return cursor.rowcount
