"""Usage statistics, one row per event name per hour (attached as schema `stats`)."""


def up(migrator, db):
    db.execute_sql(
        """CREATE TABLE stats.stats (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_name TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    finish_reasons TEXT NOT NULL DEFAULT '{}',
    created_year INTEGER NOT NULL,
    created_month INTEGER NOT NULL,
    created_day INTEGER NOT NULL,
    created_hour INTEGER NOT NULL,
    counter INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"""
    )
    db.execute_sql(
        "CREATE UNIQUE INDEX stats.stats_hour_bucket ON stats "
        "(event_name, created_year, created_month, created_day, created_hour)"
    )
