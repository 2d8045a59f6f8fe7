"""Appointments, with the follow-up that one may lead to."""

from __future__ import annotations

from peewee import ForeignKeyField, IntegerField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.patients import Patient


class Appointment(BaseModel):
    id = TextField(primary_key=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by the date index below
    appointment_date = TextField()  # YYYY-MM-DD
    appointment_time = TextField(null=True)  # HH:MM
    duration_minutes = IntegerField(null=True)
    appointment_type = TextField(default="routine")
    provider_name = TextField(null=True)
    location = TextField(null=True)
    reason = TextField(null=True)
    preparation_notes = TextField(null=True)
    status = TextField(default="scheduled")
    outcome_summary = TextField(null=True)
    follow_up_required = IntegerField(default=0)
    follow_up_of = ForeignKeyField("self", column_name="follow_up_of", null=True,
                                   on_delete="SET NULL", backref="follow_ups")
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "appointments"
        indexes = (
            (("patient", "appointment_date", "appointment_time"), False),
            (("follow_up_of",), False),
        )
