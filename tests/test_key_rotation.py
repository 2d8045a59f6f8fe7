"""`luna keys rotate`: a new master key and a new passphrase.

Afterwards only the new passphrase (and the new recovery key) open the vault; every
other key is revoked; the data, attachments (byte for byte) and the audit chain are
intact; and no file left in LUNA_HOME opens with the old master key. A kill at each
stage leaves exactly one whole vault: the old one before the swap's marker, the new one
after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE, cheap_kdf
from helpers import run_cli, run_until_paused, stdin
from luna_tui.errors import (
    AttachmentDamaged,
    IntegrityFailure,
    KeyRefused,
    ReadOnlyKey,
    VaultBusy,
    WeakPassphrase,
    WrongPassphrase,
)
from luna_tui.services import key_rotation
from luna_tui.services.attachments import Attachments
from luna_tui.services.doctor import run_checks
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store import attachment_files, rekey
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.records import Attachment
from luna_tui.store.vault_swap import STAGING_NAME
from luna_tui.vault import keystore
from luna_tui.vault.subkeys import VaultKeys

NEW = OTHER_PASSPHRASE
CARER = "purple elephant dances slowly"
LAPTOP = "seven lanterns over harbour"
CANARY = "Canary-Rotate-9K2 lithium note"
SMALL = b"ferritin 12 ug/L\n" * 200
BIG = os.urandom(attachment_files.CHUNK + 12345)  # two chunks


@pytest.fixture
def filled(session, layout, tmp_path):
    """A vault with an entry, two attachments (one of two chunks), a read-only passphrase
    key, a second owner passphrase and an access key; closed. Returns the old master key."""
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content=CANARY, title="Rotation"))
    record = Records(session).create(me, title="Blood test", record_type="lab")
    for name, data in (("small.txt", SMALL), ("big.bin", BIG)):
        (tmp_path / name).write_bytes(data)
        Attachments(session).add(record.id, tmp_path / name)
    admin = KeyAdmin(session)
    admin.add_key("carer", read_only=True, passphrase=CARER)
    admin.add_key("laptop", read_only=False, passphrase=LAPTOP)
    access = admin.add_key("clinic", read_only=True).generated_secret
    master_key = session.key.master_key
    session.close()
    return master_key, access


def rotate(layout, secret=PASSPHRASE, new=NEW, **kwargs):
    plan = key_rotation.plan_rotation(layout, secret)
    return key_rotation.rotate_keys(plan, secret, new, kdf=cheap_kdf(), **kwargs)


def attachment_bytes(session) -> dict[str, bytes]:
    rows = session.run(lambda: list(Attachment.select()))
    return {row.file_name: b"".join(attachment_files.read_chunks(
        session.layout.home / row.storage_path, session.keys.attachments, row.id,
        row.record_id)) for row in rows}


def entries(session) -> list[str]:
    me = Settings(session).current_patient_id()
    return [e.content for e in Journal(session).page(me, limit=100).entries]


def events(session) -> list[str]:
    return session.run(lambda: [e.event_name for e in
                                AuditEvent.select().order_by(AuditEvent.seq)])


def assert_whole(layout, secret: str) -> None:
    """The vault opens with `secret`, holds the data, and doctor finds nothing wrong."""
    with VaultSession.open(layout, secret) as session:
        assert entries(session) == [CANARY]
        assert attachment_bytes(session) == {"small.txt": SMALL, "big.bin": BIG}
        failed = [f for f in run_checks(session) if not f.ok]
        assert failed == []
    assert not (layout.home / STAGING_NAME).exists()
    assert not (layout.home / key_rotation.OLD_FILES_DIR).exists()


def opens(layout, secret: str) -> bool:
    try:
        VaultSession.open(layout, secret).close()
    except WrongPassphrase:
        return False
    return True


# -- what a rotation does ----------------------------------------------------------------


def test_after_a_rotation_only_the_new_passphrase_and_recovery_key_open_the_vault(
        layout, filled):
    _old_key, access = filled
    plan = key_rotation.plan_rotation(layout, PASSPHRASE)
    result = key_rotation.rotate_keys(plan, PASSPHRASE, NEW, kdf=cheap_kdf())
    assert sorted(result.revoked) == ["carer", "clinic", "laptop"]
    assert_whole(layout, NEW)
    assert opens(layout, result.recovery_key)
    for revoked in (PASSPHRASE, CARER, LAPTOP, access):
        assert not opens(layout, revoked)
    rows = keystore.read(layout.keys_db).rows
    assert sorted(r.kind for r in rows) == ["passphrase", "recovery"]
    with VaultSession.open(layout, NEW) as session:
        assert session.key.label == "owner"
        names = events(session)
        assert "keys.rotate" in names
        rotated = session.run(lambda: AuditEvent.get(AuditEvent.event_name == "keys.rotate"))
        assert sorted(json.loads(rotated.diff)["revoked"]) == ["carer", "clinic", "laptop"]
        assert rotated.key_locator_hash == plan.unlocked.locator  # the key that asked


def test_no_file_left_in_the_vault_opens_with_the_old_master_key(layout, filled):
    old_key, _access = filled
    rotate(layout)
    old, new = VaultKeys.from_master_key(old_key), None
    with VaultSession.open(layout, NEW) as session:
        new = session.keys
    databases = [(layout.main_db, old.main_db, new.main_db),
                 (layout.stats_db, old.stats_db, new.stats_db)]
    databases += [(layout.audit_db(m), old.audit_db, new.audit_db)
                  for m in layout.audit_months()]
    files = [p for p in layout.home.rglob("*") if p.is_file()]
    assert {p for p, _o, _n in databases} <= set(files)
    for path, old_db_key, new_db_key in databases:
        assert rekey.pages_not_under(path, new_db_key) == []
        pages = path.stat().st_size // 4096  # SQLCipher's page size
        assert len(rekey.pages_not_under(path, old_db_key)) == pages  # not one page opens
    sealed = [p for p in files if p.parent.parent == layout.attachments_dir]
    assert len(sealed) == 2
    with VaultSession.open(layout, NEW) as session:
        rows = session.run(lambda: {r.storage_path: r for r in Attachment.select()})
    for path in sealed:
        row = rows[str(path.relative_to(layout.home))]
        with pytest.raises(AttachmentDamaged):
            b"".join(attachment_files.read_chunks(path, old.attachments, row.id, row.record_id))
    # What else is there: keys.db (plain, no old wrap), the lock, and nothing under the old key.
    others = {p.name for p in files} - {p.name for p, _o, _n in databases} - {
        p.name for p in sealed}
    assert others <= {"keys.db", ".lock"}


def test_backups_made_before_still_open_with_the_old_passphrase(layout, filled):
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.backups.verify import verify_backup

    with VaultSession.open(layout, PASSPHRASE) as session:
        backup = Backups(session).create()
    rotate(layout)
    assert verify_backup(backup.path, PASSPHRASE).ok  # as the README warns
    with pytest.raises(WrongPassphrase):
        verify_backup(backup.path, NEW)


def test_the_recovery_key_can_rotate_and_the_owner_passphrase_keeps_its_name(layout, session):
    recovery_key = KeyAdmin(session).replace_recovery_key()
    KeyAdmin(session).change_passphrase(LAPTOP)
    session.close()
    result = rotate(layout, secret=recovery_key)
    assert result.revoked == []
    assert opens(layout, NEW) and not opens(layout, LAPTOP)
    assert not opens(layout, recovery_key)


def test_hooks_hear_of_the_rotation_once_the_new_vault_is_in_place(layout, session):
    session.close()
    heard = []

    def hook(result):
        heard.append((result.recovery_key, len(keystore.read(layout.keys_db).rows)))

    stop = key_rotation.on_rotated(hook)
    try:
        result = rotate(layout)
    finally:
        stop()
    assert heard == [(result.recovery_key, 2)]


# -- what it refuses -----------------------------------------------------------------------


def test_a_vault_open_elsewhere_is_refused_and_unchanged(layout, session):
    plan = key_rotation.plan_rotation(layout, PASSPHRASE)
    with pytest.raises(VaultBusy, match="then rotate the keys"):
        key_rotation.rotate_keys(plan, PASSPHRASE, NEW, kdf=cheap_kdf())
    session.close()
    assert opens(layout, PASSPHRASE) and not opens(layout, NEW)
    assert not (layout.home / STAGING_NAME).exists()


def test_a_read_only_key_cannot_rotate(layout, session):
    KeyAdmin(session).add_key("carer", read_only=True, passphrase=CARER)
    session.close()
    with pytest.raises(ReadOnlyKey):
        key_rotation.plan_rotation(layout, CARER)


@pytest.mark.parametrize("new, error", [(PASSPHRASE, KeyRefused), ("password1", WeakPassphrase)])
def test_the_new_passphrase_must_be_new_and_strong(layout, session, new, error):
    session.close()
    with pytest.raises(error):
        rotate(layout, new=new)
    assert opens(layout, PASSPHRASE)


def test_keys_changed_after_the_plan_stop_the_rotation(layout, session):
    session.close()
    plan = key_rotation.plan_rotation(layout, PASSPHRASE)
    with VaultSession.open(layout, PASSPHRASE) as session:
        KeyAdmin(session).add_key("carer", read_only=True, passphrase=CARER)
    with pytest.raises(KeyRefused, match="changed since"):
        key_rotation.rotate_keys(plan, PASSPHRASE, NEW, kdf=cheap_kdf())
    assert opens(layout, CARER)


def test_a_changed_audit_log_is_never_re_macd_into_a_valid_one(layout, session):
    from helpers import encrypted_connection

    keys = session.keys
    session.close()
    month = layout.audit_months()[-1]
    conn = encrypted_connection(layout.audit_db(month), keys.audit_db)
    conn.execute("UPDATE audit SET event_name = 'tampered' WHERE seq = 1")
    conn.close()
    with pytest.raises(IntegrityFailure, match="does not verify"):
        rotate(layout)
    assert opens(layout, PASSPHRASE) and not opens(layout, NEW)


def test_no_plaintext_reaches_the_disk_at_any_stage(layout, filled, monkeypatch):
    from test_no_plaintext_on_disk import files_containing

    from luna_tui.store import vault_swap

    stages = []

    def scan(name):
        stages.append(name)
        assert files_containing(layout.home, CANARY) == []
        assert files_containing(layout.home, SMALL[:40].decode()) == []

    monkeypatch.setattr(key_rotation, "pause_here", scan)
    monkeypatch.setattr(vault_swap, "pause_here", scan)
    rotate(layout)
    assert stages == ["rotate.databases-rekeyed", "rotate.attachments-resealed",
                      "rotate.before-swap", "restore.mid-swap", "restore.mid-swap",
                      "restore.mid-swap", "restore.mid-swap", "restore.mid-swap",
                      "swap.before-discard", "rotate.after-swap"]


# -- the command ---------------------------------------------------------------------------


def test_the_command_lists_what_it_revokes_and_shows_the_recovery_key_once(
        filled, vault, capsys, monkeypatch):
    monkeypatch.setattr("luna_tui.services.key_rotation.calibrate", lambda *a, **k: cheap_kdf())
    stdin(monkeypatch, NEW + "\n")
    result = run_cli(capsys, "keys", "rotate", "--yes", "--new-passphrase-file", "-")
    assert result.code == 0, result.err
    assert "carer (passphrase, read-only)" in result.out
    assert "clinic (access, read-only)" in result.out
    assert "still open with the old passphrase" in result.out
    shown = [line.split() for line in result.out.splitlines() if line.startswith("    ")]
    assert len(shown) == 2  # the recovery key's two lines of four groups
    assert opens(vault, " ".join(shown[0] + shown[1]))
    assert opens(vault, NEW) and not opens(vault, PASSPHRASE)


def test_the_command_without_yes_in_a_script_changes_nothing(vault, capsys, monkeypatch):
    stdin(monkeypatch, NEW + "\n")
    result = run_cli(capsys, "keys", "rotate", "--new-passphrase-file", "-")
    assert result.code != 0
    assert "--yes" in result.err
    assert opens(vault, PASSPHRASE)


# -- kills at each stage ----------------------------------------------------------------------


def luna_rotate(pause_at: str) -> subprocess.Popen:
    return run_until_paused(["keys", "rotate", "--yes", "--new-passphrase-file", "-"],
                            pause_at, stdin=NEW + "\n")


@pytest.mark.slow
@pytest.mark.parametrize("pause_at, rotated", [
    ("rotate.databases-rekeyed", False),
    ("rotate.attachments-resealed", False),
    ("rotate.before-swap", False),
    ("restore.mid-swap#1", True),  # the marker is written: the old files are moving out
    ("restore.mid-swap#4", True),
    ("swap.before-discard", True),
    ("rotate.after-swap", True),
])
def test_a_kill_at_any_stage_leaves_exactly_one_whole_vault(layout, filled, pause_at, rotated):
    process = luna_rotate(pause_at)
    process.kill()
    process.wait()
    works, refused = (NEW, PASSPHRASE) if rotated else (PASSPHRASE, NEW)
    assert_whole(layout, works)
    assert not opens(layout, refused)
    assert opens(layout, LAPTOP) is not rotated  # the revocations came with the new vault


@pytest.mark.slow
def test_a_rotation_killed_before_the_swap_can_be_run_again(layout, filled):
    process = luna_rotate("rotate.before-swap")
    process.kill()
    process.wait()
    done = subprocess.run([sys.executable, "-m", "luna_tui", "keys", "rotate", "--yes",
                           "--new-passphrase-file", "-"], input=NEW + "\n", text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "LUNA_PASSPHRASE": PASSPHRASE})
    assert done.returncode == 0, done.stderr
    assert_whole(layout, NEW)
    assert not Path(layout.home / STAGING_NAME).exists()


def test_the_command_says_the_vault_is_busy_before_asking_for_a_new_passphrase(
        vault, capsys, monkeypatch):
    from luna_tui.errors import EXIT_BUSY

    stdin(monkeypatch, NEW + "\n")
    with VaultSession.open(vault, PASSPHRASE):
        result = run_cli(capsys, "keys", "rotate", "--yes", "--new-passphrase-file", "-")
    assert result.code == EXIT_BUSY
    assert "then rotate the keys" in result.err
    assert sys.stdin.read() == NEW + "\n"  # never read
    assert opens(vault, PASSPHRASE)


def test_a_rekeyed_copy_of_a_live_wal_database_has_no_page_under_the_old_key(tmp_path):
    """Committed pages still only in the source's -wal reach the copy (checkpointed first),
    and the copy's own -wal is gone: nothing of it stays under the old key."""
    from helpers import encrypted_connection

    old_key, new_key = os.urandom(32), os.urandom(32)
    source, copy = tmp_path / "source.db", tmp_path / "copy.db"
    writer = encrypted_connection(source, old_key)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # every commit stays in the -wal
    writer.execute("CREATE TABLE notes (text)")
    writer.executemany("INSERT INTO notes VALUES (?)", [(CANARY,)] * 500)
    writer.close()
    reader = encrypted_connection(source, old_key)  # keeps the -wal alive
    reader.execute("PRAGMA wal_autocheckpoint = 0")
    reader.execute("INSERT INTO notes VALUES ('last')")
    assert source.with_name("source.db-wal").stat().st_size > 0
    rekey.rekeyed_copy(source, copy, old_key, new_key)
    reader.close()
    assert not copy.with_name("copy.db-wal").exists()
    assert rekey.pages_not_under(copy, new_key) == []
    conn = encrypted_connection(copy, new_key)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 501
    conn.close()
    assert len(rekey.pages_not_under(copy, old_key)) == pages  # every page, not just some


