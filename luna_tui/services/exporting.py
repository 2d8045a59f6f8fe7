"""Getting everything out: a full JSON export (re-importable into a new vault) and a
Markdown journal for reading.

Private journal entries (and with them their mood, sleep and feelings) stay in the
vault unless the person asks for them by name (`include_private`): an export is for
taking data elsewhere, and a private entry never leaves without that. The JSON header
says which it is. A backup, not an export, is the complete copy of a vault.

Exports are plaintext by design: they are how a person takes their data elsewhere.
Attachments go in the JSON export too, their files decrypted and base64-encoded.
They are written 0600, and the commands say they are not encrypted. Secret settings
(an AI API key) are left out. Every export is audited (what, not the text), and the
audit row comes first: no data leaves the vault unrecorded, even if the export then
fails. The rows are read in one read transaction, so an export is a consistent
snapshot even while another Luna process writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from luna_tui import __version__
from luna_tui.services.attachments import exported_content
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.settings import SETTINGS
from luna_tui.store import migrate
from luna_tui.store.models.base import database
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.patients import Patient, owner_first
from luna_tui.store.models.registry import DATA_MODELS
from luna_tui.store.models.vault_state import Config

EXPORT_FORMAT = "luna-export"
EXPORT_VERSION = 2  # 2: attachments carry their files (content_base64)
# Integer keys that exist only so full-text indexes have a stable rowid; the importing
# vault assigns its own.
LOCAL_KEYS = {"journal_entries": "entry_no", "records": "record_no"}
PRIVATE = "private"  # an entry's privacy_level that keeps it out of exports unless asked


def _secret_config_keys() -> set[str]:
    return {name for name, setting in SETTINGS.items() if setting.secret}


class Exporter(DomainService):
    @on_db_thread
    def table_counts(self, *, include_private: bool = False) -> dict[str, int]:
        """The rows an export writes, by table."""
        return {m._meta.table_name: _selected(m, include_private).count() for m in DATA_MODELS}

    @on_db_thread
    def private_entries(self) -> int:
        """How many journal entries are private: what an export leaves out unless asked."""
        return JournalEntry.select().where(JournalEntry.privacy_level == PRIVATE).count()

    @on_db_thread
    def write_json(self, out: IO[str], progress: Callable[[int], None] | None = None, *,
                   include_private: bool = False) -> dict[str, int]:
        """Write every table of luna.db as one JSON document, a row per line; private
        journal entries only with `include_private`."""

        header = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "app_version": __version__,
            "exported_at": self.stamp(),
            "vault_id": self.session.key.vault_id,
            "schema": migrate.applied_migrations(database.obj, migrate.MAIN),
            "private_entries": "included" if include_private else "left out",
        }
        self._audit("export.json", self.table_counts(include_private=include_private),
                    include_private)
        with database.atomic():  # a deferred (read) transaction: one snapshot of every table
            return self._write_tables(out, header, progress, include_private)

    def _write_tables(self, out: IO[str], header: dict[str, Any],
                      progress: Callable[[int], None] | None,
                      include_private: bool) -> dict[str, int]:
        counts: dict[str, int] = {}
        written = 0
        out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "tables": {\n')
        for index, model in enumerate(DATA_MODELS):
            table = model._meta.table_name
            out.write(("" if index == 0 else ",\n") + json.dumps(table) + ": [")
            counts[table] = 0
            for row_index, row in enumerate(self._rows(model, include_private)):
                out.write(("\n" if row_index == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
                counts[table] += 1
                written += 1
                if progress and written % 1000 == 0:
                    progress(written)
            out.write("\n]" if counts[table] else "]")
        out.write("\n}}\n")
        if progress:
            progress(written)
        return counts

    def _rows(self, model: Any, include_private: bool) -> Iterator[dict[str, Any]]:
        table = model._meta.table_name
        skip = LOCAL_KEYS.get(table)
        columns = [f.column_name for f in model._meta.sorted_fields if f.column_name != skip]
        query = (_selected(model, include_private).order_by(*_export_order(model)).tuples()
                 .iterator())
        secrets = _secret_config_keys() if model is Config else set()
        names = [f.column_name for f in model._meta.sorted_fields]
        for values in query:
            row = dict(zip(names, values, strict=True))
            if model is Config and row["key"] in secrets:
                continue
            exported = {c: _json_value(model, c, row[c]) for c in columns}
            if table == "attachments":  # the file itself, so an import loses nothing

                exported["content_base64"] = exported_content(
                    self.session, row["id"], row["record_id"], row["storage_path"],
                    row["sha256"])
            yield exported

    @on_db_thread
    def write_markdown(self, out: IO[str], *, include_private: bool = False) -> int:
        """The journal of every patient, oldest entry first, as readable Markdown; private
        entries only with `include_private`."""

        self._audit("export.markdown", {"journal_entries": _selected(
            JournalEntry, include_private).count()}, include_private)
        with database.atomic():
            return self._write_journal(out, include_private)

    def _write_journal(self, out: IO[str], include_private: bool) -> int:

        out.write(f"# Luna journal\n\nExported {self.local_now():%Y-%m-%d %H:%M}.\n")
        count = 0
        for patient in Patient.select().order_by(owner_first(), Patient.name):
            out.write(f"\n## {patient.name}\n")
            entries = (_selected(JournalEntry, include_private)
                       .where(JournalEntry.patient == patient.id)
                       .order_by(JournalEntry.entry_date, JournalEntry.entry_time,
                                 JournalEntry.entry_no).iterator())
            for entry in entries:
                out.write(_markdown_entry(entry))
                count += 1
        return count

    def _audit(self, event: str, counts: dict[str, int], include_private: bool) -> None:
        # A read: allowed for read-only keys, but still on the record. The counts are
        # those just before the snapshot is taken.
        with self.session.transaction() as tx:
            tx.record(event, diff={"rows": [None, counts],
                                   "private_entries": [None, include_private]})


def _selected(model: Any, include_private: bool) -> Any:
    """The rows of `model` an export takes: all, but for the private journal entries
    unless they are asked for."""
    query = model.select()
    if model is JournalEntry and not include_private:
        query = query.where(JournalEntry.privacy_level != PRIVATE)
    return query


def _export_order(model: Any) -> list[Any]:
    meta = model._meta
    if "created_at" in meta.fields:
        return [meta.fields["created_at"], meta.primary_key] if meta.primary_key else [
            meta.fields["created_at"]]
    return [meta.primary_key] if meta.primary_key else []


def _json_value(model: Any, column: str, value: Any) -> Any:
    """JSON-array columns go out as arrays, not as strings holding JSON."""
    field = model._meta.columns.get(column)
    if field is not None and type(field).__name__ == "JsonListField" and isinstance(value, str):
        return json.loads(value)
    return value


def _markdown_entry(entry: Any) -> str:
    when = f"{entry.entry_date} {entry.entry_time}".strip()
    heading = f"### {when}" + (f" — {entry.title}" if entry.title else "")
    details = []
    if entry.mood and entry.mood_scale:
        details.append(f"mood: {entry.mood} ({entry.mood_scale}/10)")
    elif entry.mood or entry.mood_scale:
        details.append(f"mood: {entry.mood or f'{entry.mood_scale}/10'}")
    if entry.sleep_hours is not None:
        details.append(f"sleep: {entry.sleep_hours:g} h")
    if entry.emotions:
        details.append("feeling: " + ", ".join(entry.emotions))
    if entry.tags:
        details.append(" ".join(f"#{t}" for t in entry.tags))
    if entry.privacy_level == "private":
        details.append("private")
    if entry.favorite:
        details.append("★")
    meta = f"\n*{' · '.join(details)}*\n" if details else ""
    prompt = f"\n> {entry.prompt}\n" if entry.prompt else ""
    return f"\n{heading}\n{meta}{prompt}\n{entry.content.strip()}\n"
