"""The vault's own rows in luna.db: settings, and the audit chain's newest link."""

from __future__ import annotations

from peewee import CharField, IntegerField, TextField

from luna_tui.store.models.base import BaseModel


class Config(BaseModel):
    """Settings as key → JSON value. Secrets (an AI API key) live here because this
    table is inside the encrypted database, never in a plain config file."""

    key = TextField(primary_key=True)
    value = TextField()
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "config"


class AuditHead(BaseModel):
    """The newest (seq, mac) of the audit chain, kept apart from the audit files so
    that cutting rows off the end of the log is noticed."""

    id = IntegerField(primary_key=True)
    seq = IntegerField()
    mac = CharField()
    month = CharField()
    updated_at = TextField()

    class Meta:
        table_name = "audit_head"


class TermsAcceptance(BaseModel):
    """Acceptance of a notice, such as "Luna is not a medical device"."""

    id = TextField(primary_key=True)
    terms_key = TextField()
    version = TextField()
    text_sha256 = TextField()
    accepted_at = TextField()
    key_locator_hash = TextField(null=True)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "terms"
