"""Bringing data in: Luna's own JSON export (every table) and jrnl's JSON export.

A Luna export goes in whole, in one transaction: rows are upserted by their ids, so
importing the same file twice changes nothing, and a vault that holds only its
untouched starting patient ("Me") takes the exported patients in its place. A jrnl
export (`jrnl --format json`) becomes journal entries of one patient, with its tags
and starred entries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luna_tui.errors import LunaError, ValidationError
from luna_tui.services.base import DomainService
from luna_tui.services.exporting import EXPORT_FORMAT, EXPORT_VERSION, LOCAL_KEYS
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import SETTINGS
from luna_tui.store import attachment_markers
from luna_tui.store.models.registry import DATA_MODELS

FORMATS = ("luna", "jrnl")


@dataclass(frozen=True)
class ImportResult:
    format: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def read_import_file(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise LunaError(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise LunaError(f"{path} is a folder; give the export file itself.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"{path.name} is not a JSON file Luna can read ({exc}); is it cut short?") from None
    except OSError as exc:
        raise LunaError(f"Luna can't read {path} ({exc.strerror}).") from None


def detect_format(document: Any) -> str:
    if isinstance(document, dict) and document.get("format") == EXPORT_FORMAT:
        return "luna"
    if isinstance(document, dict) and isinstance(document.get("entries"), list):
        return "jrnl"
    raise ValidationError(
        "This file is neither a Luna export (`luna export --format json`) nor jrnl's JSON "
        "export (`jrnl --format json`).")


class Importer(DomainService):
    def import_document(self, document: Any, *, format: str | None = None,
                        patient_id: str | None = None,
                        progress: Callable[[int, int], None] | None = None) -> ImportResult:
        format = format or detect_format(document)
        if format not in FORMATS:
            raise ValidationError(f"Luna imports {' and '.join(FORMATS)} files, not '{format}'.")
        if format == "jrnl":
            if detect_format(document) != "jrnl":
                raise ValidationError("This file is not jrnl's JSON export.")
            return self._import_jrnl(document, patient_id, progress)
        if detect_format(document) != "luna":
            raise ValidationError("This file is not a Luna export.")
        return self.session.run(self._import_luna, document, progress)

    # -- jrnl -------------------------------------------------------------------------

    def _import_jrnl(self, document: dict[str, Any], patient_id: str | None,
                     progress: Callable[[int, int], None] | None) -> ImportResult:
        from luna_tui.services.settings import Settings

        patient_id = patient_id or Settings(self.session).current_patient_id()
        entries = document["entries"]
        total = len(entries)
        count = Journal(self.session).import_entries(
            patient_id, _jrnl_drafts(entries), source="jrnl",
            progress=(lambda done: progress(done, total)) if progress else None)
        return ImportResult("jrnl", {"journal_entries": count})

    # -- luna -------------------------------------------------------------------------

    def _import_luna(self, document: dict[str, Any],
                     progress: Callable[[int, int], None] | None) -> ImportResult:
        version = document.get("version")
        if not isinstance(version, int) or version > EXPORT_VERSION:
            raise ValidationError(
                f"This export was made by a newer Luna (format {version}); update Luna to "
                "import it.")
        tables = document.get("tables")
        if not isinstance(tables, dict):
            raise ValidationError("This Luna export has no tables; is it cut short?")
        total = sum(len(rows) for rows in tables.values() if isinstance(rows, list))
        counts: dict[str, int] = {}
        self._files_written: list[Path] = []
        try:
            with self.session.writing("import a Luna export") as tx:
                self._import_tables(tables, total, counts, progress)
                tx.record("vault.import",
                          diff={"rows": [None, counts],
                                "exported_at": [None, document.get("exported_at")]})
        except BaseException:
            for path in self._files_written:  # the rows are rolled back: their files go
                path.unlink(missing_ok=True)
            raise
        finally:
            for path in self._files_written:  # file and row agree again: unmarked
                attachment_markers.unmark(self.session.layout, path.name)
        return ImportResult("luna", counts)

    def _import_tables(self, tables: dict[str, Any], total: int, counts: dict[str, int],
                       progress: Callable[[int, int], None] | None) -> None:
        from luna_tui.store.models.base import database

        done = 0
        # Rows reference each other in every direction (follow-up appointments, pins
        # and messages); check references once, at commit.
        database.execute_sql("PRAGMA defer_foreign_keys = ON")
        if tables.get("patients"):
            self._drop_untouched_starting_patient()
        message_ids = self._message_id_map(tables.get("messages") or [])
        for model in DATA_MODELS:
            table = model._meta.table_name
            rows = tables.get(table) or []
            if not isinstance(rows, list):
                raise ValidationError(f"The export's {table} is not a list of rows.")
            prepared = [self._prepared(model, row, message_ids) for row in rows]
            prepared = [row for row in prepared if row is not None]
            for start in range(0, len(prepared), 500):
                self._upsert(model, prepared[start:start + 500])
                done += len(prepared[start:start + 500])
                if progress:
                    progress(done, total)
            counts[table] = len(prepared)

    def _prepared(self, model: Any, row: Any, message_ids: dict[int, int]
                  ) -> dict[str, Any] | None:
        if not isinstance(row, dict):
            raise ValidationError(f"A row of the export's {model._meta.table_name} is damaged.")
        table = model._meta.table_name
        if table == "config":
            return _checked_setting(row, self.stamp())
        columns = {f.column_name: f for f in model._meta.sorted_fields}
        local_key = LOCAL_KEYS.get(table)
        values = {}
        for column, value in row.items():
            if column == local_key or column not in columns:
                continue
            if isinstance(value, list):
                value = json.dumps(value, ensure_ascii=False)
            values[column] = value
        if table == "messages" and values.get("id") in message_ids:
            values["id"] = message_ids[values["id"]]
        if table == "semantic_pins" and values.get("message_id") in message_ids:
            values["message_id"] = message_ids[values["message_id"]]
        if table == "attachments":
            from luna_tui.services.attachments import import_content

            written = import_content(self.session, values, row.get("content_base64"))
            if written is not None:
                self._files_written.append(written)
        if table == "conversation_summaries":
            for key in ("start_message_id", "end_message_id"):
                if values.get(key) in message_ids:
                    values[key] = message_ids[values[key]]
        return values

    def _upsert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """Insert, or update the row with the same id (never REPLACE: that would skip
        the full-text index's delete trigger)."""
        if not rows:
            return
        from luna_tui.store.models.base import database

        table = model._meta.table_name
        key = _conflict_key(model)
        columns = list(rows[0])
        for row in rows:
            if list(row) != columns:
                raise ValidationError(f"The export's {table} rows do not all have the same "
                                      "columns.")
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
        marks = ", ".join("?" for _ in columns)
        sql = (f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
               f"VALUES ({marks}) ON CONFLICT ({', '.join(key)}) "
               + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING"))
        cursor = database.cursor()
        try:
            cursor.executemany(sql, [list(r.values()) for r in rows])
        except Exception as exc:
            from luna_tui.store.sqlite_errors import is_database_error

            if not is_database_error(exc) or "constraint" not in str(exc).lower():
                raise
            raise ValidationError(
                f"The export's {table} holds a row Luna can't accept ({exc}).") from None

    def _drop_untouched_starting_patient(self) -> None:
        """A new vault's own "Me" gives way to the patients being imported, if nothing
        was ever recorded for it."""
        from luna_tui.services.patients import Patients
        from luna_tui.store.models.patients import Patient

        patients = list(Patient.select())
        if len(patients) != 1:
            return
        only = patients[0]
        from dataclasses import astuple

        impact = Patients(self.session).deletion_impact(only.id)
        nothing_recorded = not any(astuple(impact))
        untouched = (only.name == "Me" and only.relationship == "self"
                     and only.created_at == only.updated_at and nothing_recorded)
        if untouched:
            Patient.delete().where(Patient.id == only.id).execute()

    def _message_id_map(self, rows: list[Any]) -> dict[int, int]:
        """Messages have integer ids; where one is already used by a message of another
        session in this vault, the imported message gets a new id."""
        from peewee import fn

        from luna_tui.store.models.ai import Message

        taken = {}
        ids = [r.get("id") for r in rows if isinstance(r, dict) and isinstance(r.get("id"), int)]
        for start in range(0, len(ids), 500):
            for message in Message.select(Message.id, Message.session).where(
                    Message.id.in_(ids[start:start + 500])):
                taken[message.id] = message.session_id
        clashes = [r["id"] for r in rows if isinstance(r, dict) and r.get("id") in taken
                   and taken[r["id"]] != r.get("session_id")]
        if not clashes:
            return {}
        next_id = (Message.select(fn.MAX(Message.id)).scalar() or 0) + 1
        next_id = max(next_id, max(ids) + 1)
        return {old: next_id + offset for offset, old in enumerate(clashes)}


def _checked_setting(row: dict[str, Any], now: str) -> dict[str, Any] | None:
    """A setting comes in only if Luna knows it, it isn't secret, and its value passes
    the same check `luna settings set` applies; anything else is left out."""
    setting = SETTINGS.get(row.get("key"))  # type: ignore[arg-type]
    if setting is None or setting.secret or not isinstance(row.get("value"), str):
        return None
    try:
        value = setting.check(json.loads(row["value"]))
    except (ValueError, TypeError):
        return None
    return {"key": row["key"], "value": json.dumps(value),
            "created_at": str(row.get("created_at") or now),
            "updated_at": str(row.get("updated_at") or now)}


def _conflict_key(model: Any) -> list[str]:
    """The column a row is recognised by: its public id."""
    meta = model._meta
    if "id" in meta.columns:
        return ["id"]
    if meta.table_name == "config":
        return ["key"]
    return [meta.primary_key.column_name]


def _jrnl_drafts(entries: list[Any]) -> Iterator[EntryDraft]:
    for number, item in enumerate(entries, 1):
        if not isinstance(item, dict):
            raise ValidationError(f"Entry {number} of the jrnl file is not an entry.")
        title = str(item.get("title") or "").strip()
        body = str(item.get("body") or "").strip()
        content, title_kept = (body, title or None) if body else (title, None)
        if not content:
            continue
        yield EntryDraft(
            content=content, title=title_kept, entry_date=item.get("date"),
            entry_time=item.get("time") or "", tags=item.get("tags") or [],
            favorite=bool(item.get("starred")),
        )
