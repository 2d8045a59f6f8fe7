"""Drafts: what a person was typing into a form, kept in the vault as they type.

A form with unsaved changes keeps one draft: the app writes it a moment after the last
keystroke and at once when the vault locks or Luna quits, and `luna add` keeps the
entry it could not save. Saving the form, or leaving it on purpose, forgets the draft;
the next unlock offers whatever is left.

Drafts live in luna.db, so they are encrypted like everything else (never a temp file).
They belong to owner keys: a read-only key (a caregiver's) neither sees nor writes one.
Keeping a draft is not audited — that would log every pause in typing — but resuming or
discarding one is, once, with its kind and the length of each field, never its text.
Drafts are scratch, not data: export, import, sync and the AI companion never read
them (store/models/registry.py keeps them out of DATA_MODELS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from luna_tui.errors import NotFound, ReadOnlyKey, ValidationError
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.validation import refuse_controls
from luna_tui.store.models.drafts import Draft
from luna_tui.store.models.patients import Patient

MAX_KIND_LENGTH = 40
# A form's fields as JSON: far above any one form's own limits (an entry: 200,000
# characters), low enough that a runaway paste can't fill the disk one draft at a time.
MAX_DRAFT_CHARACTERS = 1_000_000
FIELD_VALUE_TYPES = (str, bool, int, float, type(None))


@dataclass(frozen=True)
class DraftView:
    id: str
    kind: str
    item_id: str | None  # the row the form changes; None for a new one
    patient_id: str | None
    patient_name: str | None
    fields: dict[str, Any]
    context: dict[str, Any]
    created_at: str
    updated_at: str

    def lengths(self) -> dict[str, int]:
        """How many characters each text field holds: what the audit log may know."""
        return {name: len(value) for name, value in sorted(self.fields.items())
                if isinstance(value, str) and value}


def _view(row: Draft, patient_name: str | None) -> DraftView:
    return DraftView(id=row.id, kind=row.kind, item_id=row.item_id,
                     patient_id=row.patient_id, patient_name=patient_name,
                     fields=json.loads(row.fields), context=json.loads(row.context),
                     created_at=row.created_at, updated_at=row.updated_at)


class Drafts(DomainService):
    @on_db_thread
    def keep(self, draft_id: str, kind: str, fields: dict[str, Any], *,
             item_id: str | None = None, patient_id: str | None = None,
             context: dict[str, Any] | None = None) -> None:
        """Write the draft `draft_id` (a new one, or over what it held before)."""
        kind = str(kind or "").strip()
        if not kind or len(kind) > MAX_KIND_LENGTH:
            raise ValidationError("A draft needs the name of its form.", "kind")
        fields_json = _json_object(fields, "fields")
        refuse_controls(fields)
        context_json = _json_object(context or {}, "context")
        if len(fields_json) + len(context_json) > MAX_DRAFT_CHARACTERS:
            raise ValidationError(
                f"This form holds more than {MAX_DRAFT_CHARACTERS:,} characters, too much to "
                "keep as a draft; save it, or shorten it.", "fields")
        if patient_id is not None and not Patient.select().where(
                Patient.id == patient_id).exists():
            patient_id = None  # the patient went meanwhile: the text still stays
        stamp = self.stamp()
        with self.session.writing("keep a draft"):
            Draft.insert(id=draft_id, kind=kind, item_id=item_id, patient=patient_id,
                         fields=fields_json, context=context_json, created_at=stamp,
                         updated_at=stamp).on_conflict(
                conflict_target=[Draft.id],
                update={Draft.fields: fields_json, Draft.context: context_json,
                        Draft.item_id: item_id, Draft.patient: patient_id,
                        Draft.updated_at: stamp},
            ).execute()

    @on_db_thread
    def pending(self) -> list[DraftView]:
        """Every draft, newest first; none for a read-only key."""
        if self.session.read_only:
            return []
        names = {p.id: p.name for p in Patient.select(Patient.id, Patient.name)}
        query = Draft.select().order_by(Draft.updated_at.desc(), Draft.id)
        return [_view(row, names.get(row.patient_id)) for row in query]

    @on_db_thread
    def get(self, draft_id: str) -> DraftView:
        self._owner_only("open a draft")
        row = Draft.get_or_none(Draft.id == draft_id)
        if row is None:
            raise NotFound("That draft is no longer in the vault (saved or discarded "
                           "meanwhile).")
        patient = Patient.get_or_none(Patient.id == row.patient_id) if row.patient_id else None
        return _view(row, patient.name if patient else None)

    @on_db_thread
    def newest(self, kind: str, *, source: str, patient_id: str | None = None
               ) -> DraftView | None:
        """The newest draft of a new item of this kind kept by `source` (its context's
        "source": `luna add --resume` takes only what `luna add` kept, never a form's
        draft the app will offer); with `patient_id`, that patient's or one kept without
        a patient."""
        self._owner_only("open a draft")
        query = Draft.select(Draft.id, Draft.context).where(
            (Draft.kind == kind) & Draft.item_id.is_null())
        if patient_id is not None:
            query = query.where((Draft.patient == patient_id) | Draft.patient.is_null())
        for row in query.order_by(Draft.updated_at.desc(), Draft.id):  # a handful at most
            if json.loads(row.context).get("source") == source:
                return self.get(row.id)
        return None

    @on_db_thread
    def resume(self, draft_id: str) -> DraftView:
        """The draft, audited once as resumed; it stays until its form is saved."""
        draft = self.get(draft_id)
        with self.session.writing("resume a draft") as tx:
            tx.record("draft.resume", draft.id, _audit_diff(draft))
        return draft

    @on_db_thread
    def discard(self, draft_id: str) -> None:
        """Delete a draft the person chose to throw away; audited without its text."""
        draft = self.get(draft_id)
        with self.session.writing("discard a draft") as tx:
            Draft.delete().where(Draft.id == draft.id).execute()
            tx.record("draft.discard", draft.id, _audit_diff(draft))

    @on_db_thread
    def forget(self, draft_id: str) -> None:
        """Delete a draft whose form was saved or left on purpose (not audited: the save
        is, and a form left without saving is not an event of the vault)."""
        with self.session.writing("forget a draft"):
            Draft.delete().where(Draft.id == draft_id).execute()

    def _owner_only(self, action: str) -> None:
        if self.session.read_only:
            raise ReadOnlyKey(f"Drafts belong to the vault's owner; the read-only key "
                              f"'{self.session.key.label}' cannot {action}.")


def _audit_diff(draft: DraftView) -> dict[str, object]:
    return {"kind": draft.kind, "lengths": draft.lengths()}


def _json_object(values: dict[str, Any], what: str) -> str:
    """JSON of a flat object of plain values (a form's fields), or a ValidationError."""
    if not isinstance(values, dict) or not all(
            isinstance(key, str) and _plain(value) for key, value in values.items()):
        raise ValidationError(f"A draft's {what} must be names with text, numbers, yes/no "
                              "or lists of those.", what)
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _plain(value: object) -> bool:
    if isinstance(value, list | tuple):
        return all(isinstance(item, FIELD_VALUE_TYPES) for item in value)
    return isinstance(value, FIELD_VALUE_TYPES)
