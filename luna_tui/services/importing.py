"""Bringing data in: Luna's own JSON export (every table), jrnl's JSON export, and a
FHIR R4 Bundle (services/fhir/reading.py and importing.py take it apart and in).

A file is hostile until checked: `import_file` reads it under bounds, `import_schema`
checks its whole shape, and then — inside the one write transaction, still before the
first write — what needs the vault: every reference resolves, no persona name is taken
twice, an attachment id is not another file's. Any refusal is one `ImportRejected`
sentence naming the entry and the field, and the vault is left as it was.

Importing a file again adds nothing: a Luna export's rows keep their ids (upserted;
this vault's copy of a row is kept when it is newer than the file's, so an old export
never undoes a later edit), and jrnl entries get ids derived from their patient, date,
time and text.

The owner patient ("Me"). Into a vault that holds only its untouched starting patient,
the export's patients take its place, ids, settings and all: the vault becomes the
export. Into a vault with data, the export's owner (relationship "self") is merged into
this vault's owner instead of becoming a second "Me": everything of theirs becomes this
owner's, this owner's profile is kept (fields it left empty are filled from the
export), and this vault's settings are kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import fn

from luna_tui.clock import parse_utc_timestamp
from luna_tui.errors import ImportRejected, LunaError, ValidationError
from luna_tui.services.attachments import import_content
from luna_tui.services.base import DomainService
from luna_tui.services.exporting import EXPORT_FORMAT, EXPORT_VERSION
from luna_tui.services.fhir.importing import FhirImporter
from luna_tui.services.fhir.reading import FhirBundle, check_bundle, is_bundle
from luna_tui.services.import_file import nesting_depth
from luna_tui.services.import_file import read_import_file as read_import_file
from luna_tui.services.import_schema import (
    JrnlEntry,
    check_jrnl,
    check_luna_export,
    shown,
    table_columns,
)
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.patients import Patients
from luna_tui.services.settings import PASSPHRASE_ONLY, SETTINGS, Settings
from luna_tui.store import attachment_markers
from luna_tui.store.models.ai import Message, Persona
from luna_tui.store.models.base import database
from luna_tui.store.models.patients import Patient
from luna_tui.store.models.records import Attachment
from luna_tui.store.models.registry import DATA_MODELS
from luna_tui.store.models.templates import EntryTemplate
from luna_tui.store.sqlite_errors import is_database_error

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession

FORMATS = ("luna", "jrnl", "fhir")
FORMAT_NAMES = {"luna": "a Luna export", "jrnl": "a jrnl export", "fhir": "a FHIR Bundle"}
# The owner's profile fields an export may fill in when this vault left them empty.
PROFILE_FIELDS = ("date_of_birth", "gender", "phone", "emergency_contact", "primary_doctor",
                  "doctor_phone", "allergies", "notes")
BATCH = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportResult:
    format: str
    counts: dict[str, int]  # rows new to this vault, by table
    already_here: int = 0  # rows of the file this vault already held
    skipped: dict[str, int] = field(default_factory=dict)  # what Luna didn't take → how many

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """What came in, in one sentence (the CLI prints it, the app shows it)."""
        tables = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in self.counts.items() if n)
        skipped = ", ".join(f"{n} {what}" for what, n in sorted(self.skipped.items()))
        return (f"Imported {self.total} rows from {FORMAT_NAMES[self.format]}: "
                f"{tables or 'nothing'}." + (f" {self.already_here} were already in this "
                                             "vault." if self.already_here else "")
                + (f" Skipped {skipped}." if skipped else ""))


def detect_format(document: Any) -> str:
    if isinstance(document, dict) and document.get("format") == EXPORT_FORMAT:
        return "luna"
    if isinstance(document, dict) and isinstance(document.get("entries"), list):
        return "jrnl"
    if is_bundle(document):
        return "fhir"
    raise ImportRejected(
        "This file is neither a Luna export (`luna export --format json`), jrnl's JSON "
        "export (`jrnl --format json`) nor a FHIR Bundle.")


@dataclass(frozen=True)
class CheckedImport:
    """A document whose whole shape passed `check_document`: ready for a vault."""

    format: str
    jrnl_entries: list[JrnlEntry] | None = None
    tables: dict[str, list[dict[str, Any]]] | None = None
    exported_at: str | None = None
    fhir: FhirBundle | None = None


def check_document(document: Any, format: str | None = None) -> CheckedImport:
    """Everything that can be checked without the vault (so before it is unlocked)."""
    detected = detect_format(document)
    format = format or detected
    if format not in FORMATS:
        raise ValidationError(f"Luna imports {' and '.join(FORMATS)} files, not '{format}'.")
    if format != detected:
        raise ImportRejected(f"This file is not {FORMAT_NAMES[format]}.")
    if format == "fhir":
        return CheckedImport("fhir", fhir=check_bundle(document))
    if format == "jrnl":
        return CheckedImport("jrnl", jrnl_entries=check_jrnl(document))
    return CheckedImport("luna", tables=check_luna_export(document, EXPORT_VERSION),
                         exported_at=_export_time(document))


def _export_time(document: dict[str, Any]) -> str | None:
    """When the export says it was made, for the audit row only. It grants nothing, so a
    value that is not a timestamp as Luna writes it is left out rather than refused (a
    lone surrogate in it could not even be written)."""
    value = document.get("exported_at")
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parse_utc_timestamp(value)
    except ValueError:
        return None
    return value


class Importer(DomainService):
    def import_document(self, document: Any, *, format: str | None = None,
                        patient_id: str | None = None,
                        progress: Progress | None = None) -> ImportResult:
        return self.import_checked(check_document(document, format), patient_id=patient_id,
                                   progress=progress)

    def import_checked(self, checked: CheckedImport, *, patient_id: str | None = None,
                       progress: Progress | None = None) -> ImportResult:
        if checked.jrnl_entries is not None:
            return self._import_jrnl(checked.jrnl_entries, patient_id, progress)
        if checked.fhir is not None:
            outcome = FhirImporter(self.session).import_bundle(
                checked.fhir, patient_id=patient_id, progress=progress)
            return ImportResult("fhir", dict(outcome.counts), outcome.already_here,
                                dict(outcome.skipped))
        assert checked.tables is not None
        return self.session.run(self._import_luna, checked.tables, checked.exported_at,
                                progress)

    # -- jrnl -------------------------------------------------------------------------

    def _import_jrnl(self, entries: list[JrnlEntry], patient_id: str | None,
                     progress: Progress | None) -> ImportResult:

        patient_id = patient_id or Settings(self.session).current_patient_id()
        kept = [entry for entry in entries if (entry.body or entry.title).strip()]
        total = len(kept)
        added = Journal(self.session).import_entries(
            patient_id, [_jrnl_draft(entry) for entry in kept], source="jrnl",
            ids=[entry.stable_id(patient_id) for entry in kept],
            progress=(lambda done: progress(done, total)) if progress else None)
        return ImportResult("jrnl", {"journal_entries": added}, total - added)

    # -- luna (DB thread) -------------------------------------------------------------------

    def _import_luna(self, tables: dict[str, list[dict[str, Any]]], exported_at: str | None,
                     progress: Progress | None) -> ImportResult:
        written: list[Path] = []
        try:
            with self.session.writing("import a Luna export") as tx:
                plan = _plan(self.session, tables)  # reads only: a refusal here has changed nothing
                counts = self._write(plan, progress, written)
                tx.record("vault.import", diff={
                    "rows": [None, counts], "already_here": [None, plan.already_here],
                    "owner_merged": [None, plan.owner_merge is not None],
                    "exported_at": [None, exported_at]})
        except BaseException:
            for path in written:  # the rows are rolled back: their files go too
                path.unlink(missing_ok=True)
            raise
        finally:
            for path in written:  # file and row agree again: unmarked
                attachment_markers.unmark(self.session.layout, path.name)
        return ImportResult("luna", counts, plan.already_here)

    def _write(self, plan: _Plan, progress: Progress | None, written: list[Path]
               ) -> dict[str, int]:

        # Rows reference each other in every direction (follow-up appointments, pins and
        # messages); references were checked above and are checked again at commit.
        database.execute_sql("PRAGMA defer_foreign_keys = ON")
        if plan.starting_patient is not None:
            Patient.delete().where(Patient.id == plan.starting_patient).execute()
        if plan.owner_merge is not None:
            self._fill_owner_profile(*plan.owner_merge)
        total, done, counts = sum(len(r) for r in plan.tables.values()), 0, {}
        for model in DATA_MODELS:
            table = model._meta.table_name
            rows = [self._stored(table, row, written) for row in plan.tables[table]]
            rows = [row for row in rows if row is not None]
            for start in range(0, len(rows), BATCH):
                _upsert(model, rows[start:start + BATCH], keep_newer=not plan.fresh)
                done += len(rows[start:start + BATCH])
                if progress:
                    progress(done, total)
            counts[table] = sum(1 for row in rows if _key(table, row) not in plan.existing[table])
        return counts

    def _stored(self, table: str, row: dict[str, Any], written: list[Path]
                ) -> dict[str, Any] | None:
        """A checked row as its table stores it: lists as JSON, a setting only if Luna
        knows it, an attachment with its file encrypted into this vault."""
        if table == "config":
            return _checked_setting(row)
        values = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                  for k, v in row.items() if k != "content_base64"}
        if table == "attachments":

            try:
                path = import_content(self.session, values, row["content_base64"])
            except ValidationError as error:
                raise ImportRejected(f"{error}") from None
            if path is not None:
                written.append(path)
        return values

    def _fill_owner_profile(self, export_owner: dict[str, Any], owner_id: str) -> None:
        """This vault's owner keeps their profile; what they left empty, the export's
        owner fills in (an allergy must not be lost in a merge)."""

        owner = Patient.get_by_id(owner_id)
        filled = {name: export_owner[name] for name in PROFILE_FIELDS
                  if export_owner.get(name) and not getattr(owner, name)}
        if filled:
            Patient.update(updated_at=self.stamp(), **filled).where(
                Patient.id == owner_id).execute()


# -- the plan: every check that needs the vault, before any write --------------------------

@dataclass
class _Plan:
    tables: dict[str, list[dict[str, Any]]]  # the rows as they will be written
    fresh: bool  # the vault held nothing but its untouched starting patient
    starting_patient: str | None = None  # to remove: the export's patients replace it
    owner_merge: tuple[dict[str, Any], str] | None = None  # (export's owner row, owner id)
    existing: dict[str, set[Any]] = field(default_factory=dict)  # keys already here

    @property
    def already_here(self) -> int:
        return sum(len(keys) for keys in self.existing.values())


def _plan(session: VaultSession, tables: dict[str, list[dict[str, Any]]]) -> _Plan:
    starting = _untouched_starting_patient(session) if tables["patients"] else None
    plan = _Plan(tables, fresh=starting is not None, starting_patient=starting)
    if not plan.fresh:
        _merge_owner(plan)
    tables["messages"], tables["semantic_pins"], tables["conversation_summaries"] = (
        _renumbered_messages(tables))
    _check_unique_together(tables)
    _check_references(tables, starting)
    _check_against_vault(tables)
    plan.existing = {m._meta.table_name: _keys_in_vault(m, tables[m._meta.table_name])
                     for m in DATA_MODELS}
    if starting is not None:
        plan.existing["patients"].discard(starting)
    return plan


def _untouched_starting_patient(session: VaultSession) -> str | None:
    """The id of a new vault's own "Me", if it is the only patient and nothing was ever
    recorded for it."""


    patients = list(Patient.select().limit(2))
    if len(patients) != 1:
        return None
    only = patients[0]
    impact = Patients(session).deletion_impact(only.id)
    untouched = (only.name == "Me" and only.relationship == "self"
                 and only.created_at == only.updated_at and not any(astuple(impact)))
    return only.id if untouched else None


def _merge_owner(plan: _Plan) -> None:
    """Into a vault with data: the export's owner becomes this vault's owner."""

    owners = [row for row in plan.tables["patients"] if row["relationship"] == "self"]
    mine = (Patient.select().where(Patient.relationship == "self")
            .order_by(Patient.created_at, Patient.id).first())
    if len(owners) != 1 or mine is None or owners[0]["id"] == mine.id:
        return
    theirs = owners[0]["id"]
    plan.owner_merge = (owners[0], mine.id)
    plan.tables["patients"] = [r for r in plan.tables["patients"] if r["id"] != theirs]
    for rows in plan.tables.values():
        for row in rows:
            if row.get("patient_id") == theirs:
                row["patient_id"] = mine.id
    plan.tables["config"] = [r for r in plan.tables["config"]
                             if r["key"] != "current_patient"]  # this vault's own choice


def _renumbered_messages(tables: dict[str, list[dict[str, Any]]]) -> tuple[list, list, list]:
    """Messages have integer ids; one whose id another session's message already holds
    here is given the id of the same message already imported (same session, time, role
    and text), else a new one — so a second import finds it again instead of adding it
    twice. Pins and summaries follow their messages."""


    messages = tables["messages"]
    taken: dict[int, str] = {}
    ids = [row["id"] for row in messages]
    for start in range(0, len(ids), BATCH):
        for message in Message.select(Message.id, Message.session).where(
                Message.id.in_(ids[start:start + BATCH])):
            taken[message.id] = message.session_id
    clashes = [row for row in messages if row["id"] in taken
               and taken[row["id"]] != row["session_id"]]
    if not clashes:
        return messages, tables["semantic_pins"], tables["conversation_summaries"]
    next_id = max((Message.select(fn.MAX(Message.id)).scalar() or 0), max(ids)) + 1
    renumbered: dict[int, int] = {}
    for row in clashes:
        same = Message.get_or_none(Message.session == row["session_id"],
                                   Message.created_at == row["created_at"],
                                   Message.role == row["role"],
                                   Message.content == row["content"])
        if same is not None:
            renumbered[row["id"]] = same.id
        else:
            renumbered[row["id"]], next_id = next_id, next_id + 1

    def moved(rows: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
        return [{**row, **{c: renumbered.get(row[c], row[c]) for c in columns}}
                for row in rows]

    return (moved(messages, "id"), moved(tables["semantic_pins"], "message_id"),
            moved(tables["conversation_summaries"], "start_message_id", "end_message_id"))


def _check_unique_together(tables: dict[str, list[dict[str, Any]]]) -> None:
    """What the schema keeps unique beside the ids (checked above): a persona's name, a
    dose's slot, a file once per record."""
    for table, columns in (("personas", ("name",)),
                           ("medication_doses", ("medication_id", "scheduled_at")),
                           ("attachments", ("record_id", "sha256"))):
        seen: set[tuple[Any, ...]] = set()
        for number, row in enumerate(tables[table], 1):
            values = tuple(row[c] for c in columns)
            if values in seen:
                raise ImportRejected(f"row {number} ({table}): {', '.join(columns)} "
                                     f"{', '.join(shown(v) for v in values)} appears twice.")
            seen.add(values)


