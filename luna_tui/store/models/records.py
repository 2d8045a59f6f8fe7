"""Medical records (Doctor Dok's: lab results, visit notes, …) and their attached
files; each file itself lives encrypted under attachments/."""

from __future__ import annotations

from peewee import AutoField, ForeignKeyField, IntegerField, TextField
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from luna_tui.store.models.base import BaseModel, database
from luna_tui.store.models.fields import JsonListField
from luna_tui.store.models.patients import Patient


class MedicalRecord(BaseModel):
    record_no = AutoField()  # the full-text index's key (see journal.py)
    id = TextField(unique=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by idx_records_patient_date
    record_type = TextField(default="other")
    title = TextField()
    description = TextField(null=True)
    tags = JsonListField(default=list)
    event_date = TextField(null=True)
    text = TextField(null=True)  # the person's own free text
    extracted_text = TextField(null=True)  # its attachments' text, kept by the service
    checksum = TextField(null=True)  # SHA-256 of the record's fields, set by the service
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "records"


MedicalRecord.add_index(MedicalRecord.patient, MedicalRecord.event_date.desc(),
                        name="idx_records_patient_date")


class Attachment(BaseModel):
    id = TextField(primary_key=True)
    record = ForeignKeyField(MedicalRecord, field=MedicalRecord.id, column_name="record_id",
                             on_delete="CASCADE", index=False)  # led by (record, sha256)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE")
    file_name = TextField()
    mime_type = TextField(default="application/octet-stream")
    size = IntegerField()
    sha256 = TextField()  # of the plaintext
    storage_path = TextField(unique=True)  # attachments/ab/<id>, relative to LUNA_HOME
    extracted_text = TextField(null=True)  # read from a text file or a PDF's text layer
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "attachments"
        indexes = ((("record", "sha256"), True),)  # one copy of a file per record


class RecordFts(FTS5Model):
    rowid = RowIDField()
    title = SearchField()
    description = SearchField()
    tags = SearchField()
    text = SearchField()
    extracted_text = SearchField()

    class Meta:
        database = database
        table_name = "records_fts"
        options = {
            "content": "records",
            "content_rowid": "record_no",
            "tokenize": "unicode61 remove_diacritics 2",
        }
