"""Adding many vital readings at once: one prepared statement per batch (executemany),
each row kept only if its id is new. The service checks every value first."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from luna_tui.store.journal_bulk import BULK_CACHE_KIB
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


@contextmanager
def bulk_cache() -> Iterator[None]:
    """A bigger page cache for one import's transaction. Each new reading's id lands at
    a random place in the id index; with the usual 1,000 pages most inserts past a few
    hundred thousand readings read (and decrypt) a page again."""
    normal = database.execute_sql("PRAGMA cache_size").fetchone()[0]
    database.execute_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA cache_size = {int(normal)}")
