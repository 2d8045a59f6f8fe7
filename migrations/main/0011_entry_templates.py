"""Entry templates: what a person fills a new entry with (name, title pattern, body,
tags, type, and whether mood and sleep are asked).

Vault-wide, not a patient's; a name is unique whatever its case. Timestamps come from
the service's clock, so the columns have no SQL default.
"""

STATEMENTS = [
    """CREATE TABLE entry_templates (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL CHECK (trim(name) <> ''),
    title TEXT,
    body TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    journal_type TEXT NOT NULL DEFAULT 'free'
        CHECK (journal_type IN ('free', 'prompted', 'mood_check')),
    prompt TEXT,
    asks_mood INTEGER NOT NULL DEFAULT 1 CHECK (asks_mood IN (0, 1)),
    asks_sleep INTEGER NOT NULL DEFAULT 1 CHECK (asks_sleep IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    "CREATE UNIQUE INDEX entry_templates_name ON entry_templates (name COLLATE NOCASE)",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