def _check_references(tables: dict[str, list[dict[str, Any]]], leaving: str | None) -> None:
    """Every reference names a row of the file or of this vault (not the starting
    patient, which is about to go)."""
    for model in DATA_MODELS:
        table = model._meta.table_name
        for column in table_columns(model):
            if column.references is None:
                continue
            target, target_column = column.references
            known = {row[target_column] for row in tables[target]}
            wanted = {row[column.name] for row in tables[table]} - known - {None}
            known |= _in_vault(target, target_column, wanted) - {leaving}
            for number, row in enumerate(tables[table], 1):
                value = row[column.name]
                if value is not None and value not in known:
                    noun = "entry" if table == "journal_entries" else "row"
                    raise ImportRejected(
                        f"{noun} {number} ({table}): {column.name} {shown(value)} names "
                        f"a row of {target} that is neither in the file nor in this vault.")


def _check_against_vault(tables: dict[str, list[dict[str, Any]]]) -> None:
    """A persona name another persona holds here, or an attachment id that is another
    file here, would fail half-way through the writes: refused now instead."""

    ids = {row["id"] for row in tables["personas"]}
    for number, row in enumerate(tables["personas"], 1):
        other = Persona.get_or_none(Persona.name == row["name"])
        if other is not None and other.id != row["id"] and other.id not in ids:
            raise ImportRejected(f"row {number} (personas): name {shown(row['name'])} is "
                                 "already another persona's in this vault; rename one first.")
    _check_template_names(tables["entry_templates"])
    for number, row in enumerate(tables["attachments"], 1):
        here = Attachment.get_or_none(Attachment.id == row["id"])
        if here is not None and (here.sha256 != row["sha256"]
                                 or here.record_id != row["record_id"]):
            raise ImportRejected(f"row {number} (attachments): id {shown(row['id'])} is "
                                 "another file in this vault; nothing was imported.")


