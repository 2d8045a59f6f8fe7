"""`luna add`, `list`, `search`, `import` and `export` from a shell, as scripts use them."""

from __future__ import annotations

import json

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import run_cli, stdin
from luna_tui.services.journal import Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession

JSON_FIELDS = {"id", "patient", "entry_date", "entry_time", "title", "content", "mood",
               "mood_scale", "tags", "favorite", "privacy_level"}


def test_add_from_arguments_with_every_option(capsys, vault, monkeypatch):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", "Slept", "badly,", "knee", "sore", "--title", "Bad night",
                     "--mood", "tired", "--mood-scale", "4", "--sleep", "5.5", "--tag", "sleep",
                     "--tag", "#Knee", "--date", "2026-11-21T07:30", "--favorite", "--private")
    assert result.code == 0, result.err
    assert 'Saved to Me\'s journal: 2026-11-21 07:30 "Bad night"' in result.out
    listed = json.loads(run_cli(capsys, "list", "--json").out)
    assert len(listed) == 1 and JSON_FIELDS <= set(listed[0])
    entry = listed[0]
    assert (entry["content"], entry["mood"], entry["mood_scale"], entry["tags"],
            entry["favorite"], entry["privacy_level"], entry["patient"]) == (
        "Slept badly, knee sore", "tired", 4, ["sleep", "knee"], True, "private", "Me")


def test_add_reads_piped_text(capsys, vault, monkeypatch):
    stdin(monkeypatch, "First line\nSecond line\n")
    assert run_cli(capsys, "add", "--tag", "piped").code == 0
    listed = json.loads(run_cli(capsys, "list", "--json").out)
    assert listed[0]["content"] == "First line\nSecond line"


def test_add_asks_on_a_terminal_after_unlocking(capsys, vault, monkeypatch):
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: True)
    stdin(monkeypatch, "Typed at the prompt\nsecond line\n", tty=True)
    result = run_cli(capsys, "add")
    assert result.code == 0, result.err
    assert "Finish with Ctrl-D" in result.err
    assert json.loads(run_cli(capsys, "list", "--json").out)[0]["content"].startswith("Typed")


@pytest.mark.parametrize(("args", "message"), [
    (["add", "x", "--mood-scale", "11"], "goes from 1 to 10"),
    (["add", "x", "--date", "2026-02-30"], "not a date"),
    (["add", "x", "--date", "2026-11-21T25:00"], "not a time"),
    (["add", "x", "--sleep", "30"], "not possible"),
    (["add", "x", "--patient", "Nobody"], "no patient called 'Nobody'"),
])
def test_bad_input_to_add_is_a_sentence_with_exit_1(capsys, vault, monkeypatch, args, message):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, *args)
    assert result.code == 1 and message in result.err and "Traceback" not in result.err


def test_bad_dates_are_reported_before_the_passphrase_is_needed(capsys, vault, monkeypatch):
    monkeypatch.delenv("LUNA_PASSPHRASE")
    result = run_cli(capsys, "add", "x", "--date", "tomorrowish")
    assert result.code == 1 and "not a date" in result.err


def test_a_read_only_key_cannot_add_and_exits_3(capsys, session, layout, monkeypatch):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", OTHER_PASSPHRASE)
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", "not allowed")
    assert result.code == 3 and "read-only key 'caregiver'" in result.err
    assert run_cli(capsys, "list").code == 0


def test_typed_text_is_given_back_when_saving_fails(capsys, vault, monkeypatch):
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: True)
    stdin(monkeypatch, "Words I do not want to lose\n", tty=True)

    def busy(*args, **kwargs):
        from luna_tui.errors import VaultBusy

        raise VaultBusy()

    monkeypatch.setattr("luna_tui.services.journal.Journal.create", busy)
    result = run_cli(capsys, "add", "--mood", "ok")
    assert result.code == 5
    assert "Words I do not want to lose" in result.err and "not saved" in result.err


def test_list_is_newest_first_and_search_highlights(capsys, vault, monkeypatch):
    stdin(monkeypatch, "", tty=True)
    for day, text in (("2026-11-01", "Walked to the river"), ("2026-11-02", "Quiet day"),
                      ("2026-11-03", "River again, cold water")):
        assert run_cli(capsys, "add", text, "--date", day).code == 0
    lines = run_cli(capsys, "list", "-n", "2").out.splitlines()
    # Each line starts with the entry's short id, for `luna edit ID`.
    assert lines[0].split()[1] == "2026-11-03" and lines[1].split()[1] == "2026-11-02"
    assert len(lines) == 2
    found = json.loads(run_cli(capsys, "search", "river", "--json").out)
    assert {f["entry_date"] for f in found} == {"2026-11-01", "2026-11-03"}
    assert all("snippet" in f and "score" in f for f in found)
    plain = run_cli(capsys, "search", "nothing-like-this")
    assert plain.code == 0 and "No entries match" in plain.out


HUGE = "99999999999999999999"  # beyond SQLite's 64-bit integers


@pytest.mark.parametrize("args", [
    ["list", "-n", HUGE], ["search", "knee", "-n", HUGE], ["records", "-n", HUGE],
    ["appts", "-n", HUGE], ["vitals", "-n", HUGE], ["list", "-n", "-1"],
    ["list", "-n", "lots"], ["backup", "prune", "--keep", HUGE],
    ["backup", "prune", "--keep", "0"], ["bench", "--entries", HUGE],
    ["bench", "--messages", "-1"], ["bench", "--repeat", "0"],
])
def test_every_number_an_option_takes_is_bounded_with_a_sentence(capsys, vault, args):
    result = run_cli(capsys, *args)
    assert result.code == 2, result.err
    assert "is not a whole number from" in result.err and "Traceback" not in result.err
    assert "went wrong inside Luna" not in result.err


