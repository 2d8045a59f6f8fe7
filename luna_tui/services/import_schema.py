"""The shape an import file must have, checked whole before anything is written.

Every row of a Luna export is checked against its table: each column's type (from the
model), whether it may be null, and its form where Luna relies on one (dates
YYYY-MM-DD, times HH:MM, date-times YYYY-MM-DDTHH:MM, timestamps, the choices and
ranges the schema's CHECK constraints allow, sizes); free text holds no control
characters but tabs and line breaks, as when typed (services/validation.py); ids must
be text (or, for messages, whole numbers) and appear once. What needs the vault — references, the
owner patient — is checked by the importer, still before any write. A jrnl export is
checked the same way, entry by entry.

The first problem found ends the check with one `ImportRejected` sentence naming the
entry and the field: "entry 12 (journal_entries): entry_time '99:99' is not a time
HH:MM".
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luna_tui.errors import ImportRejected
from luna_tui.terminal_text import CONTROL, terminal_text

SHORT = 200  # names, titles, labels, one-line things
MEDIUM = 10_000  # a patient's allergies, a persona's prompt, notes
LONG = 200_000  # an entry's text, a record's text, a message (the services' own limit)
EXTRACTED = 10_000_000  # text read out of a record's files (500,000 a file)
MAX_LIST_ITEMS = 1_000

# ASCII digits only: Python's \d also matches "٣" (Arabic-Indic three), which the rest of
# Luna can't read back (time.fromisoformat refuses it).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_MOMENT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T(([01][0-9]|2[0-3]):[0-5][0-9])")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[^\s\x00-\x1f\x7f]{1,100}")
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`{|}~-]+"  # RFC 2045: no spaces, controls or tspecials
_MIME_TYPE = re.compile(f"{_TOKEN}/{_TOKEN}")


class _Bad(Exception):
    """A value that breaks its column's rule; `str()` is the phrase after the name."""


Check = Callable[[Any], Any]  # returns the value to store, or raises _Bad


# -- the rules -----------------------------------------------------------------------------

def shown(value: Any) -> str:
    """A value as the sentence shows it: short, quoted, never a wall of text."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:39] + "…"
        return "'" + text.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10**20:  # JSON allows thousands of digits
        return f"a {len(str(abs(value))):,}-digit number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return str(value)


def text(limit: int, *, blank: bool = True, controls: bool = False) -> Check:
    """Text up to `limit` characters; `controls`: may hold control characters (text
    read out of a file, which no form shows for editing)."""
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Bad(f"is {_kind(value)}, not text")
        if len(value) > limit:
            raise _Bad(f"is {len(value):,} characters long; at most {limit:,} are allowed")
        _storable(value)
        if not blank and not value.strip():
            raise _Bad("is blank")
        if not controls and (found := CONTROL.search(value)):
            raise _Bad(f"holds a control character ({terminal_text(found.group())}), "
                       "which could drive the terminal")
        return value
    return check


def identifier(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"is {_kind(value)}, not an id")
    _storable(value)
    if not _ID.fullmatch(value):
        raise _Bad(f"{shown(value)} is not an id (1 to 100 characters, no spaces)")
    return value


def _storable(value: str) -> None:
    """JSON may spell half of a UTF-16 pair on its own ("\\ud800"); Python reads it into a
    str, but it is no character, and writing it as UTF-8 fails (UnicodeEncodeError)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        half = value[exc.start].encode("unicode_escape").decode("ascii")
        raise _Bad(f"holds {half} (character {exc.start + 1:,}), half of a character on its "
                   "own (a lone surrogate), which is not text") from None


def uuid_text(value: Any) -> str:
    """An id that names a file in the vault: only a UUID in its canonical form will do."""
    identifier(value)
    try:
        canonical = str(uuid.UUID(value)) == value
    except ValueError:
        canonical = False
    if not canonical:
        raise _Bad(f"{shown(value)} is a name Luna won't use for a file (it must be a UUID)")
    return value


def bare_file_name(value: Any) -> str:
    text(255, blank=False)(value)
    if value in (".", "..") or any(c in value for c in "/\\\0"):
        raise _Bad(f"{shown(value)} is a file name Luna won't use (it names a folder)")
    return value


def mime_type(value: Any) -> str:
    """An attachment's type, as Luna guesses it when attaching: it picks how the file is
    read, and the app shows it."""
    text(SHORT, blank=False, controls=True)(value)  # the pattern below has none
    if not _MIME_TYPE.fullmatch(value):
        raise _Bad(f"{shown(value)} is not a MIME type (type/subtype)")
    return value