def _check_template_names(rows: list[dict[str, Any]]) -> None:
    """A template's name is unique whatever its case, in the file and with this vault's
    other templates."""
    ids = {row["id"] for row in rows}
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        name = row["name"].lower()  # SQLite's NOCASE folds ASCII letters only, as lower()
        other = EntryTemplate.get_or_none(fn.lower(EntryTemplate.name) == name)
        if name in seen or (other is not None and other.id != row["id"]
                            and other.id not in ids):
            raise ImportRejected(f"row {number} (entry_templates): name {shown(row['name'])} "
                                 "is already another template's; rename one first.")
        seen.add(name)


def _in_vault(table: str, column: str, values: set[Any]) -> set[Any]:

    found: set[Any] = set()
    listed = list(values)
    for start in range(0, len(listed), BATCH):
        chunk = listed[start:start + BATCH]
        marks = ", ".join("?" for _ in chunk)
        found |= {r[0] for r in database.execute_sql(
            f'SELECT "{column}" FROM "{table}" WHERE "{column}" IN ({marks})', chunk)}
    return found


def _keys_in_vault(model: Any, rows: list[dict[str, Any]]) -> set[Any]:
    table = model._meta.table_name
    return _in_vault(table, "key" if table == "config" else "id",
                     {_key(table, row) for row in rows})


