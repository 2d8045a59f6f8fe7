"""The days a patient wrote in the journal, newest first, read by skipping through the
(patient, date) index: one seek per day written, however many entries a day holds, so
ten years of journal cost ten years of days, not 100,000 entries."""

from __future__ import annotations

from collections.abc import Iterator

from luna_tui.store.models.base import database

# Each step asks the index for the newest day before the last one found; SQLite answers
# MAX() over an index range with one seek.
DAYS_WRITTEN = """
WITH RECURSIVE written(day) AS (
    SELECT MAX(entry_date) FROM journal_entries WHERE patient_id = ? AND entry_date <= ?
    UNION ALL
    SELECT (SELECT MAX(entry_date) FROM journal_entries
            WHERE patient_id = ? AND entry_date < written.day)
    FROM written WHERE written.day IS NOT NULL
)
SELECT day FROM written WHERE day IS NOT NULL
"""


def days_written(patient_id: str, through: str) -> Iterator[str]:
    """The patient's days with an entry (ISO), from `through` (included) back to the
    first; read lazily, so stopping early reads no further."""
    cursor = database.execute_sql(DAYS_WRITTEN, (patient_id, through, patient_id))
    for (day,) in cursor:
        yield day
