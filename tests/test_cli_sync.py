"""`luna sync` from the shell: its sentences and exit codes (the commands themselves run
from the installed wheel in tests/test_installed_wheel.py)."""

from __future__ import annotations

import json

from helpers import run_cli
from luna_tui.errors import EXIT_CORRUPT, EXIT_USAGE


def test_sync_before_setup_says_how_to_start(vault, capsys):
    result = run_cli(capsys, "sync")
    assert result.code == 1
    assert "luna sync setup FOLDER" in result.err


def test_setup_then_status_as_json(vault, capsys, tmp_path):
    assert run_cli(capsys, "sync", "setup", str(tmp_path / "Sync")).code == 0
    status = json.loads(run_cli(capsys, "sync", "status", "--json").out)
    assert status["pending_changes"] == 0 and status["devices"] == []
    assert run_cli(capsys, "add", "a line").code == 0
    assert json.loads(run_cli(capsys, "sync", "status", "--json").out)["pending_changes"] == 1
    assert "Wrote 1 change in 1 file" in run_cli(capsys, "sync").out


def test_join_refuses_a_home_that_is_not_empty(vault, capsys, tmp_path):
    result = run_cli(capsys, "sync", "join", str(tmp_path / "Sync"))
    assert result.code == EXIT_USAGE
    assert "must be empty" in result.err


def test_a_refused_file_makes_sync_exit_4(vault, capsys, tmp_path, monkeypatch):
    folder = tmp_path / "Sync"
    run_cli(capsys, "sync", "setup", str(folder))
    run_cli(capsys, "add", "a line")
    run_cli(capsys, "sync")
    [mine] = [p for p in folder.iterdir() if p.is_dir()]
    impostor = folder / "0123456789abcdef"  # another "device" replaying this one's file
    impostor.mkdir()
    (impostor / "0000000001.change").write_bytes((mine / "0000000001.change").read_bytes())
    result = run_cli(capsys, "sync")
    assert result.code == EXIT_CORRUPT
    assert "Refused: The sync file 0000000001.change from device 0123456789abcdef" in (
        result.out)


def test_forget_names_an_unknown_device(vault, capsys, tmp_path):
    run_cli(capsys, "sync", "setup", str(tmp_path / "Sync"))
    result = run_cli(capsys, "sync", "forget", "0123456789abcdef")
    assert result.code == 1 and "No device 0123456789abcdef" in result.err


def test_status_names_a_device_unseen_for_a_month(vault, capsys, tmp_path, clock):
    from sync_devices import join

    folder = tmp_path / "Sync"
    run_cli(capsys, "sync", "setup", str(folder))
    join(tmp_path / "laptop", folder, clock)
    assert "Not seen for over 30 days" not in run_cli(capsys, "sync", "status").out
    clock.advance(days=31)
    said = run_cli(capsys, "sync", "status").out
    assert "Not seen for over 30 days. If that device is gone: luna sync forget" in said
