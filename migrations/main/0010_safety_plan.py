"""The safety plan (Stanley & Brown, 2012): each patient's own, in the encrypted vault.

- `safety_plan_items`: the short lines a person writes under each of the plan's seven
  sections, in their order (`position`); `on_card` marks the few a person chose for
  the crisis card, the one copy Luna keeps outside the encryption (services/safety/
  crisis_card.py).
- `safety_plans`: one row per patient once they change the phrases that open their
  plan; until then (no row) Luna's default phrases apply. `phrases` is a JSON array.
- `safety_notices`: which trigger's one-time explanation has been shown (the key, a
  phrase, a drop in mood), for the whole vault.

Rows go with their patient (ON DELETE CASCADE). Timestamps come from the service's
clock, so the columns have no SQL default.
"""

STATEMENTS = [
    """CREATE TABLE safety_plan_items (
    id TEXT NOT NULL PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    section TEXT NOT NULL CHECK (section IN ('warning_signs', 'coping_strategies',
        'distractions', 'people_to_ask', 'professionals', 'safe_environment',
        'reasons_for_living')),
    position INTEGER NOT NULL,
    text TEXT NOT NULL CHECK (trim(text) <> '' AND length(text) <= 300),
    on_card INTEGER NOT NULL DEFAULT 0 CHECK (on_card IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    "CREATE INDEX safety_plan_items_patient_section ON safety_plan_items "
    "(patient_id, section, position)",
    """CREATE TABLE safety_plans (
    patient_id TEXT NOT NULL PRIMARY KEY REFERENCES patients (id) ON DELETE CASCADE,
    phrases TEXT NOT NULL CHECK (json_valid(phrases) AND json_type(phrases) = 'array'),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
    """CREATE TABLE safety_notices (
    trigger TEXT NOT NULL PRIMARY KEY CHECK (trigger IN ('key', 'phrase', 'mood_drop')),
    shown_at TEXT NOT NULL
)""",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