def test_a_re_anchored_chain_carries_over_with_its_anchor(session, layout, capsys,
                                                          monkeypatch):
    """A gap an older Luna left, re-anchored by `luna doctor --repair`: the anchor is
    bound to the audit key, so the rotation re-MACs it too, and the walk still resumes."""
    from test_crash_safety import _lose_newest_rows_as_an_older_luna_did, chain_finding

    keys = session.keys
    session.close()
    _lose_newest_rows_as_an_older_luna_did(layout, keys, 2)
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    assert run_cli(capsys, "doctor", "--repair").code == 0
    rotate(layout)
    with VaultSession.open(layout, NEW) as session:
        finding = chain_finding(session)
        assert finding.ok and "re-anchored" in finding.detail


def test_failed_unlocks_not_yet_audited_are_carried_into_the_new_log(layout, session):
    session.close()
    assert not opens(layout, "a wrong guess at the passphrase")  # remembered in keys.db
    plan = key_rotation.plan_rotation(layout, PASSPHRASE)  # an unlock that audits nothing
    key_rotation.rotate_keys(plan, PASSPHRASE, NEW, kdf=cheap_kdf())
    with VaultSession.open(layout, NEW) as reopened:
        names = events(reopened)
    assert names.index("unlock.failed") < names.index("keys.rotate")


def test_a_vault_that_syncs_starts_over_under_the_new_keys(vault, capsys, monkeypatch,
                                                           tmp_path):
    # The old change files open with the old sync key only: after the rotation the vault
    # writes a fresh snapshot for the other devices to join from, and says so.
    from luna_tui.services.sync.folder import SyncFolder
    from luna_tui.services.sync.rotation import REJOIN

    folder = tmp_path / "Sync"
    assert run_cli(capsys, "sync", "setup", str(folder)).code == 0
    device = next(iter(SyncFolder(folder).devices()))
    [(_seq, snapshot)] = SyncFolder(folder).snapshots(device)
    before = snapshot.read_bytes()
    monkeypatch.setattr("luna_tui.services.key_rotation.calibrate", lambda *a, **k: cheap_kdf())
    stdin(monkeypatch, NEW + "\n")
    result = run_cli(capsys, "keys", "rotate", "--yes", "--new-passphrase-file", "-")
    assert result.code == 0, result.err
    assert REJOIN in " ".join(result.out.split())
    [(_seq, snapshot)] = SyncFolder(folder).snapshots(device)
    assert snapshot.read_bytes() != before  # written again, under the new keys
