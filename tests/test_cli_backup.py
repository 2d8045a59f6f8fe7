"""`luna backup …` as a person uses it: what it prints and its exit codes
(0 whole, 3 wrong key, 4 damaged, 5 busy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import run_cli
from luna_tui.errors import EXIT_USAGE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


@pytest.fixture
def vault(session, layout, monkeypatch):
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Slept well", entry_date="2026-11-20"))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    return layout


def made_backup(capsys, layout):
    result = run_cli(capsys, "backup", "create")
    assert result.code == 0, result.err
    [path] = layout.backups_dir.glob("*.lunabak")
    return path, result


def test_create_then_list_then_verify(vault, capsys):
    path, created = made_backup(capsys, vault)
    assert f"Backup saved: {path}" in created.out and "1 entry" in created.out
    assert "luna backup verify" in created.out

    listed = run_cli(capsys, "backup", "list")
    assert path.name in listed.out and "not verified" in listed.out and "1 entry" in listed.out

    verified = run_cli(capsys, "backup", "verify", str(path))
    assert verified.code == 0
    assert "✓ luna.db: integrity check passed" in verified.out
    assert "✓ audit chain" in verified.out and "is whole" in verified.out
    relisted = run_cli(capsys, "backup", "list").out
    assert "not verified" not in relisted and "verified 20" in relisted


def test_list_json_and_an_empty_folder(vault, capsys, tmp_path):
    empty = run_cli(capsys, "backup", "list", "--dir", str(tmp_path / "none"))
    assert "No backups in" in empty.out
    made_backup(capsys, vault)
    import json

    [info] = json.loads(run_cli(capsys, "backup", "list", "--json").out)
    assert info["this_vault"] and info["counts"]["entries"] == 1 and info["verified"] is None


def test_verify_exits_4_for_a_damaged_backup_and_3_for_a_wrong_passphrase(vault, capsys,
                                                                          monkeypatch):
    path, _ = made_backup(capsys, vault)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged = path.with_name("damaged.lunabak")
    damaged.write_bytes(bytes(data))
    result = run_cli(capsys, "backup", "verify", str(damaged))
    assert result.code == 4
    assert "luna:" in result.err and "Traceback" not in result.err

    monkeypatch.setenv("LUNA_PASSPHRASE", OTHER_PASSPHRASE)
    wrong = run_cli(capsys, "backup", "verify", str(path))
    assert wrong.code == 3

    missing = run_cli(capsys, "backup", "verify", str(path.with_name("gone.lunabak")))
    assert missing.code == 2 and "There is no backup file" in missing.err


def test_restore_replaces_the_vault_and_says_where_the_old_one_is(vault, capsys):
    path, _ = made_backup(capsys, vault)
    assert run_cli(capsys, "add", "After the backup").code == 0
    refused = run_cli(capsys, "backup", "restore", str(path))  # no terminal to ask on
    assert refused.code == 2 and "--yes" in refused.err

    restored = run_cli(capsys, "backup", "restore", str(path), "--yes")
    assert restored.code == 0, restored.err
    assert "Restored" in restored.out and "before-restore-" in restored.out
    listed = run_cli(capsys, "list")
    assert "Slept well" in listed.out and "After the backup" not in listed.out


def test_restore_into_a_new_folder(vault, capsys, tmp_path):
    path, _ = made_backup(capsys, vault)
    target = tmp_path / "elsewhere"
    result = run_cli(capsys, "backup", "restore", str(path), "--to", str(target))
    assert result.code == 0, result.err
    assert "before-restore" not in result.out
    assert "Slept well" in run_cli(capsys, "--home", str(target), "list").out


def test_prune_keeps_the_newest(vault, capsys, clock):
    made_backup(capsys, vault)
    run_cli(capsys, "backup", "create")
    pruned = run_cli(capsys, "backup", "prune", "--keep", "1", "--yes")
    assert pruned.code == 0 and pruned.out.count("Deleted") == 1
    assert len(list(vault.backups_dir.glob("*.lunabak"))) == 1
    again = run_cli(capsys, "backup", "prune", "--keep", "1")
    assert "Nothing to prune" in again.out


def two_backups(capsys, vault, clock) -> tuple[Path, Path]:
    """(the older, the newer)."""
    older, _ = made_backup(capsys, vault)
    clock.advance(seconds=2)  # another file name
    assert run_cli(capsys, "backup", "create").code == 0
    [newer] = [p for p in vault.backups_dir.glob("*.lunabak") if p != older]
    return older, newer


def test_prune_in_a_script_lists_what_would_go_and_deletes_only_with_yes(vault, capsys,
                                                                         clock):
    older, newer = two_backups(capsys, vault, clock)
    refused = run_cli(capsys, "backup", "prune", "--keep", "1")
    assert refused.code == EXIT_USAGE
    assert "add --yes to confirm" in refused.err
    assert older.name in refused.out and newer.name not in refused.out
    assert older.exists() and newer.exists()
    assert not _audited(vault, "backup.prune")


def test_prune_dry_run_only_lists(vault, capsys, clock):
    older, newer = two_backups(capsys, vault, clock)
    listed = run_cli(capsys, "backup", "prune", "--keep", "1", "--dry-run", "--yes")
    assert listed.code == 0, listed.err
    assert "Would delete: 1 backup of this vault" in listed.out
    assert older.name in listed.out and "Deleted" not in listed.out
    assert older.exists() and newer.exists()


@pytest.mark.parametrize(("answer", "deleted"), [("n", False), ("", False), ("y", True)])
def test_prune_at_a_terminal_asks_first(vault, capsys, clock, monkeypatch, answer, deleted):
    older, newer = two_backups(capsys, vault, clock)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or answer)
    result = run_cli(capsys, "backup", "prune", "--keep", "1")
    assert result.code == 0, result.err
    assert asked == ["Delete this backup? [y/N] "]
    assert older.exists() is not deleted and newer.exists()
    assert ("Nothing was deleted." in result.out) is not deleted
    assert _audited(vault, "backup.prune") is deleted


def _audited(layout, event: str) -> bool:
    from luna_tui.store.models.audit import AuditEvent

    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: AuditEvent.select().where(
            AuditEvent.event_name == event).exists())