def test_an_empty_journal_says_how_to_begin(capsys, vault):
    result = run_cli(capsys, "list")
    # It names the prompt, not text on the command line (which `ps` shows to others).
    assert "journal is empty" in result.out and "luna add (it asks" in result.out


def test_export_then_import_through_the_command_line(capsys, vault, tmp_path, monkeypatch):
    stdin(monkeypatch, "", tty=True)
    run_cli(capsys, "add", "Exported entry", "--tag", "moving")
    out = tmp_path / "all.json"
    exported = run_cli(capsys, "export", "--format", "json", "--out", str(out))
    assert exported.code == 0 and "NOT encrypted" in exported.err
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*.luna-tmp"))
    markdown = run_cli(capsys, "export", "--format", "md")
    assert "Exported entry" in markdown.out and "#moving" in markdown.out

    jrnl = tmp_path / "jrnl.json"
    jrnl.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "From jrnl.", "body": "", "date": "2020-02-02", "time": "10:00",
         "tags": ["@old"], "starred": True}]}))
    imported = run_cli(capsys, "import", str(jrnl))
    assert imported.code == 0 and "Imported 1 rows from a jrnl export" in imported.out
    assert run_cli(capsys, "import", str(tmp_path / "missing.json")).code == 1
    broken = tmp_path / "broken.json"
    broken.write_text(out.read_text()[:200])
    result = run_cli(capsys, "import", str(broken))
    assert result.code == 1 and "cut short" in result.err


def test_export_leaves_private_entries_out_unless_include_private(capsys, vault, tmp_path,
                                                                 monkeypatch):
    stdin(monkeypatch, "", tty=True)
    run_cli(capsys, "add", "Shared news", "--mood", "glad")
    run_cli(capsys, "add", "Private worry", "--mood", "anxious", "--private")
    markdown = run_cli(capsys, "export", "--format", "md")
    assert "Shared news" in markdown.out and "Private worry" not in markdown.out
    assert "1 private journal entry was left out" in markdown.err
    out = tmp_path / "all.json"
    run_cli(capsys, "export", "--format", "json", "--out", str(out))
    document = json.loads(out.read_text())
    assert document["private_entries"] == "left out"
    assert [r["content"] for r in document["tables"]["journal_entries"]] == ["Shared news"]
    assert "anxious" not in out.read_text()

    everything = run_cli(capsys, "export", "--format", "json", "--include-private",
                         "--out", str(out))
    assert everything.code == 0 and "left out" not in everything.err
    document = json.loads(out.read_text())
    assert document["private_entries"] == "included"
    assert sorted(r["content"] for r in document["tables"]["journal_entries"]) == [
        "Private worry", "Shared news"]
    markdown = run_cli(capsys, "export", "--format", "md", "--include-private")
    assert "Private worry" in markdown.out


def test_an_export_never_writes_through_a_planted_symlink_or_a_loose_temp_file(
        capsys, vault, tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("untouched")
    out = tmp_path / "journal.md"
    (tmp_path / ".journal.md.luna-tmp").symlink_to(elsewhere)
    assert run_cli(capsys, "export", "--format", "md", "--out", str(out)).code == 0
    assert elsewhere.read_text() == "untouched"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / ".journal.md.luna-tmp").exists()


def test_json_output_of_list_holds_every_documented_field(capsys, vault, monkeypatch, layout):
    stdin(monkeypatch, "", tty=True)
    run_cli(capsys, "add", "one")
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        entry = Journal(session).page(me).entries[0]
    listed = json.loads(run_cli(capsys, "list", "--json").out)[0]
    assert listed["id"] == entry.id and listed["entry_time"] == entry.entry_time


@pytest.mark.slow
def test_bench_builds_its_own_vaults_and_reports_every_measure(capsys, layout):
    """Functional only: the numbers are for `luna bench`, never for a test. Its app runs
    in a child process, on the machine's clock: so does the vault it builds (slow)."""
    result = run_cli(capsys, "bench", "--entries", "300", "--messages", "500", "--repeat", "1",
                     "--json")
    assert result.code == 0, result.err
    names = "\n".join(row["name"] for row in json.loads(result.out))
    for measure in ("bulk import of 300 entries", "newest page of 50", "search top 50",
                    "filtered by mood", "save one entry", "adherence over a year",
                    "`luna list` at 300 entries", "peak RSS", "medication details",
                    "past appointments", "vitals chart", "medications: number key",
                    "appointments: number key", "vitals: number key", "records: number key",
                    "backup create",
                    "backup verify", "backup + verify", "restore into a new folder",
                    "records: search 100", "attach a 1 MB file", "save a copy of it",
                    "attach a 50-page PDF", "`luna` spawn → unlock screen painted",
                    "bare Textual app spawn → painted", "start-up: `luna` ÷ bare Textual",
                    "passphrase, Enter → dashboard painted, minus the KDF",
                    "journal at 300: `2` → first page painted", "companion: 400 messages",
                    "companion: 4,000 messages", "agent: `luna list` at 300 entries",
                    "agent: `luna search` 300 ÷ 300 entries"):
        assert measure in names, measure
    assert not layout.exists()  # it never touches the real vault
