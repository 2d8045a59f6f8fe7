"""SQLite's error texts, turned into Luna's sentences.

Peewee wraps the driver's exceptions in its own classes but keeps the text, and the
text is what tells a locked database from a full disk from a damaged file.
"""

from __future__ import annotations

from pathlib import Path

from luna_tui.errors import DiskFull, LunaError, ReadOnlyLocation, VaultBusy, VaultCorrupt
from luna_tui.home import disk_full, no_room_to_write


def classify(exc: Exception, what: str = "the vault's database",
             place: Path | None = None) -> LunaError | None:
    """The LunaError for a database exception, or None if it is a programming error.

    `place`: the folder the database lives in. An I/O error on a disk with next to no
    space left is the disk filling up (a WAL or its index could not grow), never damage.
    """
    text = str(exc).lower()
    if "database is locked" in text or "database table is locked" in text or "busy" in text:
        return VaultBusy()
    if "disk is full" in text:
        return disk_full(place) if place is not None else DiskFull()
    if "disk i/o error" in text and place is not None and no_room_to_write(place):
        return disk_full(place)
    if "readonly" in text or "read-only" in text:
        return ReadOnlyLocation(
            "Luna can't write to the vault's folder: it is read-only or not yours."
        )
    if "not a database" in text or "malformed" in text or "disk i/o error" in text:
        return VaultCorrupt(
            f"{what[0].upper()}{what[1:]} is damaged ({exc}). Run `luna doctor`, and "
            "restore from a backup if it fails."
        )
    if "unable to open database file" in text:
        return ReadOnlyLocation(
            f"Luna could not open {what}: check the folder exists and is yours."
        )
    return None


def is_database_error(exc: BaseException) -> bool:
    import sqlite3

    import peewee
    import sqlcipher3

    return isinstance(exc, peewee.DatabaseError | sqlcipher3.Error | sqlite3.Error)
