"""Backups a person can trust: what goes in, what verify catches, what restore keeps.

Each fault of issue 6 is a test here: a truncated backup, a flipped byte in every
member, an edited and re-checksummed member, a backup of another vault, a newer format,
a missing file, the wrong passphrase, a full disk, writes while backing up, a process
killed during a backup and during a restore, and a backup of an older schema.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE, cheap_kdf
from helpers import run_until_paused
from luna_tui.clock import utc_timestamp
from luna_tui.errors import (
    BackupDamaged,
    BackupOfAnotherVault,
    BackupTooNew,
    DiskFull,
    LunaError,
    VaultBusy,
    WrongPassphrase,
)
from luna_tui.home import VaultLayout
from luna_tui.services.backups.folder import Backups
from luna_tui.services.backups.restore import restore_backup
from luna_tui.services.backups.verify import verify_backup
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault
from luna_tui.store import backup_archive, vault_swap

CANARY = "zebra-canary-7f3a"


def write_entries(session, count: int, prefix: str = "entry") -> list[str]:
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    return [journal.create(me, EntryDraft(content=f"{prefix} {i}", entry_date="2026-11-20")).id
            for i in range(count)]


def entry_texts(layout: VaultLayout, secret: str = PASSPHRASE) -> list[str]:
    from luna_tui.store.models.journal import JournalEntry

    with VaultSession.open(layout, secret) as session:
        return session.run(lambda: sorted(e.content for e in JournalEntry.select()))


@pytest.fixture
def backup(session, layout):
    """A vault with three entries (one holding the canary) and one backup of it, closed."""
    write_entries(session, 2)
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content=f"secret {CANARY}", entry_date="2026-11-21"))
    info = Backups(session).create()
    session.close()
    return info.path


# -- what goes in ----------------------------------------------------------------------------

def test_a_backup_is_one_private_file_with_every_database_and_a_signed_manifest(backup, layout):
    assert backup.parent == layout.backups_dir
    assert backup.name.startswith("luna-") and backup.suffix == ".lunabak"
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(backup) as tar:
        names = tar.getnames()
    assert names[-2:] == ["manifest.json", "manifest.mac"]
    assert {"keys.db", "luna.db", "stats.db", "summary.sealed"} <= set(names)
    assert any(n.startswith("audit/") and n.endswith(".db") for n in names)
    manifest, _data, _mac = backup_archive.read_manifest(backup)
    assert manifest.format == 1 and manifest.members
    assert all(len(m.sha256) == 64 for m in manifest.members)
    assert manifest.schema["main"]
    assert list(layout.backups_dir.iterdir()) == [backup]  # no staging left behind


def test_no_plaintext_reaches_the_backup_file(backup):
    assert CANARY.encode() not in backup.read_bytes()
    # keys.db is plain SQLite by design (it holds wrapped keys only); no other database is.
    with tarfile.open(backup) as tar:
        for member in tar.getmembers():
            content = tar.extractfile(member).read()
            assert CANARY.encode() not in content
            if member.name.endswith(".db") and member.name != "keys.db":
                assert not content.startswith(b"SQLite format 3"), member.name


def test_verify_opens_every_database_and_walks_the_audit_chain(backup):
    report = verify_backup(backup, PASSPHRASE)
    assert report.ok
    names = [check.name for check in report.checks]
    assert {"checksums", "passphrase", "manifest", "luna.db", "stats.db", "audit chain"} <= set(
        names)
    assert report.counts["entries"] == 3 and report.counts["patients"] == 1


@pytest.mark.dates
def test_list_says_date_size_entries_and_whether_verified(backup, layout, clock):
    verify_backup(backup, PASSPHRASE, clock=clock)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        [info] = Backups(session).list()
    assert info.path == backup and info.size == backup.stat().st_size
    assert info.entries == 3 and info.same_vault
    assert info.verified is not None and info.verified.ok
    assert info.verified.verified_at == utc_timestamp(clock.now())
    assert info.created_at == utc_timestamp(clock.now())  # the test clock, in the manifest
    # The name is local time: what the person's clock said when they made it.
    assert backup.name == clock.now().astimezone().strftime("luna-%Y%m%d-%H%M%S.lunabak")


def test_a_forged_verification_note_is_not_believed(backup, layout):
    verify_backup(backup, PASSPHRASE)
    note = backup.with_name(backup.name + ".verified")
    body = json.loads(note.read_text())
    body["ok"] = True
    body["verified_at"] = "2030-01-01T00:00:00.000Z"
    note.write_text(json.dumps(body))
    with VaultSession.open(layout, PASSPHRASE) as session:
        [info] = Backups(session).list()
    assert info.verified is None


def test_the_recovery_key_opens_a_backup_too(layout):
    created = create_vault(layout, PASSPHRASE, kdf=cheap_kdf())
    info = Backups(created.session).create()
    created.session.close()
    assert verify_backup(info.path, created.recovery_key).ok


@pytest.mark.dates
def test_backup_to_a_chosen_folder_and_prune_keeps_the_newest(session, tmp_path, clock):
    folder = tmp_path / "usb"
    backups = Backups(session)
    made = [backups.create(folder).path for _ in range(3)]
    assert len({p.name for p in made}) == 3  # same second: still three names
    removed = backups.prune(2, folder)
    assert len(removed) == 1
    assert len(backups.list(folder)) == 2
    with pytest.raises(LunaError, match="at least one"):
        backups.prune(0, folder)


# -- what verify catches ---------------------------------------------------------------------

def test_a_truncated_backup_is_refused_with_a_sentence(backup):
    data = backup.read_bytes()
    with tarfile.open(backup) as tar:
        last = tar.getmembers()[-1]  # the manifest's MAC: cut inside it, the very end
    for cut in (len(data) // 2, last.offset_data + 10, 100):
        backup.write_bytes(data[:cut])
        with pytest.raises(BackupDamaged, match="truncated|not a whole"):
            verify_backup(backup, PASSPHRASE)


def test_a_flipped_byte_in_any_member_is_caught_and_named(backup):
    original = backup.read_bytes()
    with tarfile.open(backup) as tar:
        members = [(m.name, m.offset_data, m.size) for m in tar.getmembers()]
    for name, offset, size in members:
        damaged = bytearray(original)
        damaged[offset + size // 2] ^= 0x01
        backup.write_bytes(bytes(damaged))
        with pytest.raises(BackupDamaged) as caught:
            verify_backup(backup, PASSPHRASE)
        if name not in ("manifest.json", "manifest.mac"):
            assert name in str(caught.value)
    backup.write_bytes(original)
    assert verify_backup(backup, PASSPHRASE).ok


def rewrite(backup: Path, change) -> None:  # noqa: ANN001
    """Rebuild the archive with `change(name, bytes) -> bytes` applied to its members."""
    with tarfile.open(backup) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in members:
            content = change(name, content)
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    backup.write_bytes(buffer.getvalue())


def rebuild_with(backup: Path, extra: tarfile.TarInfo, data: bytes = b"", *,
                 listed: bool = False) -> None:
    """Rebuild the archive with one more member before the manifest (and, if `listed`,
    named in the manifest too, as a forger fixing up the list would)."""
    import hashlib

    with tarfile.open(backup) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"")
                   for m in tar.getmembers()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, content in members:
            if info.name == "manifest.json":
                extra.size = len(data) if extra.isfile() else 0
                tar.addfile(extra, io.BytesIO(data) if extra.isfile() else None)
                if listed:
                    manifest = json.loads(content)
                    manifest["members"].append({"name": extra.name, "size": len(data),
                                                "sha256": hashlib.sha256(data).hexdigest()})
                    content = json.dumps(manifest).encode()
                    info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    backup.write_bytes(buffer.getvalue())


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(("extra", "listed", "said"), [
    (tarfile.TarInfo("keys.db"), False, "holds 'keys.db' twice"),  # the issue's case
    (tarfile.TarInfo("luna.db"), True, "holds 'luna.db' twice"),
    (tarfile.TarInfo("notes.txt"), True, "not a file a Luna backup holds"),
    (tarfile.TarInfo("../escaped.db"), False, "outside the vault"),
    (tarfile.TarInfo("/tmp/absolute.db"), False, "outside the vault"),
    (tarfile.TarInfo("audit/../../up.db"), False, "outside the vault"),
    (_link("audit/2026-10.db", "/etc/passwd"), True, "not a plain file"),
    (_link("audit/2026-09.db", "keys.db", tarfile.LNKTYPE), True, "not a plain file"),
    (tarfile.TarInfo("manifest.json"), False, "holds 'manifest.json' twice"),
], ids=["keys-twice", "listed-twice", "unexpected", "dotdot", "absolute", "inner-dotdot",
        "symlink", "hardlink", "manifest-twice"])
def test_a_backup_with_a_stray_member_is_damaged_before_anything_is_extracted(
        backup, monkeypatch, extra, listed, said):
    rebuild_with(backup, extra, b"sneaky", listed=listed)

    def must_not_extract(*args, **kwargs):
        raise AssertionError("a member was extracted from an archive with a stray member")

    monkeypatch.setattr(backup_archive, "_extract_one", must_not_extract)
    with pytest.raises(BackupDamaged, match=said) as refused:
        verify_backup(backup, PASSPHRASE)
    assert "File exists" not in str(refused.value)
    assert not list(backup.parent.glob(".luna-verify-*"))
    assert not (backup.parent.parent / "escaped.db").exists()


def test_an_edited_member_with_a_recomputed_checksum_fails_the_signature(backup):
    import hashlib

    replacement = {}

    def change(name: str, content: bytes) -> bytes:
        if name == "stats.db":
            replacement["sha"] = hashlib.sha256(content[:-1] + b"\0").hexdigest()
            return content[:-1] + b"\0"
        if name == "manifest.json":
            manifest = json.loads(content)
            for member in manifest["members"]:
                if member["name"] == "stats.db":
                    member["sha256"] = replacement["sha"]
            return json.dumps(manifest).encode()
        return content

    rewrite(backup, change)
    with pytest.raises(BackupDamaged, match="manifest was changed"):
        verify_backup(backup, PASSPHRASE)


def test_a_backup_whose_keys_ask_for_a_derivation_above_the_ceiling_is_refused_unrun(
        backup, tmp_path, monkeypatch):
    """A hostile .lunabak can't make `backup verify` burn the machine: its keys.db rows
    ask for m = 2 GiB, t = 200, p = 16 (checksums and manifest fixed up to match)."""
    import hashlib

    from helpers import keys_db_rows, rewrite_key_row
    from luna_tui.errors import KdfTooHeavy

    def heavy_keys(name: str, content: bytes) -> bytes:
        if name == "keys.db":
            edited = tmp_path / "keys.db"
            edited.write_bytes(content)
            for row in keys_db_rows(edited):
                kdf = json.loads(row["kdf"]) | {"m": 2 * 1024 * 1024, "t": 200, "p": 16}
                rewrite_key_row(edited, row["key_locator_hash"],
                                kdf=json.dumps(kdf, sort_keys=True, separators=(",", ":")))
            heavy_keys.data = edited.read_bytes()
            return heavy_keys.data
        if name == "manifest.json":
            manifest = json.loads(content)
            for member in manifest["members"]:
                if member["name"] == "keys.db":
                    member["sha256"] = hashlib.sha256(heavy_keys.data).hexdigest()
                    member["size"] = len(heavy_keys.data)
            return json.dumps(manifest).encode()
        return content

    def must_not_derive(*args, **kwargs):
        raise AssertionError("a key derivation ran for a row above the ceiling")

    rewrite(backup, heavy_keys)
    monkeypatch.setattr("luna_tui.vault.key_manager.derive_key", must_not_derive)
    with pytest.raises(KdfTooHeavy, match="did not run it"):
        verify_backup(backup, PASSPHRASE)
    assert not list(backup.parent.glob(".luna-verify-*"))


def test_a_backup_of_a_newer_format_asks_for_a_newer_luna(backup):
    def newer(name: str, content: bytes) -> bytes:
        if name == "manifest.json":
            manifest = json.loads(content)
            manifest["format"] = 2
            return json.dumps(manifest).encode()
        return content

    rewrite(backup, newer)
    with pytest.raises(BackupTooNew, match="newer Luna"):
        verify_backup(backup, PASSPHRASE)


def test_a_backup_of_a_newer_schema_asks_for_a_newer_luna(backup):
    def newer(name: str, content: bytes) -> bytes:
        if name == "manifest.json":
            manifest = json.loads(content)
            manifest["schema"]["main"].append("9999_from_the_future")
            return json.dumps(manifest).encode()
        return content

    rewrite(backup, newer)
    # The edit also breaks the signature; whichever is found, it is refused in words.
    with pytest.raises((BackupTooNew, BackupDamaged)):
        verify_backup(backup, PASSPHRASE)


def test_a_missing_file_and_a_wrong_passphrase_are_sentences(backup, tmp_path):
    with pytest.raises(LunaError, match="There is no backup"):
        verify_backup(tmp_path / "nope.lunabak", PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        verify_backup(backup, OTHER_PASSPHRASE)
    assert not list(backup.parent.glob(".luna-verify-*"))  # the extracted copy is gone


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    fake = tmp_path / "luna-20260101-000000.lunabak"
    fake.write_bytes(b"hello, not a tar file at all" * 40)
    with pytest.raises(BackupDamaged):
        verify_backup(fake, PASSPHRASE)


# -- faults while writing --------------------------------------------------------------------

def test_a_full_disk_leaves_nothing_under_the_final_name_and_earlier_backups_whole(
        backup, layout, monkeypatch):
    calls = {"n": 0}
    original_addfile = tarfile.TarFile.addfile

    def addfile(self, tarinfo, fileobj=None, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original_addfile(self, tarinfo, fileobj, **kwargs)

    with VaultSession.open(layout, PASSPHRASE) as session:
        monkeypatch.setattr(tarfile.TarFile, "addfile", addfile)
        with pytest.raises(DiskFull, match="disk is full"):
            Backups(session).create()
        monkeypatch.undo()
    assert sorted(p.name for p in layout.backups_dir.iterdir()) == [backup.name]
    assert verify_backup(backup, PASSPHRASE).ok


WRITER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from luna_tui.home import VaultLayout
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_session import VaultSession

    stop = Path(sys.argv[2])
    with VaultSession.open(VaultLayout(Path(sys.argv[1])), os.environ["LUNA_PASSPHRASE"]) as s:
        me = Settings(s).current_patient_id()
        i = 0
        while not stop.exists():
            Journal(s).create(me, EntryDraft(content=f"live {i}", entry_date="2026-11-20"))
            i += 1
            print(i, flush=True)
""")


