"""The vault on disk: permissions, creating a vault all-or-nothing, and damaged files
reported as damage (with the right passphrase), never as a wrong passphrase."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from conftest import PASSPHRASE, cheap_kdf
from luna_tui.errors import DiskFull, ReadOnlyLocation, VaultCorrupt, VaultExists
from luna_tui.services.doctor import check_permissions
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault


def modes(root):
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
        for p in [root, *root.rglob("*")]
    }


def test_files_are_0600_and_folders_0700_under_umask_000(layout, clock):
    previous = os.umask(0)
    try:
        session = create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session
        session.run(_write_one, session)
    finally:
        os.umask(previous)
    try:
        open_modes = modes(layout.home)  # with the -wal and -shm files present
        assert any(name.endswith("-wal") for name in open_modes)
        for name, mode in open_modes.items():
            wanted = 0o700 if (layout.home / name).is_dir() or name == "." else 0o600
            assert mode == wanted, f"{name} is {mode:o}"
    finally:
        session.close()
    assert check_permissions(layout).ok


def _write_one(session):
    with session.writing("test") as tx:
        tx.record("test.event")


def test_doctor_names_a_file_others_can_read(layout, session):
    os.chmod(layout.stats_db, 0o644)
    finding = check_permissions(layout)
    assert not finding.ok and "stats.db is 644" in finding.detail


def test_init_refuses_an_existing_vault(layout, new_vault):
    with pytest.raises(VaultExists, match="already a vault"):
        create_vault(layout, PASSPHRASE, kdf=cheap_kdf())


def test_a_full_disk_during_init_leaves_no_vault_and_no_staging(layout, monkeypatch):
    from luna_tui.vault import keystore

    real_create = keystore.create

    def create_then_fill_disk(*args, **kwargs):
        real_create(*args, **kwargs)
        raise DiskFull()

    monkeypatch.setattr(keystore, "create", create_then_fill_disk)
    with pytest.raises(DiskFull, match="nothing was saved"):
        create_vault(layout, PASSPHRASE, kdf=cheap_kdf())
    assert not layout.exists()
    assert list(layout.home.iterdir()) == []


def test_a_crash_mid_init_leaves_a_staging_folder_that_the_next_init_clears(layout, monkeypatch):
    from luna_tui.services import vault_setup

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vault_setup, "_move_into_place", crash)
    with pytest.raises(KeyboardInterrupt):
        create_vault(layout, PASSPHRASE, kdf=cheap_kdf())
    assert not layout.exists()
    monkeypatch.undo()
    create_vault(layout, PASSPHRASE, kdf=cheap_kdf()).session.close()
    assert sorted(p.name for p in layout.home.iterdir()) == ["audit", "keys.db", "luna.db",
                                                            "stats.db"]


def test_a_read_only_location_is_a_sentence(layout, monkeypatch):
    from pathlib import Path

    def refuse(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(ReadOnlyLocation, match="read-only"):
        create_vault(layout, PASSPHRASE, kdf=cheap_kdf())


@pytest.mark.parametrize("damage", ["missing", "zero-bytes", "truncated", "flipped-byte"])
def test_a_damaged_luna_db_is_damage_even_with_the_right_passphrase(layout, session, damage):
    session.run(_write_many, session)
    session.close()
    data = layout.main_db.read_bytes()
    if damage == "missing":
        layout.main_db.unlink()
    elif damage == "zero-bytes":
        layout.main_db.write_bytes(b"")
    elif damage == "truncated":
        layout.main_db.write_bytes(data[: len(data) // 2])
    else:
        layout.main_db.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    with pytest.raises(VaultCorrupt) as damaged:
        VaultSession.open(layout, PASSPHRASE)
    assert "luna.db" in str(damaged.value)
    assert "wrong passphrase" not in str(damaged.value).lower()


def _write_many(session):
    for i in range(50):
        with session.writing("test") as tx:
            tx.record("test.event", diff={"i": i, "text": "x" * 500})


def test_a_truncated_audit_month_is_damage(layout, session):
    session.run(_write_many, session)
    session.close()
    path = layout.audit_db("2026-11")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(VaultCorrupt, match="audit"):
        VaultSession.open(layout, PASSPHRASE)


def test_a_lost_stats_db_is_started_afresh_with_a_warning(layout, session):
    session.close()
    layout.stats_db.unlink()
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert any("stats.db" in w for w in reopened.warnings)
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert reopened.warnings == []
