"""Medical records: lab results, visit notes, prescriptions, imaging reports — each
belonging to one patient, with a type, title, description, tags, the date of the
event, free text, and files attached (services/attachments.py).

Search covers the title, description, tags, the person's free text and the text
read from attachments. Deleting a record deletes its attachments' files too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from peewee import SQL, NodeList, fn

from luna_tui.errors import NotFound, ValidationError
from luna_tui.human_size import human_size
from luna_tui.services.base import (
    DomainService,
    audit_diff,
    id_from_prefix,
    new_id,
    on_db_thread,
)
from luna_tui.services.text_search import MARK_END, MARK_START, fts_query
from luna_tui.services.validation import (
    clean_tags,
    optional_text,
    parse_optional_date,
    refuse_controls,
    required_text,
)
from luna_tui.store.models.patients import Patient
from luna_tui.store.models.records import Attachment, MedicalRecord, RecordFts

RECORD_TYPES: dict[str, str] = {
    "lab": "Lab result", "visit": "Visit note", "prescription": "Prescription",
    "imaging": "Imaging report", "vaccination": "Vaccination", "referral": "Referral",
    "other": "Other",
}
_TYPE_ALIASES = {
    "lab result": "lab", "labs": "lab", "blood test": "lab", "test": "lab",
    "visit note": "visit", "note": "visit", "consultation": "visit", "letter": "visit",
    "rx": "prescription", "script": "prescription", "imaging report": "imaging",
    "scan": "imaging", "x-ray": "imaging", "xray": "imaging", "mri": "imaging",
    "ct": "imaging", "ultrasound": "imaging", "vaccine": "vaccination",
    "immunisation": "vaccination", "immunization": "vaccination",
}
FIELDS = ("record_type", "title", "description", "tags", "event_date", "text")
FREE_TEXT = frozenset({"title", "description", "text"})
MAX_TEXT = 200_000
SHORT_ID = 8  # how much of an id `luna records` shows; any unique prefix is accepted


def normalise_type(value: object) -> str:
    text = " ".join(str(value or "").lower().replace("_", " ").split())
    if not text:
        return "other"
    text = _TYPE_ALIASES.get(text, text)
    if text not in RECORD_TYPES:
        kinds = ", ".join(RECORD_TYPES)
        raise ValidationError(f"'{value}' is not a record type; choose one of: {kinds}.",
                              "record_type")
    return text


@dataclass(frozen=True)
class AttachmentView:
    id: str
    record_id: str
    file_name: str
    mime_type: str
    size: int
    sha256: str
    created_at: str
    has_text: bool

    @property
    def display_size(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True)
class RecordView:
    id: str
    patient_id: str
    record_type: str
    title: str
    description: str | None
    tags: list[str]
    event_date: str | None
    text: str | None
    created_at: str
    updated_at: str
    attachments: list[AttachmentView]

    @property
    def type_label(self) -> str:
        return RECORD_TYPES.get(self.record_type, self.record_type)

    @property
    def short_id(self) -> str:
        return self.id[:SHORT_ID]


@dataclass(frozen=True)
class RecordHit:
    record: RecordView
    snippet: str  # with MARK_START / MARK_END around the words found


def attachment_view(row: Attachment) -> AttachmentView:
    return AttachmentView(row.id, row.record_id, row.file_name, row.mime_type, row.size,
                          row.sha256, row.created_at, bool(row.extracted_text))


def record_checksum(values: dict[str, object]) -> str:
    """SHA-256 of a record's own fields, canonically encoded (DESIGN: records.checksum)."""
    canonical = json.dumps({f: values.get(f) for f in FIELDS}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Records(DomainService):
    # -- writing --------------------------------------------------------------------

    @on_db_thread
    def create(self, patient_id: str, **values: object) -> RecordView:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")
        refuse_controls(values)
        cleaned = self._validated(values)
        stamp = self.stamp()
        with self.session.writing("add a record") as tx:
            row = MedicalRecord.create(id=new_id(), patient=patient_id, created_at=stamp,
                                       updated_at=stamp, checksum=record_checksum(cleaned),
                                       **cleaned)
            tx.record("record.create", row.id, audit_diff(None, cleaned, FREE_TEXT))
        return self._get(row.id)

    @on_db_thread
    def update(self, record_id: str, **changes: object) -> RecordView:
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValidationError(f"Records have no field {', '.join(sorted(unknown))}.")
        row = self._row(record_id)
        before = {f: getattr(row, f) for f in FIELDS}
        refuse_controls(changes, stored=before)
        cleaned = self._validated({**before, **changes})
        with self.session.writing("change a record") as tx:
            (MedicalRecord.update(updated_at=self.stamp(), checksum=record_checksum(cleaned),
                                  **cleaned)
             .where(MedicalRecord.id == record_id).execute())
            tx.record("record.update", record_id, audit_diff(before, cleaned, FREE_TEXT))
        return self._get(record_id)

    def delete(self, record_id: str) -> int:
        """Delete the record and its attachments; returns how many files went with it.

        The rows go first (one transaction), the files after: a crash in between leaves
        marked files without rows, removed at the next opening, never rows whose files
        are gone."""
        from luna_tui.store.attachment_markers import remove_files

        paths = self.session.run(self._delete_rows, record_id)
        remove_files(self.session.layout, paths)
        return len(paths)

    def _delete_rows(self, record_id: str) -> list[str]:
        from luna_tui.store.attachment_markers import mark_for_removal

        row = self._row(record_id)
        with self.session.writing("delete a record") as tx:
            # Listed inside the transaction: another Luna may attach a file meanwhile.
            paths = [a.storage_path for a in Attachment.select(Attachment.storage_path)
                     .where(Attachment.record == record_id)]
            mark_for_removal(self.session.layout, paths)
            MedicalRecord.delete().where(MedicalRecord.id == record_id).execute()
            tx.record("record.delete", record_id, {"record_type": [row.record_type, None],
                                                   "attachments": [len(paths), None]})
        return paths

    # -- reading --------------------------------------------------------------------

    @on_db_thread
    def get(self, record_id: str) -> RecordView:
        return self._get(record_id)

    @on_db_thread
    def resolve(self, id_or_prefix: str) -> str:
        """The id a person means: the whole id, or a prefix only one record has."""
        return id_from_prefix(MedicalRecord.id, id_or_prefix, "a record")

    @on_db_thread
    def list(self, patient_id: str, *, record_type: str | None = None,
             tag: str | None = None, limit: int | None = None, offset: int = 0
             ) -> list[RecordView]:
        """Newest event first (records without a date last), then newest added. Paged by
        offset: a person's records number in the hundreds, not the hundred thousands."""
        query = self._filtered(MedicalRecord.select(), patient_id, record_type, tag)
        query = query.order_by(SQL("event_date IS NULL"), MedicalRecord.event_date.desc(),
                               MedicalRecord.created_at.desc(), MedicalRecord.record_no.desc())
        if limit:
            query = query.limit(limit).offset(offset)
        return self._views(list(query))

    @on_db_thread
    def search(self, patient_id: str, text: str, *, record_type: str | None = None,
               tag: str | None = None, limit: int = 100, prefix_last: bool = False
               ) -> list[RecordHit]:
        """Records matching every word (in any field or attachment text), best first."""
        match = fts_query(text, prefix_last=prefix_last)
        if match is None:
            return []
        score = RecordFts.bm25(5.0, 2.0, 3.0, 1.0, 1.0)
        snippet = fn.snippet(SQL("records_fts"), -1, MARK_START, MARK_END, "…", 16)
        query = (MedicalRecord.select(MedicalRecord, snippet.alias("snip"))
                 .join(RecordFts, on=(RecordFts.rowid == MedicalRecord.record_no))
                 .where(RecordFts.match(match)))
        query = self._filtered(query, patient_id, record_type, tag)
        rows = list(query.order_by(score).limit(limit))
        views = self._views(rows)
        return [RecordHit(view, row.snip or "") for view, row in zip(views, rows, strict=True)]

    @on_db_thread
    def tag_counts(self, patient_id: str) -> list[tuple[str, int]]:
        cursor = MedicalRecord._meta.database.execute_sql(
            "SELECT t.value, COUNT(*) AS n FROM records, json_each(records.tags) AS t"
            " WHERE records.patient_id = ? GROUP BY t.value ORDER BY n DESC, t.value",
            (patient_id,))
        return [(tag, n) for tag, n in cursor.fetchall()]

    @on_db_thread
    def types_in_use(self, patient_id: str) -> list[str]:
        query = (MedicalRecord.select(MedicalRecord.record_type).distinct()
                 .where(MedicalRecord.patient == patient_id))
        found = {row.record_type for row in query}
        return [kind for kind in RECORD_TYPES if kind in found]

    # -- helpers --------------------------------------------------------------------

    def _filtered(self, query, patient_id: str, record_type: str | None,  # noqa: ANN001
                  tag: str | None):  # noqa: ANN202 - a peewee query
        query = query.where(MedicalRecord.patient == patient_id)
        if record_type:
            query = query.where(MedicalRecord.record_type == normalise_type(record_type))
        if tag:
            wanted = clean_tags([tag])
            if wanted:
                query = query.where(NodeList((
                    SQL("EXISTS (SELECT 1 FROM json_each("), MedicalRecord.tags,
                    SQL(") WHERE value ="), wanted[0], SQL(")"))))
        return query

    def _row(self, record_id: str) -> MedicalRecord:
        row = MedicalRecord.get_or_none(MedicalRecord.id == record_id)
        if row is None:
            raise NotFound("That record no longer exists.")
        return row

    def _get(self, record_id: str) -> RecordView:
        return self._views([self._row(record_id)])[0]

    def _views(self, rows: list[MedicalRecord]) -> list[RecordView]:
        files: dict[str, list[AttachmentView]] = {row.id: [] for row in rows}
        if rows:
            query = (Attachment.select().where(Attachment.record.in_(list(files)))
                     .order_by(Attachment.created_at, Attachment.file_name))
            for attachment in query:
                files[attachment.record_id].append(attachment_view(attachment))
        return [RecordView(row.id, row.patient_id, row.record_type, row.title,
                           row.description, list(row.tags), row.event_date, row.text,
                           row.created_at, row.updated_at, files[row.id]) for row in rows]

    def _validated(self, values: dict[str, object]) -> dict[str, object]:
        event = parse_optional_date(values.get("event_date"), "event_date", self.today())
        if event is not None and event > self.today() + dt.timedelta(days=366):
            raise ValidationError("The event date is more than a year ahead; check the year.",
                                  "event_date")
        text = optional_text(values.get("text"), multiline=True)
        if text is not None and len(text) > MAX_TEXT:
            raise ValidationError(f"The text is too long ({len(text):,} characters; at most "
                                  f"{MAX_TEXT:,}). Attach it as a file instead.", "text")
        return {
            "record_type": normalise_type(values.get("record_type")),
            "title": required_text(values.get("title"), "title", max_length=200),
            "description": optional_text(values.get("description"), multiline=True),
            "tags": clean_tags(values.get("tags")),
            "event_date": event.isoformat() if event else None,
            "text": text,
        }
