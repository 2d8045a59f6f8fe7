"""Every model of every database, for checks that look at them all (schema tests)."""

from __future__ import annotations

from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.stats import StatEvent
from luna_tui.store.models.vault_state import AuditHead, Config

ALL_MODELS = [Config, AuditHead, AuditEvent, StatEvent]