@pytest.mark.slow
def test_a_backup_taken_while_entries_are_written_verifies_and_holds_every_earlier_one(
        layout, session, tmp_path):
    write_entries(session, 20, "before")
    stop = tmp_path / "stop"
    env = {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE, "LUNA_BUSY_TIMEOUT": "30"}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(layout.home), str(stop)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(5):  # the writer is writing
            assert writer.stdout.readline(), writer.stderr.read()
        from luna_tui.store.models.journal import JournalEntry

        committed = session.run(lambda: {e.content for e in JournalEntry.select()})
        info = Backups(session).create()
    finally:
        stop.touch()
        writer.communicate(timeout=60)
    session.close()
    report = verify_backup(info.path, PASSPHRASE)
    assert report.ok, report.first_problem
    restored = VaultLayout(tmp_path / "restored")
    restore_backup(info.path, PASSPHRASE, restored)
    assert committed <= set(entry_texts(restored))


@pytest.mark.slow
def test_a_backup_killed_before_it_is_whole_leaves_no_backup(backup, layout):
    process = run_until_paused(["backup", "create"], "backup.before-rename")
    process.kill()
    process.wait()
    finals = [p.name for p in layout.backups_dir.glob("*.lunabak")]
    assert finals == [backup.name]  # the killed one never got a final name
    with VaultSession.open(layout, PASSPHRASE) as session:
        assert [b.path for b in Backups(session).list()] == [backup]
        Backups(session).create()
    assert verify_backup(backup, PASSPHRASE).ok


