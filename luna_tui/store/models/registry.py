"""Every model of every database, for checks that look at them all (schema tests,
export, import)."""

from __future__ import annotations

from luna_tui.store.models.ai import (
    ChatSession,
    ConversationSummary,
    Message,
    Persona,
    SemanticPin,
)
from luna_tui.store.models.appointments import Appointment
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.drafts import Draft
from luna_tui.store.models.journal import JournalEntry, JournalEntryTag, JournalFts
from luna_tui.store.models.medications import Medication, MedicationDose, MedicationEvent
from luna_tui.store.models.patients import Patient
from luna_tui.store.models.records import Attachment, MedicalRecord, RecordFts
from luna_tui.store.models.safety_plan import SafetyNotice, SafetyPlan, SafetyPlanItem
from luna_tui.store.models.stats import StatEvent
from luna_tui.store.models.templates import EntryTemplate
from luna_tui.store.models.vault_state import (
    AuditAnchor,
    AuditHead,
    AuditOutbox,
    Config,
    TermsAcceptance,
)
from luna_tui.store.models.vitals import Vital

# The user's data in luna.db, parents before children: the order export writes and
# import reads. Derived tables (tags rows, full-text indexes) are rebuilt, not copied.
DATA_MODELS = [
    Patient,
    Persona,
    ChatSession,
    Message,
    ConversationSummary,
    SemanticPin,
    Medication,
    MedicationDose,
    MedicationEvent,
    Appointment,
    JournalEntry,
    EntryTemplate,
    Vital,
    MedicalRecord,
    Attachment,
    TermsAcceptance,
    Config,
]
DERIVED_MODELS = [JournalEntryTag, JournalFts, RecordFts]
VAULT_STATE_MODELS = [AuditHead, AuditOutbox, AuditAnchor]
# What a person was typing (store/models/drafts.py): scratch kept on this device, never
# exported, imported or synced, so it is not among the DATA_MODELS.
SCRATCH_MODELS = [Draft]
# The safety plan (store/models/safety_plan.py): the person's own, in backups (which are
# encrypted) but never in an export, which is plain JSON anyone the file reaches can read:
# the names and numbers of the people one calls in a crisis, the phrases that worry them.
SAFETY_PLAN_MODELS = [SafetyPlanItem, SafetyPlan, SafetyNotice]
ATTACHED_MODELS = [AuditEvent, StatEvent]
ALL_MODELS = (DATA_MODELS + DERIVED_MODELS + VAULT_STATE_MODELS + SCRATCH_MODELS
              + SAFETY_PLAN_MODELS + ATTACHED_MODELS)
