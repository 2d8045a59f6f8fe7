"""Medical records and their encrypted attachments: round trips, tampering, search in
extracted text, cascade deletes, and every bad input of the issue."""

from __future__ import annotations

import errno
import os

import pytest
from pdf_maker import text_pdf
from test_no_plaintext_on_disk import assert_canary_absent, files_containing

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.errors import (
    AttachmentDamaged,
    DiskFull,
    NotFound,
    ReadOnlyKey,
    ValidationError,
)
from luna_tui.services.attachments import Attachments
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.text_search import MARK_END, MARK_START
from luna_tui.services.vault_session import VaultSession
from luna_tui.store import attachment_files

CANARY = "Canary-Zephyr-7Q4 sertraline dose"


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


@pytest.fixture
def record(session, me):
    return Records(session).create(me, title="Blood test", record_type="lab",
                                   event_date="2026-11-20", tags="#iron, bloods")


def stored_files(layout):
    root = layout.attachments_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_binary_file_round_trips_through_several_chunks(session, layout, record, tmp_path):
    data = os.urandom(2 * attachment_files.CHUNK + 12345)
    source = tmp_path / "scan.dcm"
    source.write_bytes(data)
    seen = []
    attached = Attachments(session).add(record.id, source,
                                        progress=lambda done, total: seen.append(done))
    assert attached.size == len(data) and attached.file_name == "scan.dcm"
    assert seen[-1] == len(data) and len(seen) == 3
    stored = layout.home / attachment_files.storage_path(attached.id)
    assert stored.stat().st_size == attachment_files.sealed_size(len(data))
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert data[:64] not in stored.read_bytes()

    (tmp_path / "copies").mkdir()
    out = Attachments(session).save_copy(attached.id, tmp_path / "copies")
    assert out == tmp_path / "copies" / "scan.dcm"  # a folder: the file keeps its name
    assert out.read_bytes() == data
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert Records(session).get(record.id).attachments[0].id == attached.id