@pytest.fixture
def changed_since_backup(backup, layout):
    """After the backup, the vault moved on: one more entry."""
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        Journal(session).create(me, EntryDraft(content="written after", entry_date="2026-11-22"))
    return backup


def test_restore_puts_the_backup_back_and_keeps_the_replaced_vault(changed_since_backup, layout):
    result = restore_backup(changed_since_backup, PASSPHRASE, layout)
    assert "written after" not in entry_texts(layout)
    assert len(entry_texts(layout)) == 3
    assert result.safety_dir is not None and result.safety_dir.parent == layout.backups_dir
    assert "written after" in entry_texts(VaultLayout(result.safety_dir))
    assert not vault_swap.staging_dir(layout).exists()
    from luna_tui.store.models.audit import AuditEvent

    with VaultSession.open(layout, PASSPHRASE) as session:
        events = session.run(lambda: [e.event_name for e in AuditEvent.select()])
    assert "backup.restore" in events


def test_restore_is_refused_while_the_vault_is_open(backup, layout):
    with VaultSession.open(layout, PASSPHRASE):
        with pytest.raises(VaultBusy, match="open in another Luna process"):
            restore_backup(backup, PASSPHRASE, layout)
    assert len(entry_texts(layout)) == 3


def test_a_backup_of_another_vault_does_not_replace_this_one(backup, layout, tmp_path):
    other = VaultLayout(tmp_path / "other")
    created = create_vault(other, OTHER_PASSPHRASE, kdf=cheap_kdf())
    write_entries(created.session, 1, "other vault")
    foreign = Backups(created.session).create().path
    created.session.close()
    assert verify_backup(foreign, OTHER_PASSPHRASE).ok  # whole, for its own vault
    with pytest.raises(BackupOfAnotherVault, match="another vault"):
        restore_backup(foreign, OTHER_PASSPHRASE, layout)
    assert len(entry_texts(layout)) == 3
    restore_backup(foreign, OTHER_PASSPHRASE, VaultLayout(tmp_path / "empty"))
    assert entry_texts(VaultLayout(tmp_path / "empty"), OTHER_PASSPHRASE) == ["other vault 0"]


