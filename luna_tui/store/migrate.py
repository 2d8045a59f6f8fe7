"""Bringing each database of a vault up to the current schema.

`playhouse.migrations` runs the numbered scripts in `luna_tui.migrations.<database>`
and records them in that database's `schema_migration` table. Before it changes an
existing database, Luna copies it with the SQLite backup API (still encrypted, under
the same key) into `LUNA_HOME/backups/pre-migration-…`, so a failed upgrade loses
nothing.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from peewee import CharField, DateTimeField
from playhouse.migrations import Runner

import luna_tui.migrations
from luna_tui.clock import Clock
from luna_tui.home import create_private_file, ensure_private_dir
from luna_tui.store.connection import VaultDatabase, raw_key_literal

MAIN = "main"
AUDIT = "audit"
STATS = "stats"
HISTORY_TABLE = "schema_migration"  # playhouse.migrations' default


def migrations_dir(database_name: str) -> Path:

    return Path(luna_tui.migrations.__path__[0]) / database_name


def _runner(db: VaultDatabase, database_name: str, clock: Clock) -> Any:
    # Imported only when a script must run: playhouse.migrations brings in Peewee's
    # other migrators (Postgres, CockroachDB, …), which no vault opening needs.


    class ClockedRunner(Runner):
        """Peewee's runner with time from Luna's clock, never the wall clock.

        A script that stamps rows declares `now` (`def up(migrator, db, now)`) and gets
        the vault clock's moment, an aware UTC datetime. The history rows are the ones
        Peewee makes (same table and columns), but their `applied` comes from the clock
        too, in Peewee's form (naive local time), where Peewee would read the wall
        clock itself. An attached database keeps its history in its own schema:
        Peewee's SqliteMigrator refuses `schema=`, and Luna's scripts qualify their DDL
        themselves.
        """

        def __init__(self, database: VaultDatabase, directory: str,
                     schema: str | None) -> None:
            super().__init__(database, directory, table_name=HISTORY_TABLE)
            self.schema = schema

            class History(database.Model):  # type: ignore[name-defined]
                name = CharField(unique=True)
                applied = DateTimeField(
                    default=lambda: clock.now().astimezone().replace(tzinfo=None))

                class Meta:
                    legacy_table_names = False
                    table_name = HISTORY_TABLE

            History._meta.schema = schema
            self.History = History

        def _run(self, name: str, module: Any, direction: str, fake: bool = False) -> None:
            # Peewee (4.5.3, pinned) runs each script here, as up(migrator, db).
            step = getattr(module, direction, None)
            if step is not None and "now" in inspect.signature(step).parameters:
                module = SimpleNamespace(**{
                    direction: functools.partial(step, now=clock.now()),
                    "atomic": getattr(module, "atomic", True),
                })
            super()._run(name, module, direction, fake)

    schema = None if database_name == MAIN else database_name
    return ClockedRunner(db, str(migrations_dir(database_name)), schema)


def script_names(database_name: str) -> list[str]:
    """The scripts shipped for a database, in the runner's (numeric) order."""
    names = [p.stem for p in migrations_dir(database_name).glob("[0-9]*.py")]
    return sorted(names, key=lambda name: (int(name.split("_", 1)[0]), name))


def applied_migrations(db: VaultDatabase, database_name: str) -> list[str]:
    schema = "main" if database_name == MAIN else database_name
    exists = db.connection().execute(
        f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?",
        (HISTORY_TABLE,)).fetchone()
    if not exists:
        return []
    rows = db.connection().execute(f"SELECT name FROM {schema}.{HISTORY_TABLE} ORDER BY id")
    return [name for (name,) in rows]


def pending_migrations(db: VaultDatabase, database_name: str) -> list[str]:
    """Scripts not yet applied: a glob and one query, without loading the runner."""
    applied = set(applied_migrations(db, database_name))
    return [name for name in script_names(database_name) if name not in applied]


def migrate(db: VaultDatabase, database_name: str, clock: Clock, *,
            target: str | None = None) -> list[str]:
    """Apply pending scripts up to `target` (default: the last one this Luna ships);
    returns the names applied. Scripts that stamp rows take their time from `clock`."""
    if target is None:
        if not pending_migrations(db, database_name):
            return []
        target = script_names(database_name)[-1]
    return _runner(db, database_name, clock).up(target)


def copy_before_migrating(db: VaultDatabase, schema: str, key: bytes, destination: Path) -> Path:
    """An online, encrypted copy of one attached database, made with the backup API."""
    from sqlcipher3 import dbapi2 as sqlcipher

    ensure_private_dir(destination.parent)
    create_private_file(destination)
    target = sqlcipher.connect(str(destination), isolation_level=None)
    try:
        target.execute("PRAGMA cipher_log_level = NONE")
        target.execute(f'PRAGMA key = "{raw_key_literal(key)}"')
        db.connection().backup(target, name=schema)
    finally:
        target.close()
    return destination
