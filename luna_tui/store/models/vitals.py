"""Vitals: one tall table, a row per reading, by kind (weight, blood pressure, …)."""

from __future__ import annotations

from peewee import FloatField, ForeignKeyField, TextField

from luna_tui.store.models.base import BaseModel
from luna_tui.store.models.patients import Patient


class Vital(BaseModel):
    id = TextField(primary_key=True)
    patient = ForeignKeyField(Patient, column_name="patient_id", on_delete="CASCADE",
                              index=False)  # led by the series index below
    kind = TextField()
    value = FloatField()
    value2 = FloatField(null=True)  # the diastolic of a blood pressure
    unit = TextField()
    measured_at = TextField()  # local YYYY-MM-DDTHH:MM
    notes = TextField(null=True)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "vitals"


# Covering: a chart's readings come from the index alone (migration 0004).
Vital.add_index(Vital.patient, Vital.kind, Vital.measured_at, Vital.value, Vital.value2,
                Vital.unit, name="idx_vitals_series")
