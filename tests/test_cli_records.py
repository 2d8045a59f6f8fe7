"""`luna records`, `luna attach` and `luna attachment` from a shell."""

from __future__ import annotations

import json

import pytest
from pdf_maker import text_pdf

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.store import attachment_files


@pytest.fixture
def vault(session, monkeypatch):
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)


def added_id(out: str) -> str:
    return out.split(" as ")[1].split(".")[0]


def test_add_with_files_then_list_search_show_and_get(vault, capsys, tmp_path, layout):
    (tmp_path / "results.pdf").write_bytes(text_pdf("Ferritin 12 ug/L zeppelin"))
    (tmp_path / "notes.txt").write_text("Iron tablets for three months")
    result = run_cli(capsys, "records", "add", "--title", "Blood test", "--type", "lab",
                     "--date", "2026-11-20", "--tags", "iron, bloods",
                     "--attach", str(tmp_path / "results.pdf"),
                     "--attach", str(tmp_path / "notes.txt"))
    assert result.code == 0, result.err
    record_id = added_id(result.out.splitlines()[0])
    assert "Attached results.pdf" in result.out and "text searchable" in result.out

    listed = run_cli(capsys, "records")
    assert record_id in listed.out and "Lab result" in listed.out and "#iron" in listed.out
    found = run_cli(capsys, "records", "--search", "zeppelin", "--json")
    records = json.loads(found.out)
    assert [r["title"] for r in records] == ["Blood test"]
    pdf = next(a for a in records[0]["attachments"] if a["file_name"] == "results.pdf")
    assert run_cli(capsys, "records", "--search", "nothing-like-it").out.startswith("Me has no")
    assert "results.pdf" in run_cli(capsys, "records", "show", record_id).out

    out = tmp_path / "copy.pdf"
    got = run_cli(capsys, "attachment", "get", pdf["id"][:8], "--out", str(out))
    assert got.code == 0 and "checksum verified" in got.err and "NOT encrypted" in got.err
    assert out.read_bytes() == (tmp_path / "results.pdf").read_bytes()
    refused = run_cli(capsys, "attachment", "get", pdf["id"], "--out", str(out))
    assert refused.code == 2 and "--force" in refused.err


def test_a_file_that_cannot_be_attached_is_named_and_the_record_kept(vault, capsys, tmp_path,
                                                                     layout):
    (tmp_path / "a.txt").write_text("words")
    result = run_cli(capsys, "records", "add", "--title", "Letter",
                     "--attach", str(tmp_path / "missing.pdf"), "--attach", str(tmp_path),
                     "--attach", str(tmp_path / "a.txt"))
    assert result.code == 1
    assert "missing.pdf was not attached: There is no file at" in result.err
    assert "is a folder; choose a file inside it" in result.err
    assert "Attached a.txt" in result.out
    record_id = added_id(result.out.splitlines()[0])
    again = run_cli(capsys, "attach", record_id, str(tmp_path / "a.txt"))
    assert again.code == 1 and "already attached to this record" in again.err


def test_a_tampered_attachment_exits_4_and_writes_nothing(vault, capsys, tmp_path, layout):
    (tmp_path / "a.bin").write_bytes(b"\x00\x01" * 5000)
    result = run_cli(capsys, "records", "add", "--title", "Scan",
                     "--attach", str(tmp_path / "a.bin"))
    attachment = result.out.splitlines()[1].split(" as ")[1].rstrip(".")
    stored = next(layout.attachments_dir.rglob(f"{attachment}*"))
    data = bytearray(stored.read_bytes())
    data[attachment_files.HEADER_LENGTH + 5] ^= 0xFF
    stored.write_bytes(bytes(data))
    got = run_cli(capsys, "attachment", "get", attachment, "--out", str(tmp_path / "out.bin"))
    assert got.code == 4 and "changed or damaged on disk" in got.err
    assert not (tmp_path / "out.bin").exists()
    doctor = run_cli(capsys, "doctor")
    assert doctor.code != 0 and "a.bin" in doctor.out and "changed or damaged" in doctor.out


def test_delete_removes_the_record_and_its_files(vault, capsys, tmp_path, layout):
    (tmp_path / "a.txt").write_text("words")
    result = run_cli(capsys, "records", "add", "--title", "Letter",
                     "--attach", str(tmp_path / "a.txt"))
    record_id = added_id(result.out.splitlines()[0])
    deleted = run_cli(capsys, "records", "delete", record_id, "--yes")
    assert deleted.code == 0 and "1 attached file" in deleted.out
    assert not [p for p in layout.attachments_dir.rglob("*") if p.is_file()]
    assert "attachments: 0 file(s)" in run_cli(capsys, "doctor").out  # and no orphans
    assert run_cli(capsys, "records", "show", record_id).code == 1


def test_doctor_reports_a_file_no_record_owns(vault, capsys, layout):
    layout.attachments_dir.mkdir(mode=0o700, exist_ok=True)
    stray = layout.attachments_dir / "ab" / "leftover"
    stray.parent.mkdir(mode=0o700)
    stray.write_bytes(b"x")
    stray.chmod(0o600)
    doctor = run_cli(capsys, "doctor")
    assert doctor.code != 0 and "belong to no record" in doctor.out


def test_options_before_the_action_count(vault, capsys, tmp_path):
    added = run_cli(capsys, "records", "--type", "lab", "add", "--title", "Ferritin")
    record_id = added_id(added.out.splitlines()[0])
    shown = run_cli(capsys, "records", "--json", "show", record_id)
    assert json.loads(shown.out)["record_type"] == "lab"
    (tmp_path / "a.txt").write_text("words")
    attached = run_cli(capsys, "attach", record_id, str(tmp_path / "a.txt"))
    attachment = attached.out.split(" as ")[1].rstrip(".\n")
    refused = run_cli(capsys, "attachment", "delete", attachment)  # no terminal to ask on
    assert refused.code == 2 and "--yes" in refused.err
    assert run_cli(capsys, "attachment", "delete", attachment, "--yes").code == 0
    missing = run_cli(capsys, "attachment", "get", attachment, "--out", str(tmp_path) + "/x/")
    assert missing.code == 1 and "No attachment" in missing.err