def whole(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"is {_kind(value)}, not a whole number")
        if not low <= value <= high:
            raise _Bad(f"{shown(value)} is not between {low:,} and {high:,}")
        return value
    return check


def number(low: float, high: float) -> Check:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Bad(f"is {_kind(value)}, not a number")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # JSON allows whole numbers of any length; a float does not
            raise _Bad(f"is a {len(str(abs(value))):,}-digit number, not between {low:g} "
                       f"and {high:g}") from None
        if not finite or not low <= value <= high:
            raise _Bad(f"{value:g} is not between {low:g} and {high:g}")
        return value
    return check


def flag(value: Any) -> int:
    if value in (0, 1) and not isinstance(value, float):  # True and False included
        return int(value)
    raise _Bad(f"{shown(value)} is not 0 or 1")


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise _Bad(f"{shown(value)} is not one of: {', '.join(choices)}")
        return value
    return check


def date(value: Any) -> str:
    if not isinstance(value, str) or not _DATE.fullmatch(value) or not _valid_date(value):
        raise _Bad(f"{shown(value)} is not a date YYYY-MM-DD")
    return value


def appointment_day(value: Any) -> str:
    """An appointment's date, in the years the app accepts (services/appointments.py)."""
    from luna_tui.services.appointments import FIRST_YEAR, LAST_YEAR

    day = date(value)
    if not FIRST_YEAR <= int(day[:4]) <= LAST_YEAR:
        raise _Bad(f"{shown(value)} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def time_of_day(value: Any) -> str:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise _Bad(f"{shown(value)} is not a time HH:MM")
    return value


def time_or_unknown(value: Any) -> str:
    """An entry's time: HH:MM, or "" when the time is not known."""
    return value if value == "" else time_of_day(value)


def moment(value: Any) -> str:
    match = _MOMENT.fullmatch(value) if isinstance(value, str) else None
    if match is None or not _valid_date(match.group(1)):
        raise _Bad(f"{shown(value)} is not a date and time YYYY-MM-DDTHH:MM")
    return value


def timestamp(value: Any) -> str:
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(value)
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"{shown(value)} is not a timestamp (ISO 8601)") from None
    return value


def sha256_hex(value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise _Bad(f"{shown(value)} is not a SHA-256 checksum (64 hex digits)")
    return value


def text_list(item: Check) -> Check:
    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _Bad(f"is {_kind(value)}, not a list")
        if len(value) > MAX_LIST_ITEMS:
            raise _Bad(f"has {len(value):,} items; at most {MAX_LIST_ITEMS:,} are allowed")
        for position, element in enumerate(value, 1):
            try:
                item(element)
            except _Bad as bad:
                raise _Bad(f"item {position} {bad}") from None
        return value
    return check


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true or false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                       "a value")


def _valid_date(text_value: str) -> bool:
    try:
        dt.date.fromisoformat(text_value)
    except ValueError:
        return False
    return True


# -- Luna's tables ---------------------------------------------------------------------------

