"""Bringing each database of a vault up to the current schema.

`playhouse.migrations` runs the numbered scripts in `luna_tui.migrations.<database>`
and records them in that database's `schema_migration` table. Before it changes an
existing database, Luna copies it with the SQLite backup API (still encrypted, under
the same key) into `LUNA_HOME/backups/pre-migration-…`, so a failed upgrade loses
nothing.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from playhouse.migrations import Runner

from luna_tui.home import create_private_file, ensure_private_dir
from luna_tui.store.connection import VaultDatabase, raw_key_literal

MAIN = "main"
AUDIT = "audit"
STATS = "stats"


def migrations_dir(database_name: str) -> Path:
    return Path(os.fspath(files("luna_tui.migrations") / database_name))


class _AttachedRunner(Runner):
    """A Runner whose history table lives in an attached schema.

    Peewee's SqliteMigrator refuses `schema=`; Luna's scripts write schema-qualified
    DDL themselves, so only the history table needs pointing at the schema.
    """

    def __init__(self, database: VaultDatabase, directory: str, schema: str) -> None:
        super().__init__(database, directory)
        self.schema = schema
        self.History._meta.schema = schema


def _runner(db: VaultDatabase, database_name: str) -> Runner:
    directory = str(migrations_dir(database_name))
    if database_name == MAIN:
        return Runner(db, directory)
    return _AttachedRunner(db, directory, database_name)


def pending_migrations(db: VaultDatabase, database_name: str) -> list[str]:
    return [m.name for m in _runner(db, database_name).status() if not m.applied and m.path]


def applied_migrations(db: VaultDatabase, database_name: str) -> list[str]:
    return [m.name for m in _runner(db, database_name).status() if m.applied]


def migrate(db: VaultDatabase, database_name: str, *, target: str | None = None) -> list[str]:
    """Apply pending scripts (up to `target`); returns the names applied."""
    return _runner(db, database_name).up(target)


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
