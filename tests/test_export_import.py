"""Export and import: Luna's JSON export into a new vault loses nothing (every table),
jrnl's JSON export comes in with its tags and stars, and bad files are sentences."""

from __future__ import annotations

import hashlib
import io
import json
import shutil

import pytest
from pdf_maker import text_pdf

from conftest import OTHER_PASSPHRASE, PASSPHRASE, cheap_kdf
from luna_tui.errors import ImportRejected, ValidationError
from luna_tui.home import VaultLayout
from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments
from luna_tui.services.entry_templates import EntryTemplates
from luna_tui.services.exporting import LOCAL_KEYS, Exporter
from luna_tui.services.importing import Importer, detect_format
from luna_tui.services.journal import EntryDraft, Journal, JournalFilter
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.settings import SETTINGS, Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault
from luna_tui.services.vitals import Vitals
from luna_tui.store.models.registry import DATA_MODELS

# Timestamps of rows made by hand, as Luna writes them.
T1, T2, T3 = "2026-11-01T10:00:00.000Z", "2026-11-01T10:01:00.000Z", "2026-11-01T10:02:00.000Z"

JRNL_EXPORT = {
    "tags": {"@work": 2, "@sleep": 1},
    "entries": [
        {"title": "Long day at work.", "body": "Stayed late again.\nKnee ached on the bus.",
         "date": "2021-03-04", "time": "21:15", "tags": ["@work"], "starred": False},
        {"title": "Slept nine hours!", "body": "", "date": "2021-03-05", "time": "07:40",
         "tags": ["@sleep"], "starred": True},
        {"title": "Review with @work team.", "body": "It went well.", "date": "2021-03-06",
         "time": "16:02", "tags": ["@work"], "starred": False},
    ],
}


def fill_every_table(session) -> str:
    """Put at least one row in every table of luna.db."""
    from luna_tui.store.models.ai import ChatSession, ConversationSummary, Message, SemanticPin
    from luna_tui.store.models.records import MedicalRecord
    from luna_tui.store.models.vault_state import TermsAcceptance

    me = Settings(session).current_patient_id()
    patients = Patients(session)
    patients.update(me, name="Alex", date_of_birth="1980-05-06", allergies="penicillin")
    mum = patients.create("Mum", primary_doctor="Dr Rivera")
    Settings(session).set("journal.default_privacy", "private")
    med = Medications(session).create(mum.id, "Metformin", "500 mg", "twice daily",
                                      supply_count=60)
    Medications(session).log_dose(med.id, "taken", slot="2026-11-22T08:00")
    Medications(session).update(med.id, dosage="850 mg")
    visit = Appointments(session).create(mum.id, "2026-11-20", provider_name="Dr Rivera",
                                         follow_up_required=True)
    Appointments(session).create_follow_up(visit.id, "2027-01-10")
    Vitals(session).record(mum.id, "blood_pressure", 130, 85)

    def ai_and_records():
        with session.writing("test"):
            ChatSession.create(id="chat-1", patient=me, persona="persona-journal-companion",
                               title="Evening chat", created_at=T1, updated_at=T1)
            first = Message.create(session="chat-1", role="user", content="I slept badly",
                                   created_at=T1, updated_at=T1)
            Message.create(session="chat-1", role="assistant", content="Tell me more",
                           created_at=T2, updated_at=T2)
            SemanticPin.create(id="pin-1", session="chat-1", patient=me, message=first.id,
                               content="sleeps badly", medical_category="symptom",
                               created_at=T2, updated_at=T2)
            ConversationSummary.create(id="sum-1", session="chat-1", patient=me,
                                       summary="Sleep trouble", start_message_id=first.id,
                                       end_message_id=first.id + 1, message_count=2,
                                       created_at=T3, updated_at=T3)
            MedicalRecord.create(id="rec-1", patient=mum.id, record_type="lab_result",
                                 title="HbA1c", text="6.1 %", tags=["diabetes"],
                                 created_at=T1, updated_at=T1)
            TermsAcceptance.create(id="terms-1", terms_key="not-a-medical-device", version="1",
                                   text_sha256="a" * 64, accepted_at=T1, created_at=T1,
                                   updated_at=T1)

    session.run(ai_and_records)
    source = session.layout.home.parent / "lab.pdf"  # outside the vault, like a download
    source.write_bytes(text_pdf("HbA1c 6.1 percent"))
    Attachments(session).add("rec-1", source)
    Journal(session).create(me, EntryDraft(content="Slept badly, knee sore", mood="tired",
                                           mood_scale=4, tags=["sleep", "knee"], favorite=True,
                                           emotions=["worried"], session_id="chat-1"))
    EntryTemplates(session).create("Evening check-in", title="Evening {weekday}",
                                   body="## What went well\n\n## What was hard\n",
                                   tags=["evening"], asks_sleep=False)
    return me


