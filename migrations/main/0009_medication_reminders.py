"""Reminders per medication: `reminders`, 1 (remind of its doses and refills) or 0.

Luna reminds of doses while the app or an agent is unlocked; a person may not want that
for every medication (a vitamin, one that a carer gives). Every existing medication
keeps being reminded of: the default is on.
"""


def up(migrator, db):
    db.execute_sql(
        "ALTER TABLE medications ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1"
        " CHECK (reminders IN (0, 1))"
    )