TAG = text(40, blank=False)
# Column rules beyond the type the model gives: the schema's CHECKs, and the forms the
# screens and queries rely on. Anything not named here is text up to SHORT characters.
_RULES: dict[str, dict[str, Check]] = {
    "patients": {"name": text(SHORT, blank=False), "date_of_birth": date,
                 "emergency_contact": text(MEDIUM), "allergies": text(MEDIUM),
                 "notes": text(LONG), "active": flag},
    "personas": {"name": text(60, blank=False), "description": text(MEDIUM),
                 "system_prompt": text(MEDIUM, blank=False), "temperature": number(0, 2),
                 "max_tokens": whole(16, 32_000), "data_access": text_list(TAG),
                 "builtin": flag},
    "sessions": {"session_type": one_of("chat", "check_in", "appointment_prep",
                                        "journal_reflection"), "saved": flag},
    "messages": {"id": whole(1, 2**62), "role": one_of("system", "user", "assistant"),
                 "content": text(LONG), "token_count": whole(0, 10**9)},
    "conversation_summaries": {"summary": text(LONG), "start_message_id": whole(1, 2**62),
                               "end_message_id": whole(1, 2**62),
                               "message_count": whole(0, 10**9),
                               "method": one_of("model", "extractive"),
                               "importance_score": number(0, 1)},
    "semantic_pins": {"content": text(MEDIUM), "medical_category": one_of(
        "medication", "symptom", "diagnosis", "allergy", "appointment", "lifestyle", "other"),
        "importance_score": number(0, 1), "urgency": one_of("low", "normal", "high")},
    "medications": {"name": text(SHORT, blank=False), "start_date": date, "end_date": date,
                    "refill_date": date, "supply_count": number(0, 1_000_000),
                    "supply_counted_on": date, "side_effects": text(MEDIUM),
                    "notes": text(LONG), "active": flag,
                    "schedule": text_list(time_of_day), "reminders": flag},
    "medication_doses": {"scheduled_at": moment, "taken_at": moment,
                         "status": one_of("taken", "missed", "late", "skipped"),
                         "notes": text(MEDIUM)},
    "medication_events": {"event_type": one_of("started", "stopped", "dose_changed",
                                               "resumed"),
                          "event_date": date, "notes": text(MEDIUM)},
    "appointments": {"appointment_date": appointment_day, "appointment_time": time_of_day,
                     "duration_minutes": whole(1, 7 * 24 * 60),
                     "appointment_type": one_of("routine", "follow_up", "specialist",
                                                "emergency", "other"),
                     "reason": text(MEDIUM), "preparation_notes": text(MEDIUM),
                     "status": one_of("scheduled", "completed", "cancelled", "rescheduled"),
                     "outcome_summary": text(MEDIUM), "follow_up_required": flag},
    "journal_entries": {"title": text(MEDIUM), "content": text(LONG, blank=False),
                        "entry_date": date, "entry_time": time_or_unknown,
                        "mood": text(40), "mood_scale": whole(1, 10),
                        "sleep_hours": number(0, 24), "emotions": text_list(text(SHORT)),
                        "tags": text_list(TAG),
                        "journal_type": one_of("free", "prompted", "mood_check"),
                        "prompt": text(MEDIUM),
                        "privacy_level": one_of("private", "shared"), "favorite": flag},
    "vitals": {"kind": text(40, blank=False), "value": number(-1e12, 1e12),
               "value2": number(-1e12, 1e12), "unit": text(40, blank=False),
               "measured_at": moment, "notes": text(MEDIUM)},
    "records": {"title": text(SHORT, blank=False), "description": text(MEDIUM),
                "tags": text_list(TAG), "event_date": date, "text": text(LONG),
                "extracted_text": text(EXTRACTED, controls=True)},
    "attachments": {"id": uuid_text, "file_name": bare_file_name, "mime_type": mime_type,
                    "size": whole(0, 2**40),
                    "sha256": sha256_hex, "extracted_text": text(EXTRACTED, controls=True)},
    "entry_templates": {"name": text(60, blank=False), "title": text(SHORT),
                        "body": text(LONG), "tags": text_list(TAG),
                        "journal_type": one_of("free", "prompted", "mood_check"),
                        "prompt": text(MEDIUM), "asks_mood": flag, "asks_sleep": flag},
    "terms": {"text_sha256": sha256_hex, "accepted_at": timestamp},
    "config": {"key": text(SHORT, blank=False), "value": text(MEDIUM)},
}
# Columns whose value the importing vault makes itself.
_SKIPPED = {"journal_entries": {"entry_no"}, "records": {"record_no"},
            "attachments": {"storage_path"}}


@dataclass(frozen=True)
class Column:
    name: str
    check: Check
    required: bool  # must be in every row
    nullable: bool
    default: Callable[[], Any]
    references: tuple[str, str] | None  # (table, column) for a foreign key


def table_columns(model: Any) -> list[Column]:
    """The import rules of `model`'s table, from its fields and `_RULES`."""
    from peewee import AutoField, FloatField, ForeignKeyField, IntegerField

    table = model._meta.table_name
    rules = _RULES.get(table, {})
    columns = []
    for field in model._meta.sorted_fields:
        name = field.column_name
        if name in _SKIPPED.get(table, ()):
            continue
        target = field.rel_field if isinstance(field, ForeignKeyField) else field
        if name in rules:
            check = rules[name]
        elif name in ("created_at", "updated_at"):
            check = timestamp
        elif field.primary_key or isinstance(field, ForeignKeyField) or name == "id":
            check = whole(1, 2**62) if isinstance(target, AutoField | IntegerField) else (
                identifier)
        elif isinstance(field, IntegerField):
            check = whole(-(2**62), 2**62)
        elif isinstance(field, FloatField):
            check = number(-1e12, 1e12)
        else:
            check = text(SHORT)
        default = field.default
        columns.append(Column(
            name, check,
            required=name == "id" or (not field.null and default is None
                                      and not isinstance(field, AutoField)),
            nullable=field.null,
            default=default if callable(default) else (lambda d=default: d),
            references=((field.rel_model._meta.table_name, field.rel_field.column_name)
                        if isinstance(field, ForeignKeyField) else None),
        ))
    return columns


