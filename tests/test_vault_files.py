"""The vault on disk: permissions, creating a vault all-or-nothing, and damaged files
reported as damage (with the right passphrase), never as a wrong passphrase."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from conftest import PASSPHRASE, cheap_kdf
from luna_tui.clock import month_key
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
    assert not layout.home.exists() or list(layout.home.iterdir()) == []
    assert [p.name for p in layout.home.parent.iterdir() if "luna-init" in p.name] == []


def test_init_into_a_folder_that_already_holds_other_files_keeps_them(layout):
    layout.home.mkdir(parents=True)
    (layout.home / "notes.txt").write_text("mine")
    create_vault(layout, PASSPHRASE, kdf=cheap_kdf()).session.close()
    assert (layout.home / "notes.txt").read_text() == "mine"
    assert layout.exists()
    assert not [p for p in layout.home.iterdir() if "luna-init" in p.name]


def test_init_leaves_the_mode_of_the_folder_above_the_vault_alone(layout):
    layout.home.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.home.parent, 0o755)
    create_vault(layout, PASSPHRASE, kdf=cheap_kdf()).session.close()
    assert stat.S_IMODE(layout.home.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(layout.home.stat().st_mode) == 0o700


def test_init_refuses_to_write_over_parts_of_a_vault_that_lost_its_keys_db(layout):

    layout.home.mkdir(parents=True)
    layout.stats_db.write_bytes(b"old stats")
    with pytest.raises(VaultExists, match="parts of a vault"):
        create_vault(layout, PASSPHRASE, kdf=cheap_kdf())
    assert layout.stats_db.read_bytes() == b"old stats"


@pytest.mark.dates
def test_init_clears_old_crashed_staging_folders_but_not_fresh_ones(layout, clock):
    """Ages are measured on the clock's wall time; the folders' times are set on it too."""
    layout.home.parent.mkdir(parents=True, exist_ok=True)
    old = layout.home.parent / f".{layout.home.name}.luna-init-0ld0ld00"
    fresh = layout.home.parent / f".{layout.home.name}.luna-init-fresh000"
    for folder, age in ((old, 2 * 3600), (fresh, 50 * 60)):
        folder.mkdir()
        (folder / "keys.db").write_bytes(b"half made")
        os.utime(folder, (clock.wall_time() - age, clock.wall_time() - age))
    create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session.close()
    assert not old.exists()
    assert fresh.exists()


def test_a_crash_mid_init_leaves_no_vault_and_the_next_init_works(layout, monkeypatch):
    from luna_tui.services import vault_setup

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vault_setup, "_move_into_place", crash)
    with pytest.raises(KeyboardInterrupt):
        create_vault(layout, PASSPHRASE, kdf=cheap_kdf())
    assert not layout.exists()
    monkeypatch.undo()
    create_vault(layout, PASSPHRASE, kdf=cheap_kdf()).session.close()
    assert sorted(p.name for p in layout.home.iterdir()) == [".lock", "audit", "keys.db",
                                                            "luna.db", "stats.db"]


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


@pytest.mark.dates
def test_a_truncated_audit_month_is_damage(layout, session, clock):
    session.run(_write_many, session)
    session.close()
    path = layout.audit_db(month_key(clock.now()))
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(VaultCorrupt, match="audit"):
        VaultSession.open(layout, PASSPHRASE, clock=clock)


def test_a_lost_stats_db_is_started_afresh_with_a_warning(layout, session):
    session.close()
    layout.stats_db.unlink()
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert any("stats.db" in w for w in reopened.warnings)
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert reopened.warnings == []
