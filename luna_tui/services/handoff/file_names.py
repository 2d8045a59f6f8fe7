"""The names of a hand-off's files: `handoff-<name>-<from>-<to>.pdf`, `.json`, `.ics`,
or `.zip` for the archive. The name is the person's, in plain ASCII (accents dropped,
anything else a hyphen), so it is a safe file name on every system and in every zip
tool."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

PLAIN_FILES = ("pdf", "json", "ics")
ARCHIVE_FILE = "zip"


def file_stem(name: str, start: dt.date, end: dt.date) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return f"handoff-{slug or 'patient'}-{start.isoformat()}-{end.isoformat()}"


def plain_names(name: str, start: dt.date, end: dt.date, *, calendar: bool = True
                ) -> tuple[str, ...]:
    """The files of a hand-off written as files (and the members of its archive); the
    .ics only with the appointments (`calendar`)."""
    stem = file_stem(name, start, end)
    return tuple(f"{stem}.{extension}" for extension in PLAIN_FILES
                 if calendar or extension != "ics")


def archive_name(name: str, start: dt.date, end: dt.date) -> str:
    return f"{file_stem(name, start, end)}.{ARCHIVE_FILE}"
