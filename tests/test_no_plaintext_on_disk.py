"""A canary written through the public API must never reach the disk in plaintext:
not in any database, WAL, journal, temp file or keys.db, in UTF-8 or UTF-16."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSPHRASE
from luna_tui.errors import WrongPassphrase
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.vault_session import VaultSession

CANARY = "Canary-Zephyr-7Q4 sertraline dose"


def encodings(text: str) -> list[bytes]:
    return [text.encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be")]


def files_containing(root: Path, text: str) -> list[str]:
    needles = encodings(text)
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n in data for n in needles):
                hits.append(str(path.relative_to(root)))
    return hits


def assert_canary_absent(root: Path) -> None:
    # The scan must be able to fail: a plain file holding the canary is found.
    probe = root.parent / "probe.txt"
    probe.write_text(CANARY, encoding="utf-16")
    assert files_containing(root.parent, CANARY) == ["probe.txt"]
    probe.unlink()
    assert files_containing(root, CANARY) == []


def test_the_canary_never_reaches_the_disk(layout, session):
    KeyAdmin(session).add_key(CANARY, read_only=True)  # a key label

    def write():
        with session.writing("test") as tx:
            tx.record("test.note", record_locator=CANARY, diff={"note": CANARY * 3})

    session.run(write)
    assert layout.main_db.with_name("luna.db-wal").exists()
    assert_canary_absent(layout.home)  # after commit, with the WAL in place

    from luna_tui.store.models.base import database

    session.run(lambda: database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert_canary_absent(layout.home)  # after a checkpoint
    session.close()
    assert_canary_absent(layout.home)  # after exit


def test_a_passphrase_tried_at_unlock_is_not_kept(layout, session):
    """A wrong passphrase is refused and its try recorded on disk, but not the words."""
    session.close()
    with pytest.raises(WrongPassphrase):
        VaultSession.open(layout, CANARY)
    assert_canary_absent(layout.home)  # right after the try was written down
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert [f.reason for f in reopened.failed_unlocks] == ["wrong passphrase"]
    assert_canary_absent(layout.home)
    assert files_containing(layout.home, PASSPHRASE) == []


def test_health_data_never_reaches_the_disk_in_plaintext(layout, session):
    from luna_tui.services.appointments import Appointments
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.medications import Medications
    from luna_tui.services.patients import Patients
    from luna_tui.services.settings import Settings
    from luna_tui.services.vitals import Vitals

    me = Settings(session).current_patient_id()
    word = CANARY.split()[0].lower()  # also what the full-text index stores
    Patients(session).update(me, name=CANARY, notes=CANARY, allergies=CANARY)
    entry = Journal(session).create(me, EntryDraft(content=CANARY * 20, title=CANARY,
                                                   tags=[word], emotions=[CANARY],
                                                   prompt=None, mood=word[:30]))
    Journal(session).update(entry.id, content=f"{CANARY} edited")
    med = Medications(session).create(me, "Sertraline", "50 mg", "once daily",
                                      notes=CANARY, side_effects=CANARY)
    Medications(session).log_dose(med.id, "taken", notes=CANARY)
    Appointments(session).create(me, "2026-12-01", reason=CANARY, preparation_notes=CANARY)
    Vitals(session).record(me, "weight", 70, notes=CANARY)
    assert_canary_absent(layout.home)
    assert files_containing(layout.home, word) == []
    deleted = Journal(session).create(me, EntryDraft(content="Zanzibarian deleted words"))
    Journal(session).delete(deleted.id)
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.backups.restore import restore_backup
    from luna_tui.services.backups.verify import verify_backup

    made = Backups(session).create().path  # backups, their staging and verify copies too
    session.close()
    verify_backup(made, PASSPHRASE)
    restore_backup(made, PASSPHRASE, layout)
    assert_canary_absent(layout.home)
    assert files_containing(layout.home, "Zanzibarian") == []
    assert files_containing(layout.home, word) == []


def test_the_crisis_card_is_the_one_plaintext_and_holds_only_what_was_chosen(layout,
                                                                            session):
    """The safety plan's crisis card (services/safety/crisis_card.py) is the one file Luna
    writes unencrypted into the vault folder on purpose, after the person opts in. Every
    other line of the plan — the canary here, in the same section as the chosen one —
    stays encrypted, through a backup and a restore too."""
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.backups.restore import restore_backup
    from luna_tui.services.safety.plan import SafetyPlans
    from luna_tui.services.settings import Settings

    me = Settings(session).current_patient_id()
    plans = SafetyPlans(session)
    chosen = plans.add_item(me, "people_to_ask", "Sam Okonkwo-Vale 07700 900123")
    plans.add_item(me, "people_to_ask", CANARY)
    plans.add_item(me, "reasons_for_living", CANARY)
    plans.add_phrase(me, CANARY)
    plans.set_card(me, {chosen.id})
    assert files_containing(layout.home, "Okonkwo-Vale") == ["crisis-card.json"]
    assert_canary_absent(layout.home)
    made = Backups(session).create().path
    session.close()
    restore_backup(made, PASSPHRASE, layout)
    assert_canary_absent(layout.home)
    assert files_containing(layout.home, "Okonkwo-Vale") == ["crisis-card.json"]