def test_an_empty_file_round_trips(session, record, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    attached = Attachments(session).add(record.id, tmp_path / "empty.txt")
    assert attached.size == 0
    assert Attachments(session).save_copy(attached.id, tmp_path / "back.txt").read_bytes() == b""


def test_a_pdf_round_trips_and_its_text_is_searchable(session, me, record, tmp_path):
    pdf = text_pdf("Ferritin 12 ug/L, below range", "Haemoglobin normal zeppelin")
    (tmp_path / "results.pdf").write_bytes(pdf)
    attached = Attachments(session).add(record.id, tmp_path / "results.pdf")
    assert attached.mime_type == "application/pdf" and attached.has_text
    assert Attachments(session).save_copy(attached.id, tmp_path / "copy.pdf").read_bytes() == pdf

    other = Records(session).create(me, title="Physio letter", record_type="visit")
    hits = Records(session).search(me, "ferritin")
    assert [h.record.id for h in hits] == [record.id]
    assert f"{MARK_START}Ferritin{MARK_END}" in hits[0].snippet
    assert [h.record.id for h in Records(session).search(me, "zeppel", prefix_last=True)] == [
        record.id]
    assert Records(session).search(me, "physio")[0].record.id == other.id
    # The person's own text stays theirs: the file's words are kept apart.
    assert Records(session).get(record.id).text is None


def test_removing_the_attachment_removes_its_words_from_search(session, me, record, tmp_path,
                                                               layout):
    (tmp_path / "notes.txt").write_text("Referral to the haematology clinic")
    attached = Attachments(session).add(record.id, tmp_path / "notes.txt")
    assert Records(session).search(me, "haematology")
    Attachments(session).delete(attached.id)
    assert Records(session).search(me, "haematology") == []
    assert stored_files(layout) == []


def test_a_changed_byte_on_disk_is_caught(session, layout, record, tmp_path):
    (tmp_path / "a.bin").write_bytes(os.urandom(5000))
    attached = Attachments(session).add(record.id, tmp_path / "a.bin")
    stored = layout.home / attachment_files.storage_path(attached.id)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    with pytest.raises(AttachmentDamaged, match="changed or damaged"):
        Attachments(session).save_copy(attached.id, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()
    assert not list(tmp_path.glob(".out.bin*"))  # no half-written plaintext either
    with pytest.raises(AttachmentDamaged):
        Attachments(session).verify(attached.id)


def test_a_cut_short_or_swapped_file_is_caught(session, layout, record, tmp_path):
    (tmp_path / "big.bin").write_bytes(os.urandom(attachment_files.CHUNK + 10))
    (tmp_path / "other.bin").write_bytes(b"another file")
    big = Attachments(session).add(record.id, tmp_path / "big.bin")
    other = Attachments(session).add(record.id, tmp_path / "other.bin")
    big_path = layout.home / attachment_files.storage_path(big.id)
    other_path = layout.home / attachment_files.storage_path(other.id)
    whole = big_path.read_bytes()
    big_path.write_bytes(whole[:attachment_files.HEADER_LENGTH + attachment_files.CHUNK + 16])
    with pytest.raises(AttachmentDamaged):
        Attachments(session).verify(big.id)
    big_path.write_bytes(other_path.read_bytes())  # another attachment's valid file
    with pytest.raises(AttachmentDamaged):
        Attachments(session).verify(big.id)
    other_path.unlink()
    with pytest.raises(AttachmentDamaged, match="missing"):
        Attachments(session).verify(other.id)


def test_a_checksum_that_does_not_match_is_said(session, record, tmp_path):
    from luna_tui.store.models.records import Attachment

    (tmp_path / "a.txt").write_text("hello")
    attached = Attachments(session).add(record.id, tmp_path / "a.txt")
    session.run(lambda: Attachment.update(sha256="0" * 64)
                .where(Attachment.id == attached.id).execute())
    with pytest.raises(AttachmentDamaged, match="checksum"):
        Attachments(session).save_copy(attached.id, tmp_path / "b.txt")
    assert not (tmp_path / "b.txt").exists()


def test_no_plaintext_of_an_attachment_reaches_the_vault(session, layout, record,
                                                        tmp_path_factory):
    sources = tmp_path_factory.mktemp("sources")  # outside the folder the scan checks
    (sources / "letter.txt").write_text(f"Dear doctor, {CANARY}\n" * 50)
    (sources / "letter.pdf").write_bytes(text_pdf(f"Report {CANARY}"))
    for name in ("letter.txt", "letter.pdf"):
        Attachments(session).add(record.id, sources / name)
    assert len(Records(session).search(Settings(session).current_patient_id(), "zephyr")) == 1
    assert_canary_absent(layout.home)
    session.close()
    assert_canary_absent(layout.home)
    assert files_containing(sources, CANARY) == ["letter.pdf", "letter.txt"]


def test_deleting_a_record_deletes_its_files(session, layout, record, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
        Attachments(session).add(record.id, tmp_path / name)
    assert len(stored_files(layout)) == 2
    assert Records(session).delete(record.id) == 2
    assert stored_files(layout) == []
    with pytest.raises(NotFound):
        Records(session).get(record.id)


def test_deleting_a_patient_deletes_their_files(session, layout, tmp_path):
    patients = Patients(session)
    mum = patients.create(name="Mum")
    theirs = Records(session).create(mum.id, title="Scan")
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    assert Attachments(session).add(theirs.id, tmp_path / "x.png").mime_type == "image/png"
    patients.delete(mum.id)
    assert stored_files(layout) == []


def test_the_same_file_twice_is_refused(session, layout, record, me, tmp_path):
    (tmp_path / "a.txt").write_text("the same words")
    (tmp_path / "copy.txt").write_text("the same words")
    Attachments(session).add(record.id, tmp_path / "a.txt")
    with pytest.raises(ValidationError, match=r"already attached to this record \(as a.txt\)"):
        Attachments(session).add(record.id, tmp_path / "copy.txt")
    assert len(stored_files(layout)) == 1  # the second encryption was removed
    elsewhere = Records(session).create(me, title="Another")
    Attachments(session).add(elsewhere.id, tmp_path / "copy.txt")  # another record may


@pytest.mark.parametrize("case", ["missing", "folder", "unreadable", "too big"])
def test_bad_sources_are_refused_with_a_sentence(session, layout, record, tmp_path, case,
                                                 monkeypatch):
    path = tmp_path / "file.bin"
    if case == "folder":
        path.mkdir()
        expected = "is a folder"
    elif case == "unreadable":
        path.write_bytes(b"secret")
        path.chmod(0)
        if os.access(path, os.R_OK):  # root reads every file: be a file root may not read
            real_access = os.access
            monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(
                path) else real_access(p, mode, **kw))
        expected = "permission denied"
    elif case == "too big":
        Settings(session).set("attachments.max_mb", 1)
        path.write_bytes(b"x" * 1_000_001)
        expected = r"is 1.0 MB; attachments may be at most 1.0 MB \(the attachments.max_mb"
    else:
        expected = "There is no file at"
    with pytest.raises(ValidationError, match=expected):
        Attachments(session).add(record.id, path)
    assert stored_files(layout) == []


def test_the_default_limit_is_100_mb(session):
    assert Attachments(session).max_size() == 100_000_000


def test_a_full_disk_leaves_no_half_file_and_no_row(session, layout, record, tmp_path,
                                                    monkeypatch):
    (tmp_path / "a.bin").write_bytes(os.urandom(3 * attachment_files.CHUNK))
    real_write = attachment_files._write_chunks

    def full_after_a_while(source, out, *args):
        out.write(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(attachment_files, "_write_chunks", full_after_a_while)
    with pytest.raises(DiskFull):
        Attachments(session).add(record.id, tmp_path / "a.bin")
    assert stored_files(layout) == []
    monkeypatch.setattr(attachment_files, "_write_chunks", real_write)

    def no_room_for_the_row(*args):
        raise DiskFull()

    monkeypatch.setattr(Attachments, "_insert", no_room_for_the_row)
    with pytest.raises(DiskFull):
        Attachments(session).add(record.id, tmp_path / "a.bin")
    assert stored_files(layout) == []
    assert Records(session).get(record.id).attachments == []


def test_saving_a_copy_never_replaces_a_file_unasked(session, record, tmp_path):
    (tmp_path / "a.txt").write_text("mine")
    attached = Attachments(session).add(record.id, tmp_path / "a.txt")
    with pytest.raises(ValidationError, match="already exists"):
        Attachments(session).save_copy(attached.id, tmp_path / "a.txt")
    (tmp_path / "a.txt").write_text("changed")
    Attachments(session).save_copy(attached.id, tmp_path / "a.txt", overwrite=True)
    assert (tmp_path / "a.txt").read_text() == "mine"


def test_a_read_only_key_reads_but_never_attaches(session, layout, record, tmp_path):
    from luna_tui.services.key_admin import KeyAdmin

    (tmp_path / "a.txt").write_text("results")
    attached = Attachments(session).add(record.id, tmp_path / "a.txt")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE) as reader:
        assert Attachments(reader).save_copy(attached.id, tmp_path / "b.txt").read_text() == (
            "results")
        with pytest.raises(ReadOnlyKey):
            Attachments(reader).add(record.id, tmp_path / "b.txt")
        with pytest.raises(ReadOnlyKey):
            Records(reader).delete(record.id)
    assert len(stored_files(layout)) == 1


def test_records_list_newest_event_first_and_filter_by_type_and_tag(session, me):
    records = Records(session)
    records.create(me, title="Old visit", record_type="visit note", event_date="2025-01-02")
    records.create(me, title="Undated", record_type="other")
    records.create(me, title="Recent labs", record_type="labs", event_date="2026-10-01",
                   tags="iron")
    assert [r.title for r in records.list(me)] == ["Recent labs", "Old visit", "Undated"]
    assert [r.title for r in records.list(me, record_type="lab")] == ["Recent labs"]
    assert [r.title for r in records.list(me, tag="#Iron")] == ["Recent labs"]
    assert records.tag_counts(me) == [("iron", 1)]
    assert records.types_in_use(me) == ["lab", "visit", "other"]
    with pytest.raises(ValidationError, match="not a record type"):
        records.create(me, title="x", record_type="horoscope")
    with pytest.raises(ValidationError, match="title can't be blank"):
        records.create(me, title="  ")
    with pytest.raises(ValidationError, match="event date"):
        records.create(me, title="x", event_date="31/31/2026")


def test_a_record_is_found_by_a_prefix_of_its_id(session, record):
    assert Records(session).resolve(record.short_id) == record.id
    with pytest.raises(NotFound):
        Records(session).resolve("ffffffff")


def test_edits_update_the_checksum_and_the_audit_log_keeps_no_text(session, record):
    from luna_tui.store.models.audit import AuditEvent
    from luna_tui.store.models.records import MedicalRecord

    before = session.run(lambda: MedicalRecord.get(MedicalRecord.id == record.id).checksum)
    updated = Records(session).update(record.id, text=f"Dr said {CANARY}")
    after = session.run(lambda: MedicalRecord.get(MedicalRecord.id == record.id).checksum)
    assert updated.text.endswith(CANARY) and before != after
    diffs = session.run(lambda: [e.diff for e in AuditEvent.select()])
    assert not any(CANARY in str(d) for d in diffs)


def test_an_older_vault_gains_searchable_attachment_text(layout, clock):
    from conftest import cheap_kdf
    from helpers import an_older_luna
    from luna_tui.services.vault_setup import create_vault

    def old_record():
        from luna_tui.store.models.base import database

        with created.session.writing("test"):
            database.execute_sql(
                "INSERT INTO records (id, patient_id, title, tags, created_at, updated_at)"
                " VALUES ('rec-1', ?, 'Allergy clinic letter', '[]', 't', 't')", (me,))

    with an_older_luna(lambda name: name < "0005"):
        created = create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock)
        me = Settings(created.session).current_patient_id()
        created.session.run(old_record)
        created.session.close()
    with VaultSession.open(layout, PASSPHRASE) as session:
        assert [h.record.id for h in Records(session).search(me, "allergy")] == ["rec-1"]


def test_a_backup_brings_attachments_back_after_a_delete(session, layout, record,
                                                         tmp_path_factory):
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.backups.restore import restore_backup

    sources = tmp_path_factory.mktemp("sources")
    data = f"Letter {CANARY} ".encode() * 100 + os.urandom(3000)
    (sources / "letter.bin").write_bytes(data)
    attached = Attachments(session).add(record.id, sources / "letter.bin")
    backup = Backups(session).create().path
    assert not files_containing(backup.parent, CANARY)
    Records(session).delete(record.id)
    assert stored_files(layout) == []
    session.close()

    restore_backup(backup, PASSPHRASE, layout)
    with VaultSession.open(layout, PASSPHRASE) as restored:
        copy = Attachments(restored).save_copy(attached.id, sources / "back.bin")
        assert copy.read_bytes() == data
        assert Records(restored).get(record.id).attachments[0].file_name == "letter.bin"


def test_a_copy_into_a_folder_that_is_not_there_is_said(session, record, tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    attached = Attachments(session).add(record.id, tmp_path / "a.txt")
    with pytest.raises(ValidationError, match="There is no folder"):
        Attachments(session).save_copy(attached.id, str(tmp_path / "new-folder") + "/")
    with pytest.raises(ValidationError, match="There is no folder"):
        Attachments(session).save_copy(attached.id, tmp_path / "nope" / "a.txt")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(ValidationError, match="already exists"):
        Attachments(session).save_copy(attached.id, tmp_path / "dangling")


def test_a_source_that_fails_mid_read_is_the_sources_fault(session, layout, record, tmp_path,
                                                          monkeypatch):
    import io
    from pathlib import Path

    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(3 * attachment_files.CHUNK))

    class FailingDisk(io.FileIO):
        reads = 0

        def read(self, size=-1):
            FailingDisk.reads += 1
            if FailingDisk.reads == 3:  # the header sniff, the first chunk, then EIO
                raise OSError(errno.EIO, "Input/output error")
            return super().read(size)

    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, mode="r", *a, **k: FailingDisk(
        str(self), "rb") if self == source else real_open(self, mode, *a, **k))
    with pytest.raises(attachment_files.SourceUnreadable,
                       match="can't read .*a.bin: Input/output error"):
        Attachments(session).add(record.id, source)
    assert stored_files(layout) == []
