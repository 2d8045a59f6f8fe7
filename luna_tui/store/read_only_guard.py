"""A guard that makes the vault's connection read-only while it is held.

It installs a SQLite authorizer on the one connection (on the DB thread) that allows
reading — SELECT, reading columns, functions, recursive queries, read-only PRAGMAs and
transaction control — and denies everything else: INSERT, UPDATE, DELETE, CREATE,
DROP, ALTER, ATTACH, DETACH, REINDEX, ANALYZE, a PRAGMA that sets a value, a savepoint.
SQLite expires every prepared statement when an authorizer is set, so even a statement
prepared before the guard is checked again. The AI context builder runs under it: it
can read the user's data and, by construction, never change it. Tables named `hidden`
can't even be read (the builder hides drafts: what a person has not saved is not theirs
to show yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from luna_tui.errors import ReadOnlyViolation

# PRAGMAs that take an argument but only read (the table or index they describe).
_READING_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "function_list", "pragma_list", "collation_list", "database_list",
})

# The authorizer's action codes (their numbers overlap SQLite's result codes).
_ACTION_NAMES = (
    "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_CREATE_INDEX",
    "SQLITE_CREATE_TABLE", "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE",
    "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TRIGGER",
    "SQLITE_CREATE_VIEW", "SQLITE_CREATE_VTABLE", "SQLITE_DROP_INDEX", "SQLITE_DROP_TABLE",
    "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_TABLE", "SQLITE_DROP_TEMP_TRIGGER",
    "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW", "SQLITE_DROP_VTABLE",
    "SQLITE_ALTER_TABLE", "SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_REINDEX",
    "SQLITE_ANALYZE", "SQLITE_PRAGMA", "SQLITE_SAVEPOINT",
)


@dataclass
class GuardState:
    denied: list[str] = field(default_factory=list)  # what was attempted and refused
    hidden_read: str | None = None  # a hidden table something tried to read


def _authorizer(state: GuardState, codes: dict[int, str], hidden: frozenset[str]) -> Any:
    from sqlcipher3 import dbapi2 as sqlite

    allowed = {sqlite.SQLITE_SELECT, sqlite.SQLITE_READ, sqlite.SQLITE_FUNCTION,
               sqlite.SQLITE_RECURSIVE, sqlite.SQLITE_TRANSACTION}

    def check(action: int, arg1: str | None, arg2: str | None, _db: str | None,
              _source: str | None) -> int:
        if action == sqlite.SQLITE_READ and (arg1 or "").lower() in hidden:
            state.hidden_read = arg1
            return sqlite.SQLITE_DENY
        if action in allowed:
            return sqlite.SQLITE_OK
        if action == sqlite.SQLITE_PRAGMA and (
                arg2 is None or (arg1 or "").lower() in _READING_PRAGMAS):
            return sqlite.SQLITE_OK
        state.denied.append(f"{codes.get(action, action)} {arg1 or ''}".strip())
        return sqlite.SQLITE_DENY

    return check


@contextmanager
def read_only(database: Any, *, hidden: frozenset[str] = frozenset()) -> Iterator[GuardState]:
    """Hold the vault's connection read-only (call on the DB thread).

    A write attempted inside, or a read of a table in `hidden`, raises
    `ReadOnlyViolation`; the authorizer is removed on the way out whatever happens.
    """
    from sqlcipher3 import dbapi2 as sqlite

    connection = database.connection()
    if database.in_transaction():
        # A write transaction already open would let its earlier changes commit under a
        # "read-only" banner; the guard only runs on its own.
        raise ReadOnlyViolation("The read-only guard can't start inside a write transaction.")
    codes = {getattr(sqlite, name): name.removeprefix("SQLITE_").lower()
             for name in _ACTION_NAMES if hasattr(sqlite, name)}
    state = GuardState()
    connection.set_authorizer(_authorizer(state, codes, frozenset(t.lower() for t in hidden)))
    try:
        yield state
    except Exception as exc:
        if state.hidden_read:  # SQLite says "access to <table>.<column> is prohibited"
            raise ReadOnlyViolation(
                "Something reading your data for the AI companion tried to read "
                f"{state.hidden_read}, which it may never see; Luna stopped it.") from exc
        if state.denied and "not authorized" in str(exc).lower():
            raise ReadOnlyViolation(
                "Something reading your data for the AI companion tried to change it "
                f"({state.denied[-1]}); Luna stopped it and nothing was changed.") from exc
        raise
    finally:
        connection.set_authorizer(None)
