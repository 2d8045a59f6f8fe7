"""The people whose health Luna keeps: the owner, and anyone they care for."""

from __future__ import annotations

from peewee import IntegerField, TextField, fn

from luna_tui.store.models.base import BaseModel


class Patient(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    date_of_birth = TextField(null=True)  # YYYY-MM-DD
    relationship = TextField(null=True)  # "self" for the vault's owner
    gender = TextField(null=True)
    phone = TextField(null=True)
    emergency_contact = TextField(null=True)
    primary_doctor = TextField(null=True)
    doctor_phone = TextField(null=True)
    allergies = TextField(null=True)
    notes = TextField(null=True)
    active = IntegerField(default=1)
    created_at = TextField()
    updated_at = TextField()

    class Meta:
        table_name = "patients"


def owner_first():  # noqa: ANN201 - a Peewee expression
    """Sort key: the vault's owner (relationship "self") before everyone else.
    (A plain `relationship != 'self'` is NULL for a patient with no relationship, and
    NULL would sort first.)"""
    return fn.COALESCE(Patient.relationship, "") != "self"
