"""The audit log: one row per event, in the attached `audit` database (one file per
month), each row chained to the one before it by an HMAC (store/audit_chain.py)."""

from __future__ import annotations

from peewee import IntegerField, TextField

from luna_tui.store.models.base import BaseModel


class AuditEvent(BaseModel):
    seq = IntegerField(primary_key=True)
    created_at = TextField()
    event_name = TextField()
    key_locator_hash = TextField(null=True)
    record_locator = TextField(null=True)
    diff = TextField(null=True)  # JSON of the changed fields; the file is encrypted
    host = TextField()
    client = TextField()
    mac = TextField()

    class Meta:
        table_name = "audit"
        schema = "audit"
