"""Adding many journal entries in one transaction, fast: one prepared statement for
all rows (executemany), with the per-row index triggers suspended and the full-text
and tag indexes filled once at the end. The service checks every value first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from luna_tui.store.models.base import database
from luna_tui.store.models.journal import JournalEntry


def insert_entries(batch: list[dict[str, object]]) -> int:
    """Insert validated rows with one prepared statement (executemany).

    Peewee's insert_many builds one huge statement out of a Python object per value;
    at 100,000 entries that alone costs more than SQLite's inserts. The values are
    already checked, so only the JSON lists need encoding.
    """
    if not batch:
        return 0
    names = list(batch[0])
    columns = [JournalEntry._meta.combined[name].column_name for name in names]
    json_at = [i for i, name in enumerate(names) if name in ("tags", "emotions")]
    rows = []
    for row in batch:
        values = list(row.values())
        for i in json_at:
            values[i] = json.dumps(values[i], ensure_ascii=False)
        rows.append(values)
    cursor = database.cursor()
    cursor.executemany(
        f"INSERT INTO journal_entries ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT (id) DO NOTHING", rows)
    return cursor.rowcount


_INDEX_TRIGGERS = ("journal_entries_fts_insert", "journal_entries_tags_insert")
BULK_CACHE_KIB = -65536  # negative: KiB, i.e. 64 MiB


@contextmanager
def index_triggers_suspended() -> Iterator[int]:
    """Inside a write transaction: drop the insert triggers that index each new entry,
    yield the first entry_no the bulk insert will use, and re-create the triggers from
    their stored SQL. DDL is transactional, so a failure rolls the triggers back too."""
    saved = database.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
        _INDEX_TRIGGERS).fetchall()
    normal_cache = database.execute_sql("PRAGMA cache_size").fetchone()[0]
    if len(saved) != len(_INDEX_TRIGGERS):
        raise RuntimeError("the journal's index triggers are missing")
    first = (database.execute_sql("SELECT max(entry_no) FROM journal_entries").fetchone()[0]
             or 0) + 1
    for name, _ in saved:
        database.execute_sql(f"DROP TRIGGER {name}")
    # A bigger page cache for this one transaction: fewer pages spilled to the WAL and
    # read back (each one decrypted again) while the indexes grow.
    database.execute_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    try:
        yield first
        for _, sql in saved:
            database.execute_sql(sql)
    finally:
        database.execute_sql(f"PRAGMA cache_size = {int(normal_cache)}")


def index_new_entries(first_entry_no: int) -> None:
    """What the suspended triggers would have done, for all new entries at once."""
    database.execute_sql(
        "INSERT INTO journal_fts (rowid, title, content, tags) "
        "SELECT entry_no, title, content, tags FROM journal_entries WHERE entry_no >= ?",
        (first_entry_no,))
    database.execute_sql(
        "INSERT INTO journal_entry_tags (entry_id, patient_id, tag) "
        "SELECT DISTINCT j.id, j.patient_id, t.value FROM journal_entries AS j, "
        "json_each(j.tags) AS t WHERE j.entry_no >= ? ORDER BY j.id",
        (first_entry_no,))