def table_contents(session) -> dict[str, list[dict]]:
    def dump():
        contents = {}
        for model in DATA_MODELS:
            table = model._meta.table_name
            skip = LOCAL_KEYS.get(table)
            rows = [{k: v for k, v in row.items() if k != skip}
                    for row in model.select().dicts()]
            contents[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True,
                                                                    default=str))
        return contents

    return session.run(dump)


@pytest.fixture
def other_layout(tmp_path):
    return VaultLayout(tmp_path / "second-vault")


def test_export_then_import_into_a_new_vault_loses_nothing(session, other_layout, clock):
    fill_every_table(session)
    before = table_contents(session)
    assert all(before[m._meta.table_name] for m in DATA_MODELS), "a table is empty"
    out = io.StringIO()
    # Moving a vault: its private entries too (fill_every_table's entry is private).
    counts = Exporter(session).write_json(out, include_private=True)
    assert counts["journal_entries"] == 1 and counts["messages"] == 2

    session.close()
    target = create_vault(other_layout, OTHER_PASSPHRASE, kdf=cheap_kdf(), clock=clock)
    with target.session as second:
        result = Importer(second).import_document(json.loads(out.getvalue()))
        assert result.format == "luna"
        after = table_contents(second)
        assert after == before
        me = Settings(second).current_patient_id()
        assert Patients(second).get(me).name == "Alex"
        assert Journal(second).search(me, "knee")[0].entry.favorite
        assert Journal(second).tag_counts(me) == [("knee", 1), ("sleep", 1)]
        mum = next(p.id for p in Patients(second).list() if p.name == "Mum")
        lab = Records(second).search(mum, "hba1c")[0].record  # the PDF's words
        copy = Attachments(second).save_copy(lab.attachments[0].id,
                                             other_layout.home.parent / "copy.pdf")
        assert copy.read_bytes() == text_pdf("HbA1c 6.1 percent")  # under the new vault's key
        again = Importer(second).import_document(json.loads(out.getvalue()))
        assert again.total == 0  # importing twice adds nothing, and changes nothing
        assert again.already_here == result.total + result.already_here
        assert table_contents(second) == before


def test_the_export_is_json_with_one_row_per_line(session):
    fill_every_table(session)
    out = io.StringIO()
    Exporter(session).write_json(out, include_private=True)
    document = json.loads(out.getvalue())
    assert document["format"] == "luna-export" and document["version"] == 2
    assert document["tables"]["journal_entries"][0]["tags"] == ["sleep", "knee"]
    assert "entry_no" not in document["tables"]["journal_entries"][0]
    assert out.getvalue().count("\n") > sum(len(r) for r in document["tables"].values())


def _private_and_shared(session) -> str:
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    journal.create(me, EntryDraft(content="Shared walk", mood="calm", privacy_level="shared"))
    journal.create(me, EntryDraft(content="Secret worry", mood="anxious", sleep_hours=3,
                                  emotions=["afraid"], privacy_level="private"))
    return me


def test_exports_leave_private_entries_out_unless_asked(session):
    _private_and_shared(session)
    exporter = Exporter(session)
    assert exporter.private_entries() == 1
    out = io.StringIO()
    counts = exporter.write_json(out)
    document = json.loads(out.getvalue())
    assert document["private_entries"] == "left out"
    assert [r["content"] for r in document["tables"]["journal_entries"]] == ["Shared walk"]
    assert counts["journal_entries"] == 1 == exporter.table_counts()["journal_entries"]
    assert "anxious" not in out.getvalue() and "afraid" not in out.getvalue()
    markdown = io.StringIO()
    assert exporter.write_markdown(markdown) == 1
    assert "Secret worry" not in markdown.getvalue() and "anxious" not in markdown.getvalue()

    everything = io.StringIO()
    exporter.write_json(everything, include_private=True)
    document = json.loads(everything.getvalue())
    assert document["private_entries"] == "included"
    assert sorted(r["content"] for r in document["tables"]["journal_entries"]) == [
        "Secret worry", "Shared walk"]
    markdown = io.StringIO()
    assert exporter.write_markdown(markdown, include_private=True) == 2
    assert "Secret worry" in markdown.getvalue()


