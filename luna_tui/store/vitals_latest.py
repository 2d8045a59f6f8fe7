"""The kinds of vitals a patient has readings of, and the newest reading of each, read by
skipping through the (patient, kind, measured_at) index: one seek per kind, however many
readings each holds, in one statement each (the dashboard reads them on every load; a
query per kind and per step built by the ORM cost more than the reading itself)."""

from __future__ import annotations

from luna_tui.store.models.base import database

# Each step asks the index for the next kind after the last one found (MIN() over an
# index range is one seek).
_KINDS = """
WITH RECURSIVE kinds(kind) AS (
    SELECT MIN(kind) FROM vitals WHERE patient_id = :patient
    UNION ALL
    SELECT (SELECT MIN(kind) FROM vitals WHERE patient_id = :patient AND kind > kinds.kind)
    FROM kinds WHERE kinds.kind IS NOT NULL
)
"""

KINDS_IN_USE = _KINDS + "SELECT kind FROM kinds WHERE kind IS NOT NULL"

# For each kind: its newest time (MAX() over the index: one seek), then the readings at
# that time, the one entered last.
NEWEST_OF_EACH_KIND = _KINDS + """
SELECT (SELECT id FROM vitals
        WHERE patient_id = :patient AND kind = kinds.kind
          AND measured_at = (SELECT MAX(measured_at) FROM vitals
                             WHERE patient_id = :patient AND kind = kinds.kind)
        ORDER BY created_at DESC LIMIT 1)
FROM kinds WHERE kind IS NOT NULL
"""


def kinds_in_use(patient_id: str) -> list[str]:
    """The kinds the patient has readings of, in order (DB thread)."""
    return [kind for (kind,) in database.execute_sql(KINDS_IN_USE, {"patient": patient_id})]


def newest_of_each_kind(patient_id: str) -> list[str]:
    """The id of the newest reading of each kind the patient has (DB thread)."""
    return [row_id for (row_id,) in database.execute_sql(NEWEST_OF_EACH_KIND,
                                                         {"patient": patient_id})]
