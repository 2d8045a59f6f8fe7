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
    # The first row written through the outbox (migration 0006): gaps before it may be
    # the old crash window's, gaps after it can't be a crash's.
    crash_safe_from = IntegerField(default=1)

    class Meta:
        table_name = "audit_head"


class AuditOutbox(BaseModel):
    """Audit rows committed with their change in luna.db, until the month file has them
    (store/audit_chain.py). The columns are the audit row's, plus its month."""

    seq = IntegerField(primary_key=True)
    month = TextField()
    created_at = TextField()
    event_name = TextField()
    key_locator_hash = TextField(null=True)
    record_locator = TextField(null=True)
    diff = TextField(null=True)
    host = TextField()
    client = TextField()
    mac = TextField()

    class Meta:
        table_name = "audit_outbox"


class AuditAnchor(BaseModel):
    """Where `luna doctor --repair` let the chain resume after a gap it could explain
    (a crash in an older Luna, or a month file that went missing). `mac` binds the
    anchor to the vault's audit key, so an anchor can't be added without it."""

    resume_seq = IntegerField(primary_key=True)
    missing_from = IntegerField()
    resume_mac = TextField()
    reason = TextField()
    created_at = TextField()
    mac = TextField()

    class Meta:
        table_name = "audit_anchor"


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
