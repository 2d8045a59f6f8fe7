"""Journal entries, their tags as rows, and the full-text index over them.

`entry_no` is the entry's INTEGER PRIMARY KEY: the full-text index is keyed by it, and
unlike the implicit rowid of a table with a TEXT key, VACUUM never renumbers it. `id`
is the entry's public, stable UUID.
"""

from __future__ import annotations

from peewee import AutoField, CompositeKey, FloatField, ForeignKeyField, IntegerField, TextField
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from luna_tui.store.models.ai import ChatSession
from luna_tui.store.models.base import BaseModel, database
from luna_tui.store.models.fields import JsonListField
from luna_tui.store.models.patients import Patient


class JournalEntry(BaseModel):
    entry_no = AutoField()
    id = TextField(unique=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by the date indexes below
    session = ForeignKeyField(ChatSession, column_name="session_id", null=True,
                              on_delete="SET NULL", index=False)  # named index below
    title = TextField(null=True)
    content = TextField()
    entry_date = TextField()  # YYYY-MM-DD, local
    entry_time = TextField(default="")  # HH:MM, local; "" when the time is unknown
    mood = TextField(null=True)  # a word: "calm", "anxious"
    mood_scale = IntegerField(null=True)  # 1..10
    sleep_hours = FloatField(null=True)
    emotions = JsonListField(default=list)
    tags = JsonListField(default=list)
    journal_type = TextField(default="free")  # free | prompted | mood_check
    prompt = TextField(null=True)
    privacy_level = TextField(default="private")  # private | shared
    favorite = IntegerField(default=0)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "journal_entries"


JournalEntry.add_index(JournalEntry.patient, JournalEntry.entry_date.desc(),
                       name="idx_journal_entries_patient_date")
JournalEntry.add_index(JournalEntry.patient, JournalEntry.mood, name="idx_journal_entries_mood")
JournalEntry.add_index(JournalEntry.patient, JournalEntry.favorite,
                       name="idx_journal_entries_favorite")
JournalEntry.add_index(JournalEntry.patient, JournalEntry.entry_date.desc(),
                       JournalEntry.entry_time.desc(), JournalEntry.entry_no.desc(),
                       name="idx_journal_entries_patient_moment")
JournalEntry.add_index(JournalEntry.session, name="idx_journal_entries_session")
# Covering: daily mood and sleep for a chart come from the index alone (migration 0004).
JournalEntry.add_index(JournalEntry.patient, JournalEntry.entry_date, JournalEntry.mood_scale,
                       JournalEntry.sleep_hours, name="idx_journal_entries_daily_scores")


class JournalEntryTag(BaseModel):
    """One row per (entry, tag), kept in step with `journal_entries.tags` by triggers,
    so filtering and counting by tag use an index."""

    entry = ForeignKeyField(JournalEntry, field=JournalEntry.id, column_name="entry_id",
                            on_delete="CASCADE", index=False)  # led by the primary key
    patient_id = TextField()
    tag = TextField()

    class Meta:
        table_name = "journal_entry_tags"
        primary_key = CompositeKey("entry", "tag")
        without_rowid = True
        indexes = ((("patient_id", "tag"), False),)


class JournalFts(FTS5Model):
    """The full-text index (title, content, tags), external content: journal_entries."""

    rowid = RowIDField()
    title = SearchField()
    content = SearchField()
    tags = SearchField()

    class Meta:
        database = database
        table_name = "journal_fts"
        options = {
            "content": "journal_entries",
            "content_rowid": "entry_no",
            "tokenize": "unicode61 remove_diacritics 2",
        }