def test_a_restore_that_fails_verification_changes_nothing(backup, layout):
    data = bytearray(backup.read_bytes())
    data[len(data) // 3] ^= 0xFF
    backup.write_bytes(bytes(data))
    with pytest.raises(LunaError):
        restore_backup(backup, PASSPHRASE, layout)
    assert len(entry_texts(layout)) == 3
    assert not vault_swap.staging_dir(layout).exists()
    assert not list(layout.backups_dir.glob("before-restore-*"))


def vault_id(layout: VaultLayout) -> str:
    from luna_tui.vault import keystore

    return keystore.read(layout.keys_db).vault.vault_id


@pytest.mark.slow
@pytest.mark.parametrize("pause_at, expect_new", [("restore.before-swap", False),
                                                  ("restore.mid-swap", True)])
def test_a_restore_killed_part_way_leaves_one_whole_vault(changed_since_backup, layout,
                                                          pause_at, expect_new):
    process = run_until_paused(["backup", "restore", str(changed_since_backup), "--yes"],
                               pause_at)
    process.kill()
    process.wait()
    vault_swap.finish_interrupted_swap(layout)  # what the next Luna does before opening
    for stale in ("luna.db-wal", "luna.db-shm", "stats.db-wal", "stats.db-shm"):
        assert not (layout.home / stale).exists(), stale
    texts = entry_texts(layout)
    if expect_new:
        assert "written after" not in texts and len(texts) == 3
    else:
        assert "written after" in texts and len(texts) == 4
    with VaultSession.open(layout, PASSPHRASE) as session:
        from luna_tui.services.doctor import run_checks

        assert all(f.ok for f in run_checks(session)), run_checks(session)


def test_a_backup_of_an_older_schema_is_migrated_on_restore(tmp_path):
    from helpers import AUDIT_OUTBOX, an_older_luna
    from luna_tui.store import migrate

    newest = [name for name in migrate.script_names("main") if name != AUDIT_OUTBOX][-1]
    old = VaultLayout(tmp_path / "old")
    with an_older_luna(lambda name: name != newest):
        created = create_vault(old, PASSPHRASE, kdf=cheap_kdf())
        write_entries(created.session, 2, "old luna")
        made = Backups(created.session).create().path
        created.session.close()
    manifest, _data, _mac = backup_archive.read_manifest(made)
    assert newest not in manifest.schema["main"]
    target = VaultLayout(tmp_path / "new")
    result = restore_backup(made, PASSPHRASE, target)
    assert result.migrated == [newest]
    assert entry_texts(target) == ["old luna 0", "old luna 1"]


def test_an_interrupted_swap_is_finished_before_the_vault_opens(backup, layout):
    """The redo log, driven by hand: staged and marked READY, then 'killed'."""
    staging = vault_swap.prepare_staging(layout)
    backup_archive.extract(backup, staging, backup_archive.read_manifest(backup)[0])
    (staging / "summary.sealed").unlink()
    vault_swap._write_marker(staging / vault_swap.READY,
                             {"safety_dir": str(layout.backups_dir / "before-restore-x")})
    time.sleep(0)  # nothing else moved: the process "died" here
    assert len(entry_texts(layout)) == 3  # opening finishes the swap first
    assert (layout.backups_dir / "before-restore-x" / "keys.db").exists()
    assert not vault_swap.staging_dir(layout).exists()


def test_verify_works_from_a_read_only_folder(backup, monkeypatch):
    from luna_tui.errors import ReadOnlyLocation
    from luna_tui.services.backups import verify as backup_verify

    real = backup_verify.ensure_private_dir

    def read_only_beside_the_backup(path):
        if path.parent == backup.parent:
            raise ReadOnlyLocation("read-only")
        real(path)

    monkeypatch.setattr(backup_verify, "ensure_private_dir", read_only_beside_the_backup)
    assert verify_backup(backup, PASSPHRASE).ok


def test_a_quiet_vault_copies_luna_db_as_bytes_and_a_busy_one_through_the_backup_api(
        session, layout, monkeypatch):
    from luna_tui.store import online_copy

    write_entries(session, 3)
    through_api = []
    real = online_copy._backup_schema
    monkeypatch.setattr(online_copy, "_backup_schema",
                        lambda conn, schema, *a, **k: (through_api.append(schema),
                                                       real(conn, schema, *a, **k)))
    quiet = Backups(session).create().path
    assert "main" not in through_api  # the fast path was taken
    monkeypatch.setattr(online_copy, "_checkpoint", lambda conn: False)  # as if others read
    busy = Backups(session).create().path
    assert "main" in through_api
    session.close()
    for made in (quiet, busy):
        report = verify_backup(made, PASSPHRASE)
        assert report.ok and report.counts["entries"] == 3


def test_a_flipped_byte_in_a_large_member_is_caught_while_the_databases_are_checked(
        backup, monkeypatch):
    from luna_tui.services.backups import verify as backup_verify

    monkeypatch.setattr(backup_verify, "HASH_LATER_OVER", 0)  # every member hashed later
    assert verify_backup(backup, PASSPHRASE).ok
    original = backup.read_bytes()
    with tarfile.open(backup) as tar:
        main = tar.getmember("luna.db")
    damaged = bytearray(original)
    damaged[main.offset_data + main.size // 2] ^= 0x01
    backup.write_bytes(bytes(damaged))
    with pytest.raises(BackupDamaged, match="luna.db"):
        verify_backup(backup, PASSPHRASE)


# -- what a review of the swap and prune found --------------------------------------------

def test_no_luna_touches_a_swap_while_a_restore_holds_the_vault(backup, layout):
    from luna_tui.store.vault_lock import VaultLock

    restoring = VaultLock(layout.home)
    restoring.acquire_exclusive()  # as restore_backup does, before staging
    try:
        staging = vault_swap.prepare_staging(layout)
        (staging / "keys.db").write_bytes(b"being extracted")
        with pytest.raises(VaultBusy, match="being restored"):
            vault_swap.finish_interrupted_swap(layout)
        with pytest.raises(VaultBusy):
            create_vault(layout, PASSPHRASE, kdf=cheap_kdf())
        assert (staging / "keys.db").read_bytes() == b"being extracted"
    finally:
        restoring.release()


def half_swapped(backup: Path, layout: VaultLayout) -> Path:
    """A restore killed after the old files went out and before the new ones came in."""
    staging = vault_swap.prepare_staging(layout)
    backup_archive.extract(backup, staging, backup_archive.read_manifest(backup)[0])
    (staging / "summary.sealed").unlink()
    safety = layout.backups_dir / "before-restore-killed"
    vault_swap._write_marker(staging / vault_swap.READY, {"safety_dir": str(
        safety.relative_to(layout.home))})
    safety.mkdir(parents=True)
    for name in vault_swap.VAULT_MEMBERS:
        if (layout.home / name).exists():
            os.replace(layout.home / name, safety / name)
    vault_swap._write_marker(staging / vault_swap.OLD_MOVED, {})
    return safety


def test_init_on_a_half_swapped_folder_finishes_the_restore_instead(backup, layout):
    from luna_tui.errors import VaultExists

    half_swapped(backup, layout)
    assert not layout.exists()  # keys.db is out: it looks like an empty folder
    with pytest.raises(VaultExists):
        create_vault(layout, OTHER_PASSPHRASE, kdf=cheap_kdf())
    assert len(entry_texts(layout)) == 3  # the restored vault, whole


def test_finishing_a_swap_never_overwrites_what_is_there(backup, layout):
    from luna_tui.errors import VaultCorrupt

    half_swapped(backup, layout)
    (layout.home / "keys.db").write_bytes(b"someone's new vault")
    with pytest.raises(VaultCorrupt, match="move them by hand"):
        vault_swap.finish_interrupted_swap(layout)
    assert (layout.home / "keys.db").read_bytes() == b"someone's new vault"
    assert (vault_swap.staging_dir(layout) / "keys.db").exists()  # nothing lost either


@pytest.mark.dates
def test_prune_never_trades_a_good_backup_for_a_damaged_one(session, layout, clock):
    backups = Backups(session)
    good = backups.create().path
    clock.advance(hours=1)
    damaged = backups.create().path  # the newest
    with tarfile.open(damaged) as tar:
        mac = tar.getmember("manifest.mac")
    data = bytearray(damaged.read_bytes())
    data[mac.offset_data + 3] ^= 0x01  # its manifest's MAC: unreadable with this vault's key
    damaged.write_bytes(bytes(data))
    assert [b.path for b in backups.list()] == [damaged, good]
    assert backups.prune(1) == []
    assert good.exists() and damaged.exists()


def test_a_checksum_failure_found_late_replaces_an_earlier_verified_note(backup, layout,
                                                                        monkeypatch):
    from luna_tui.services.backups import verify as backup_verify

    assert verify_backup(backup, PASSPHRASE).ok
    monkeypatch.setattr(backup_verify, "HASH_LATER_OVER", 0)
    with tarfile.open(backup) as tar:
        main = tar.getmember("luna.db")
    data = bytearray(backup.read_bytes())
    data[main.offset_data + main.size // 2] ^= 0x01
    backup.write_bytes(bytes(data))
    with pytest.raises(BackupDamaged):
        verify_backup(backup, PASSPHRASE)
    with VaultSession.open(layout, PASSPHRASE) as session:
        [info] = Backups(session).list()
    assert info.verified is not None and not info.verified.ok


def test_a_backup_never_replaces_one_that_took_its_name(tmp_path):
    temp = tmp_path / ".new.part"
    temp.write_bytes(b"new")
    taken = tmp_path / "luna-20261122-093000.lunabak"
    taken.write_bytes(b"older backup")
    final = backup_archive._link_into_place(temp, taken)
    assert final.name == "luna-20261122-093000-2.lunabak"
    assert taken.read_bytes() == b"older backup" and final.read_bytes() == b"new"
    assert not temp.exists()


# -- backups made by an older Luna -------------------------------------------------------------

OLD_BACKUP = (Path(__file__).parent / "fixtures"
              / "made-by-luna-0.1.0-before-the-audit-outbox.lunabak")


def test_a_backup_made_before_the_audit_outbox_verifies_and_restores(tmp_path):
    """Made by the Luna of commit 62a64a5 (luna init --kdf-seconds 0; one entry; backup
    create): its luna.db has no outbox, no anchors and no crash_safe_from."""
    from luna_tui.services.journal import Journal
    from luna_tui.services.settings import Settings

    copy = tmp_path / OLD_BACKUP.name
    copy.write_bytes(OLD_BACKUP.read_bytes())
    report = verify_backup(copy, PASSPHRASE, record=False)
    assert report.ok, report.first_problem
    target = VaultLayout(tmp_path / "restored")
    result = restore_backup(copy, PASSPHRASE, target)
    assert {"0006_audit_outbox", "0007_drafts"} <= set(result.migrated)
    with VaultSession.open(target, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        assert [e.content.strip() for e in Journal(session).page(me).entries] == [
            "Written by Luna before the audit outbox"]
        from luna_tui.services.doctor import run_checks

        assert all(f.ok for f in run_checks(session)), run_checks(session)
