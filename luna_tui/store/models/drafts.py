"""What a person was typing into a form, kept while they type (encrypted in luna.db
like everything else) so a lock, a quit or a crash never throws it away.

A draft is scratch, not data: it is never exported, imported, synced or shown to the
AI companion, which is why it is not among the registry's DATA_MODELS.
"""

from __future__ import annotations

from peewee import ForeignKeyField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.patients import Patient


class Draft(BaseModel):
    id = TextField(primary_key=True)
    kind = TextField()  # which form: "journal_entry", "medication", …
    item_id = TextField(null=True)  # the row the form changes; NULL for a new one
    # Whose data the form was for (NULL: the form is not a patient's, e.g. a persona).
    patient = ForeignKeyField(Patient, column_name="patient_id", null=True,
                              on_delete="CASCADE")
    fields = TextField()  # JSON object: each field's id → what it held
    context = TextField()  # JSON object: what reopens the same form (a follow-up's origin)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "drafts"