def test_an_export_records_whether_private_entries_went_with_it(session):
    from luna_tui.store.models.audit import AuditEvent

    _private_and_shared(session)
    Exporter(session).write_json(io.StringIO())
    Exporter(session).write_markdown(io.StringIO(), include_private=True)
    diffs = session.run(lambda: [json.loads(r.diff) for r in AuditEvent.select().where(
        AuditEvent.event_name.startswith("export."))])
    assert [d["private_entries"][1] for d in diffs] == [False, True]


def test_jrnl_export_becomes_entries_with_tags_and_stars(session):
    me = Settings(session).current_patient_id()
    result = Importer(session).import_document(json.loads(json.dumps(JRNL_EXPORT)))
    assert result.format == "jrnl" and result.counts == {"journal_entries": 3}
    entries = Journal(session).page(me).entries
    assert [(e.entry_date, e.entry_time) for e in entries] == [
        ("2021-03-06", "16:02"), ("2021-03-05", "07:40"), ("2021-03-04", "21:15")]
    review, slept, long_day = entries
    assert (long_day.title, long_day.content) == ("Long day at work.",
                                                  "Stayed late again.\nKnee ached on the bus.")
    assert (slept.title, slept.content, slept.favorite) == (None, "Slept nine hours!", True)
    assert long_day.tags == ("work",) and slept.tags == ("sleep",)
    assert [e.id for e in Journal(session).page(me, JournalFilter(tag="work")).entries] == [
        review.id, long_day.id]
    assert Journal(session).search(me, "knee")[0].entry.id == long_day.id


def test_jrnl_entries_go_to_the_patient_asked_for(session):
    mum = Patients(session).create("Mum")
    Importer(session).import_document(JRNL_EXPORT, patient_id=mum.id)
    assert Journal(session).count(mum.id) == 3


@pytest.mark.parametrize(("document", "message"), [
    ({"hello": 1}, "neither a Luna export"),
    ([1, 2, 3], "neither a Luna export"),
    ({"format": "luna-export", "version": 99, "tables": {}}, "newer Luna"),
    ({"format": "luna-export", "version": 1}, "no tables"),
    ({"format": "luna-export", "version": 1, "tables": {"patients": "x"}}, "not a list"),
    ({"entries": ["not an entry"]}, "not an entry"),
])
def test_files_luna_cannot_import_are_sentences(session, document, message):
    with pytest.raises(ValidationError, match=message):
        Importer(session).import_document(document)


def test_an_export_with_a_broken_reference_imports_nothing(session):
    document = {"format": "luna-export", "version": 1, "tables": {
        "journal_entries": [{"id": "e1", "patient_id": "nobody", "content": "x",
                             "entry_date": "2026-01-01", "entry_time": "", "tags": [],
                             "emotions": [], "journal_type": "free",
                             "privacy_level": "private", "favorite": 0,
                             "created_at": T1, "updated_at": T1}]}}
    with pytest.raises(ImportRejected, match=r"entry 1 \(journal_entries\): patient_id "
                       "'nobody' names a row of patients that is neither in the file nor"):
        Importer(session).import_document(document)
    me = Settings(session).current_patient_id()
    assert Journal(session).count(me) == 0


def test_format_detection():
    assert detect_format(JRNL_EXPORT) == "jrnl"
    assert detect_format({"format": "luna-export"}) == "luna"


def test_markdown_export_reads_like_a_diary(session):
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Body text", title="A title", mood="calm",
                                           mood_scale=7, tags=["walk"], entry_date="2026-11-01",
                                           entry_time="09:00", favorite=True))
    out = io.StringIO()
    assert Exporter(session).write_markdown(out) == 1
    text = out.getvalue()
    assert "## Me" in text and "### 2026-11-01 09:00 — A title" in text
    assert "*mood: calm (7/10) · #walk · ★*" in text and "Body text" in text


def test_exports_are_audited_and_allowed_for_read_only_keys(layout, session):
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.store.models.audit import AuditEvent

    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE) as reader:
        Exporter(reader).write_markdown(io.StringIO())
        events = reader.run(lambda: [r.event_name for r in AuditEvent.select()])
    assert events[-1] == "export.markdown"
    with VaultSession.open(layout, PASSPHRASE):
        pass


class _FailingOutput(io.StringIO):
    """A file whose disk fills after the header: the export fails half-way."""

    def write(self, text: str) -> int:
        if self.tell() > 0:
            raise OSError(28, "No space left on device")
        return super().write(text)