def check_rows(table: str, rows: Any, columns: list[Column]) -> list[dict[str, Any]]:
    """Every row of one table, checked and completed with defaults, in file order."""
    if not isinstance(rows, list):
        raise ImportRejected(f"The export's {table} is {_kind(rows)}, not a list of rows.")
    checked = []
    ids: set[Any] = set()
    key = "key" if table == "config" else "id"
    for number_, row in enumerate(rows, 1):
        where = f"{'entry' if table == 'journal_entries' else 'row'} {number_} ({table})"
        if not isinstance(row, dict):
            raise ImportRejected(f"{where} is {_kind(row)}, not a row.")
        values = {}
        for column in columns:
            values[column.name] = _checked_value(where, row, column)
        if values.get(key) in ids:
            raise ImportRejected(f"{where}: {key} {shown(values.get(key))} appears twice.")
        ids.add(values.get(key))
        if table == "attachments":
            values["content_base64"] = _checked_content(where, row, values["size"])
        checked.append(values)
    return checked


def _checked_value(where: str, row: dict[str, Any], column: Column) -> Any:
    if column.name not in row:
        if column.required:
            raise ImportRejected(f"{where}: {column.name} is missing.")
        return column.default()
    value = row[column.name]
    if value is None:
        if column.nullable:
            return None
        raise ImportRejected(f"{where}: {column.name} is null, and it can't be.")
    try:
        return column.check(value)
    except _Bad as bad:
        raise ImportRejected(f"{where}: {column.name} {bad}.") from None


def _checked_content(where: str, row: dict[str, Any], size: int) -> str:
    """An attachment's file, base64: text whose length fits the size it claims (decoded
    and checked against its SHA-256 when it is written)."""
    content = row.get("content_base64")
    if not isinstance(content, str):
        raise ImportRejected(f"{where}: content_base64 is {_kind(content)}; the export holds "
                             "no file for this attachment.")
    if len(content) != 4 * math.ceil(size / 3):
        raise ImportRejected(f"{where}: content_base64 is not the {size:,} bytes the "
                             "attachment's size says.")
    return content


# -- jrnl ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JrnlEntry:
    title: str
    body: str
    date: str
    time: str
    tags: list[str]
    starred: bool

    def stable_id(self, patient_id: str) -> str:
        """The same entry, imported for the same patient, always gets the same id: a
        second import of a file adds nothing."""
        return str(uuid.uuid5(_JRNL_IDS, "\0".join(
            (patient_id, self.date, self.time, self.title, self.body))))


_JRNL_IDS = uuid.UUID("6c756e61-6a72-4e6c-8000-696d706f7274")  # Luna's namespace for them
_JRNL_RULES: dict[str, tuple[Check, Any]] = {
    "title": (text(LONG), ""), "body": (text(LONG), ""), "date": (date, None),
    "time": (time_or_unknown, ""), "tags": (text_list(text(41, blank=False)), []),
    "starred": (flag, 0),
}


def check_jrnl(document: dict[str, Any]) -> list[JrnlEntry]:
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise ImportRejected("This jrnl export has no list of entries.")
    checked = []
    for number_, item in enumerate(entries, 1):
        where = f"entry {number_} (jrnl)"
        if not isinstance(item, dict):
            raise ImportRejected(f"{where} is {_kind(item)}, not an entry.")
        values = {}
        for name, (check, default) in _JRNL_RULES.items():
            value = item.get(name, default)
            if value is None and default is None:
                raise ImportRejected(f"{where}: {name} is missing.")
            try:
                values[name] = check(value)
            except _Bad as bad:
                raise ImportRejected(f"{where}: {name} {bad}.") from None
        if len(values["title"]) + len(values["body"]) > LONG:
            raise ImportRejected(f"{where}: title and body are longer than {LONG:,} "
                                 "characters together.")
        checked.append(JrnlEntry(values["title"], values["body"], values["date"],
                                 values["time"], values["tags"], bool(values["starred"])))
    return checked


# -- a Luna export ---------------------------------------------------------------------------

def check_luna_export(document: dict[str, Any], newest_version: int
                      ) -> dict[str, list[dict[str, Any]]]:
    """Every data table of the export, checked, in the order they are written."""
    from luna_tui.store.models.registry import DATA_MODELS

    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ImportRejected(f"The export's format version {shown(version)} is not one Luna "
                             "made; is the file damaged?")
    if version > newest_version:
        raise ImportRejected(f"This export was made by a newer Luna (format {shown(version)}); "
                             "update Luna to import it.")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise ImportRejected("This Luna export has no tables; is it cut short?")
    checked = {}
    for model in DATA_MODELS:
        table = model._meta.table_name
        checked[table] = check_rows(table, tables.get(table, []), table_columns(model))
    return checked
