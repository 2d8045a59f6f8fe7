"""Drafts in the vault (services/drafts.py): kept as a person types, encrypted in luna.db,
the owner's only, audited once without their text when resumed or discarded, and never
exported, imported or shown to the AI companion."""

from __future__ import annotations

import json

import pytest
from test_no_plaintext_on_disk import files_containing

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.errors import ReadOnlyKey, ValidationError
from luna_tui.services.drafts import Drafts
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession

CANARY = "Canary-Drafted-5K2 half a thought about sertraline"


def assert_not_on_disk(root, text: str) -> None:
    """`text` is in no file under `root`, in UTF-8 or UTF-16 (and the scan can fail: a
    plain file holding it is found)."""
    probe = root.parent / "probe.txt"
    probe.write_text(text, encoding="utf-16")
    assert files_containing(root.parent, text) == ["probe.txt"]
    probe.unlink()
    assert files_containing(root, text) == []


def audit_rows(session, *names):
    from luna_tui.store.models.audit import AuditEvent

    def rows():
        query = AuditEvent.select().where(AuditEvent.event_name.in_(names))
        return [(e.event_name, e.record_locator, e.diff) for e in query.order_by(AuditEvent.seq)]

    return session.run(rows)


def keep_entry(session, draft_id="d-1", text=CANARY, context=None, **extra):
    me = Settings(session).current_patient_id()
    Drafts(session).keep(draft_id, "journal_entry", {"content": text, "title": "Night",
                                                     "favorite": False, **extra},
                         patient_id=me, context=context)
    return me


def test_a_kept_draft_is_read_back_and_rewritten_in_place(session, clock):
    me = keep_entry(session)
    clock.advance(seconds=2)
    keep_entry(session, text=CANARY + " and more")
    [draft] = Drafts(session).pending()
    assert (draft.id, draft.kind, draft.item_id, draft.patient_id, draft.patient_name) == (
        "d-1", "journal_entry", None, me, "Me")
    assert draft.fields["content"] == CANARY + " and more"
    assert draft.created_at < draft.updated_at  # both from the clock


def test_drafts_are_encrypted_in_luna_db(layout, session):
    keep_entry(session)
    from luna_tui.store.models.base import database

    assert_not_on_disk(layout.home, CANARY)  # the WAL holds it, encrypted
    session.run(lambda: database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert_not_on_disk(layout.home, CANARY)
    session.close()
    assert_not_on_disk(layout.home, CANARY)


def test_keeping_is_not_audited_but_resuming_and_discarding_are_once_without_text(session):
    for _ in range(5):  # as if typed in five pauses
        keep_entry(session)
    keep_entry(session, draft_id="d-2", text="Another")
    assert audit_rows(session, "draft.resume", "draft.discard") == []
    Drafts(session).resume("d-1")
    Drafts(session).discard("d-2")
    rows = audit_rows(session, "draft.resume", "draft.discard")
    assert [(name, locator) for name, locator, _ in rows] == [
        ("draft.resume", "d-1"), ("draft.discard", "d-2")]
    assert json.loads(rows[0][2]) == {"kind": "journal_entry",
                                      "lengths": {"content": len(CANARY), "title": 5}}
    assert CANARY not in json.dumps(rows) and "Another" not in json.dumps(rows)
    assert [d.id for d in Drafts(session).pending()] == ["d-1"]  # resumed stays till saved


def test_forgetting_a_draft_deletes_it_without_an_audit_row(session):
    keep_entry(session)
    Drafts(session).forget("d-1")
    Drafts(session).forget("d-1")  # twice is fine: the form was saved, then left
    assert Drafts(session).pending() == []
    assert audit_rows(session, "draft.resume", "draft.discard") == []


def test_a_read_only_key_has_no_drafts_and_writes_none(layout, session):
    keep_entry(session)
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE) as caregiver:
        drafts = Drafts(caregiver)
        assert drafts.pending() == []
        with pytest.raises(ReadOnlyKey):
            drafts.get("d-1")
        with pytest.raises(ReadOnlyKey):
            drafts.keep("d-2", "journal_entry", {"content": "x"})
        with pytest.raises(ReadOnlyKey):
            drafts.discard("d-1")
    with VaultSession.open(layout, PASSPHRASE) as owner:
        assert [d.id for d in Drafts(owner).pending()] == ["d-1"]


def test_a_patients_drafts_go_with_the_patient(session):
    mum = Patients(session).create("Mum").id
    Drafts(session).keep("d-mum", "medication", {"name": "Ramipril"}, patient_id=mum)
    Drafts(session).keep("d-persona", "persona", {"name": "Coach"})
    Patients(session).delete(mum)
    assert [d.id for d in Drafts(session).pending()] == ["d-persona"]


