"""Entry templates a person defines: a name, a title pattern, a body of headings and
prompts, default tags, the journal type, and whether the entry asks for mood and sleep.

Templates belong to the vault, not to one patient: a caregiver's "Evening check-in"
serves each person they write for. They are data (exported, imported, backed up).
"""

from __future__ import annotations

from peewee import IntegerField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.fields import JsonListField


class EntryTemplate(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()  # unique, case-insensitive
    title = TextField(null=True)  # a title pattern: "Check-in {date}"
    body = TextField(default="")  # Markdown: headings and prompts to write under
    tags = JsonListField(default=list)
    journal_type = TextField(default="free")  # free | prompted | mood_check
    prompt = TextField(null=True)  # a prompted template's question
    asks_mood = IntegerField(default=1)  # 1: the editor shows the mood fields
    asks_sleep = IntegerField(default=1)  # 1: the editor shows the sleep field
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "entry_templates"
        # Unique whatever the case: the migration's index is on (name COLLATE NOCASE).
        indexes = ((("name",), True),)
