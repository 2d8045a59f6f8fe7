"""Medications, the doses taken of them, and their history of starts, stops and
dose changes (a change is an event, not an overwrite)."""

from __future__ import annotations

from peewee import FloatField, ForeignKeyField, IntegerField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.fields import JsonListField
from luna_tui.store.models.patients import Patient


class Medication(BaseModel):
    id = TextField(primary_key=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE")
    name = TextField()
    dosage = TextField()
    frequency = TextField()
    route = TextField(null=True)
    prescribing_doctor = TextField(null=True)
    pharmacy = TextField(null=True)
    rx_number = TextField(null=True)
    start_date = TextField(null=True)
    end_date = TextField(null=True)
    refill_date = TextField(null=True)
    supply_count = FloatField(null=True)  # doses on hand when last counted
    supply_counted_on = TextField(null=True)
    side_effects = TextField(null=True)
    notes = TextField(null=True)
    active = IntegerField(default=1)
    created_at = TextField()
    updated_at = TextField()
    schedule = JsonListField(default=list)  # ["08:00", "20:00"]: the day's dose slots
    reminders = IntegerField(default=1)  # 1: remind of its doses and refills

    class Meta:
        table_name = "medications"
        indexes = ((("patient",), False), (("active",), False))


class MedicationDose(BaseModel):
    id = TextField(primary_key=True)
    medication = ForeignKeyField(Medication, column_name="medication_id", on_delete="CASCADE",
                                 index=False)  # led by the unique slot index
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)
    scheduled_at = TextField()  # local YYYY-MM-DDTHH:MM: the slot this dose belongs to
    taken_at = TextField(null=True)
    status = TextField()  # taken | missed | late | skipped
    notes = TextField(null=True)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "medication_doses"
        indexes = ((("medication", "scheduled_at"), True), (("patient", "scheduled_at"), False))


class MedicationEvent(BaseModel):
    id = TextField(primary_key=True)
    medication = ForeignKeyField(Medication, column_name="medication_id", on_delete="CASCADE",
                                 index=False)  # led by the (medication, date) index
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)
    event_type = TextField()  # started | stopped | dose_changed | resumed
    event_date = TextField()
    old_value = TextField(null=True)
    new_value = TextField(null=True)
    notes = TextField(null=True)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "medication_events"
        indexes = ((("medication", "event_date"), False), (("patient", "event_date"), False))