def test_an_export_that_fails_half_way_is_still_on_the_audit_record(session):
    from luna_tui.store.models.audit import AuditEvent

    Journal(session).create(Settings(session).current_patient_id(),
                            EntryDraft(content="a private line"))
    with pytest.raises(OSError):
        Exporter(session).write_json(_FailingOutput())
    last = session.run(lambda: AuditEvent.select().order_by(AuditEvent.seq.desc()).get())
    assert last.event_name == "export.json"


def test_imported_settings_must_pass_the_same_checks_as_luna_settings_set(session):
    settings = Settings(session)
    document = {"format": "luna-export", "version": 1, "tables": {"config": [
        {"key": "auto_lock_minutes", "value": "0", "created_at": T1, "updated_at": T1},
        {"key": "journal.default_privacy", "value": '"Private"', "created_at": T1,
         "updated_at": T1},
        {"key": "no.such.setting", "value": "1", "created_at": T1, "updated_at": T1},
    ]}}
    Importer(session).import_document(document)
    assert settings.get("auto_lock_minutes") == 5  # 0 would mean locking at once: left out
    assert settings.get("journal.default_privacy") == "private"


def test_an_imported_setting_that_is_not_text_once_read_is_left_out(session):
    """Its value is JSON, and JSON may spell half of a character on its own: '"\\ud800"'
    passes as text in the file but reads as no text (every command then stopped)."""
    settings = Settings(session)
    me = settings.current_patient_id()
    document = {"format": "luna-export", "version": 1, "tables": {"config": [
        {"key": key, "value": '"\\ud800"', "created_at": T1, "updated_at": T1}
        for key in ("current_patient", "ai.model", "backup.folder")]}}
    Importer(session).import_document(document)
    assert settings.current_patient_id() == me
    assert settings.get("ai.model") == "llama3.2"
    assert settings.get("backup.folder") == SETTINGS["backup.folder"].default


def test_an_import_that_fails_leaves_no_attachment_files(session, other_layout, clock,
                                                         monkeypatch):
    from luna_tui.errors import DiskFull
    from luna_tui.services import importing

    fill_every_table(session)
    out = io.StringIO()
    Exporter(session).write_json(out)
    session.close()
    upsert = importing._upsert

    def full_at_terms(model, rows, **options):  # written after the attachments
        if model._meta.table_name == "terms":
            raise DiskFull()
        return upsert(model, rows, **options)

    monkeypatch.setattr(importing, "_upsert", full_at_terms)
    target = create_vault(other_layout, OTHER_PASSPHRASE, kdf=cheap_kdf(), clock=clock)
    with target.session as second:
        with pytest.raises(DiskFull):
            Importer(second).import_document(json.loads(out.getvalue()))
        assert not [p for p in other_layout.home.rglob("attachments/**/*") if p.is_file()]


def test_an_export_whose_attachment_points_outside_the_vault_is_refused(session, other_layout,
                                                                        clock, tmp_path):
    fill_every_table(session)
    out = io.StringIO()
    Exporter(session).write_json(out)
    session.close()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    for bad in ({"id": "./../../victim.txt"}, {"file_name": "../../.bashrc"}):
        document = json.loads(out.getvalue())
        document["tables"]["attachments"][0].update(bad)
        target = create_vault(other_layout, OTHER_PASSPHRASE, kdf=cheap_kdf(), clock=clock)
        with target.session as second:
            with pytest.raises(ValidationError, match="won't use"):
                Importer(second).import_document(document)
        assert victim.read_text() == "mine"
        shutil.rmtree(other_layout.home)


def test_an_import_never_replaces_the_file_of_an_attachment_already_here(session, tmp_path):
    from luna_tui.store.models.records import Attachment

    fill_every_table(session)
    out = io.StringIO()
    Exporter(session).write_json(out)
    document = json.loads(out.getvalue())
    row = document["tables"]["attachments"][0]
    row["content_base64"] = "b3RoZXI="  # "other", under the same id
    row["sha256"], row["size"] = hashlib.sha256(b"other").hexdigest(), 5
    with pytest.raises(ImportRejected, match="is another file in this vault"):
        Importer(session).import_document(document)
    kept = session.run(lambda: Attachment.get())
    copy = Attachments(session).save_copy(kept.id, tmp_path / "kept.pdf")
    assert copy.read_bytes() == text_pdf("HbA1c 6.1 percent")
