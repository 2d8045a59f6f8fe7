"""Drafts: what a person was typing into a form, kept as they type.

One row per open form with unsaved changes; the form's fields as JSON. Rows go with
their patient (ON DELETE CASCADE). Timestamps come from the service's clock, so the
columns have no SQL default.
"""

STATEMENTS = [
    """CREATE TABLE drafts (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (trim(kind) <> ''),
    item_id TEXT,
    patient_id TEXT REFERENCES patients (id) ON DELETE CASCADE,
    fields TEXT NOT NULL CHECK (json_valid(fields) AND json_type(fields) = 'object'),
    context TEXT NOT NULL CHECK (json_valid(context) AND json_type(context) = 'object'),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    "CREATE INDEX drafts_patient_id ON drafts (patient_id)",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
