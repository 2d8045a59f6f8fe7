"""Notices a person accepts, kept in `terms`: which text, which version, when, by which key."""

from __future__ import annotations

import hashlib

from luna_tui.services.base import DomainService, new_id, on_db_thread
from luna_tui.store.models.vault_state import TermsAcceptance

NOT_A_MEDICAL_DEVICE = "not-a-medical-device"
NOTICE_VERSION = "1"
NOTICE_TEXT = (
    "Luna is a personal journal, not a medical device. It does not diagnose, treat or give "
    "medical advice, and its AI companion can be wrong. For medical decisions, talk to a "
    "clinician; in an emergency, call your local emergency number."
)


class Terms(DomainService):
    @on_db_thread
    def accept(self, terms_key: str = NOT_A_MEDICAL_DEVICE, version: str = NOTICE_VERSION,
               text: str = NOTICE_TEXT) -> None:
        stamp = self.stamp()
        with self.session.writing("record that you accepted a notice") as tx:
            row = TermsAcceptance.create(
                id=new_id(), terms_key=terms_key, version=version,
                text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                accepted_at=stamp, key_locator_hash=self.session.key.locator,
                created_at=stamp, updated_at=stamp)
            tx.record("terms.accept", row.id, {"terms": [None, f"{terms_key} v{version}"]})

    @on_db_thread
    def accepted(self, terms_key: str = NOT_A_MEDICAL_DEVICE,
                 version: str = NOTICE_VERSION) -> bool:
        return TermsAcceptance.select().where(TermsAcceptance.terms_key == terms_key,
                                              TermsAcceptance.version == version).exists()
