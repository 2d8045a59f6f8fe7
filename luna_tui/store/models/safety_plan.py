"""The safety plan: a patient's items under its seven sections, the phrases that open
it, and which trigger's one-time explanation was shown (migration 0010).

A plan holds the names and numbers of the people a person turns to in a crisis, so it is
kept out of exports (which are not encrypted) as drafts are: the registry lists it
apart from DATA_MODELS, and backups (encrypted) carry it like every table.
"""

from __future__ import annotations

from peewee import ForeignKeyField, IntegerField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.fields import JsonListField
from luna_tui.store.models.patients import Patient


class SafetyPlanItem(BaseModel):
    id = TextField(primary_key=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by the index below
    section = TextField()  # one of services/safety/plan.py SECTIONS
    position = IntegerField()  # the order within its section
    text = TextField()
    on_card = IntegerField(default=0)  # chosen for the crisis card (1) or not (0)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "safety_plan_items"
        indexes = ((("patient", "section", "position"), False),)


class SafetyPlan(BaseModel):
    """A patient's own phrases; no row: Luna's default phrases."""

    patient = ForeignKeyField(Patient, column_name="patient_id", primary_key=True,
                              on_delete="CASCADE")
    phrases = JsonListField()
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "safety_plans"


class SafetyNotice(BaseModel):
    """A trigger whose explanation has been shown once (key | phrase | mood_drop)."""

    trigger = TextField(primary_key=True)
    shown_at = TextField()

    class Meta:
        table_name = "safety_notices"