def _key(table: str, row: dict[str, Any]) -> Any:
    return row["key"] if table == "config" else row["id"]


# -- writing ---------------------------------------------------------------------------------

def _upsert(model: Any, rows: list[dict[str, Any]], *, keep_newer: bool) -> None:
    """Insert, or update the row with the same key (never REPLACE: that would skip the
    full-text index's delete trigger). With `keep_newer`, this vault's row wins when it
    is newer than the file's; a setting already here is kept."""
    if not rows:
        return

    table = model._meta.table_name
    key = "key" if table == "config" else "id"
    columns = list(rows[0])
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != key)
    action = f"DO UPDATE SET {updates}"
    if keep_newer:
        action = ("DO NOTHING" if table == "config"
                  else f'{action} WHERE excluded.updated_at >= "{table}".updated_at')
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks}) ON CONFLICT ("{key}") {action}'
    try:
        database.cursor().executemany(sql, [[row[c] for c in columns] for row in rows])
    except Exception as exc:
        if not is_database_error(exc) or "constraint" not in str(exc).lower():
            raise
        raise ImportRejected(f"The export's {table} holds a row this vault can't take "
                             f"({exc}); nothing was imported.") from None


def _checked_setting(row: dict[str, Any]) -> dict[str, Any] | None:
    """A setting comes in only if Luna knows it, it isn't secret, and its value passes
    the same check `luna settings set` applies; anything else is left out."""
    setting = SETTINGS.get(row["key"])
    if (setting is None or setting.secret or row["key"] in PASSPHRASE_ONLY
            or nesting_depth(row["value"]) > 1):
        return None
    try:
        value = setting.check(json.loads(row["value"]))
        # JSON may spell half of a character on its own ("\ud800"): text in the file that
        # reads as no text, which every later use of the setting would stumble on.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, LunaError):  # UnicodeEncodeError is a ValueError
        return None
    return {**row, "value": json.dumps(value)}


def _jrnl_draft(entry: JrnlEntry) -> EntryDraft:
    title, body = entry.title.strip(), entry.body.strip()
    content, title_kept = (body, title or None) if body else (title, None)
    return EntryDraft(content=content, title=title_kept, entry_date=entry.date,
                      entry_time=entry.time, tags=entry.tags, favorite=entry.starred)