def test_a_draft_must_be_a_flat_form(session):
    drafts = Drafts(session)
    with pytest.raises(ValidationError):
        drafts.keep("d", "", {"content": "x"})
    with pytest.raises(ValidationError):
        drafts.keep("d", "journal_entry", {"content": {"nested": "x"}})
    with pytest.raises(ValidationError):
        drafts.keep("d", "journal_entry", {"content": "x" * 1_000_001})
    drafts.keep("d", "persona", {"data_access": ["profile", "journal"], "max": 800})
    assert drafts.get("d").fields == {"data_access": ["profile", "journal"], "max": 800}


def test_the_newest_draft_of_a_new_entry_is_found_for_its_patient_and_source(session, clock):
    shell = {"source": "luna add"}
    me = keep_entry(session, draft_id="old", context=shell)
    clock.advance(seconds=1)
    keep_entry(session, draft_id="new", context=shell)
    clock.advance(seconds=1)
    keep_entry(session, draft_id="the app's")  # the editor's: newer, but not luna add's
    Drafts(session).keep("edit", "journal_entry", {"content": "x"}, item_id="e-1",
                         patient_id=me, context=shell)
    mum = Patients(session).create("Mum").id
    assert Drafts(session).newest("journal_entry", source="luna add").id == "new"
    assert Drafts(session).newest("journal_entry", source="luna add", patient_id=mum) is None
    assert Drafts(session).newest("medication", source="luna add") is None


def test_keeping_over_a_draft_changes_the_row_it_is_for_too(session):
    me = keep_entry(session)
    Drafts(session).keep("d-1", "journal_entry", {"content": "x"}, item_id="e-9",
                         patient_id=me)
    assert Drafts(session).get("d-1").item_id == "e-9"


def exported(session) -> dict:
    import io

    from luna_tui.services.exporting import Exporter

    out = io.StringIO()
    Exporter(session).write_json(out)
    return json.loads(out.getvalue())


def test_an_export_leaves_drafts_out(session):
    keep_entry(session)
    document = exported(session)
    assert "drafts" not in document["tables"] and "patients" in document["tables"]
    assert CANARY not in json.dumps(document)


def test_an_import_never_turns_a_draft_into_data(session):
    """A file that carries a drafts table (hand-made, or from a future Luna) adds no
    draft and no entry holding its text."""
    from luna_tui.services.importing import Importer
    from luna_tui.services.journal import Journal

    me = Settings(session).current_patient_id()
    document = exported(session)
    document["tables"]["drafts"] = [{
        "id": "planted", "kind": "journal_entry", "item_id": None, "patient_id": me,
        "fields": json.dumps({"content": CANARY}), "context": "{}",
        "created_at": "2026-11-22T09:30:00.000Z", "updated_at": "2026-11-22T09:30:00.000Z"}]
    try:
        Importer(session).import_document(document)
    except ValidationError:
        pass  # refusing the unknown table is as good as leaving it out
    assert Drafts(session).pending() == []
    assert Journal(session).search(me, "Canary-Drafted-5K2") == []


def test_the_ai_context_never_reads_drafts(session):
    """The builder may not even read the table (its guard denies it), and a draft's text
    is in no context, whatever the persona may read."""
    from luna_tui.errors import ReadOnlyViolation
    from luna_tui.services.ai.context import DATA_KINDS, ContextBuilder
    from luna_tui.services.ai.personas import Personas
    from luna_tui.services.ai.sessions import ChatSessions
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.store.models.base import database
    from luna_tui.store.read_only_guard import read_only

    me = keep_entry(session)
    Journal(session).create(me, EntryDraft(content="A saved entry the AI may read"))
    personas = Personas(session)
    sessions = ChatSessions(session)
    persona = personas.create("Reads everything", "Be kind.", data_access=list(DATA_KINDS))
    chat_session = sessions.create(me, persona.id, title="t")
    context = ContextBuilder(session).build(chat_session.id)
    assert "A saved entry the AI may read" in context.text  # the check can fail
    assert CANARY not in context.text

    def read_drafts_under_the_guard():
        from luna_tui.services.ai.context import HIDDEN_FROM_AI

        with read_only(database, hidden=HIDDEN_FROM_AI):
            return database.execute_sql("SELECT fields FROM drafts").fetchall()

    with pytest.raises(ReadOnlyViolation):
        session.run(read_drafts_under_the_guard)


def test_a_backup_carries_drafts_encrypted_and_a_restore_keeps_them_drafts(layout, session):
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.backups.restore import restore_backup
    from luna_tui.services.journal import Journal

    me = keep_entry(session)
    backup = Backups(session).create().path
    Drafts(session).forget("d-1")
    session.close()
    assert_not_on_disk(layout.home, CANARY)  # the backup file (under backups/) included
    restore_backup(backup, PASSPHRASE, layout)
    with VaultSession.open(layout, PASSPHRASE) as restored:
        assert [d.fields["content"] for d in Drafts(restored).pending()] == [CANARY]
        assert Journal(restored).search(me, "Canary-Drafted-5K2") == []
