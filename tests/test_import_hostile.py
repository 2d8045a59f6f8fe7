"""Import files made carelessly or with intent: each is refused in one sentence naming the
entry and the field, with exit 1 (the file's fault, never "the vault is damaged"), and
the vault is left exactly as it was. Importing the same file twice adds nothing, and a
Luna export merges its owner into a vault that has data instead of making a second "Me".
"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.errors import ImportRejected
from luna_tui.services.exporting import Exporter
from luna_tui.services.import_file import read_import_file
from luna_tui.services.importing import Importer, check_document
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.registry import DATA_MODELS

STAMP = "2026-11-01T10:00:00.000Z"


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A vault with one entry, closed, and the passphrase in the environment."""
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Already here", entry_date="2026-11-20"))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def contents(layout) -> dict[str, list]:
    """Every data table, as a comparable value."""
    with VaultSession.open(layout, PASSPHRASE) as session:
        def dump():
            return {m._meta.table_name: sorted(json.dumps(r, sort_keys=True, default=str)
                                               for r in m.select().dicts())
                    for m in DATA_MODELS}
        return session.run(dump)


def an_export(layout) -> dict:
    """This vault's own export, as a document to spoil."""
    with VaultSession.open(layout, PASSPHRASE) as session:
        out = io.StringIO()
        Exporter(session).write_json(out)
    return json.loads(out.getvalue())


def refused(capsys, layout, path: Path, *sentence: str) -> str:
    """`luna import path` exits 1 with one sentence holding every part of `sentence`,
    and the vault is as it was; returns what was said."""
    before = contents(layout)
    result = run_cli(capsys, "import", str(path))
    assert result.code == 1, result.err
    assert result.err.startswith("luna: ") and result.err.count("\n") == 1, result.err
    for part in sentence:
        assert part in result.err, result.err
    for wrong in ("damaged", "Traceback", "went wrong inside Luna"):
        assert wrong not in result.err
    assert contents(layout) == before
    return result.err


def spoiled(layout, tmp_path, table: str, **changes) -> Path:
    document = an_export(layout)
    document["tables"][table][0].update(changes)
    path = tmp_path / "spoiled.json"
    path.write_text(json.dumps(document))
    return path


# -- files that are not what they claim -------------------------------------------------------

def test_json_nested_100000_deep_is_refused_without_recursing(capsys, vault, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"entries": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(capsys, vault, deep, "nests 100,001 levels deep", "more than 32")


def test_brackets_inside_text_are_not_nesting():
    from luna_tui.services.import_file import nesting_depth

    assert nesting_depth('{"title": "[[[[{{{{ \\"]]]]"}') == 1
    assert nesting_depth("[" * 100_000) == 100_000  # unclosed still counts: never parsed


def test_a_device_is_refused_before_a_byte_is_read(capsys, vault):
    refused(capsys, vault, Path("/dev/zero"), "/dev/zero is not a regular file")


def test_a_pipe_with_no_writer_does_not_hang_the_import(capsys, vault, tmp_path):
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    done = threading.Event()
    result = {}

    def run():
        try:
            read_import_file(fifo)
        except ImportRejected as error:
            result["error"] = str(error)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10), "reading a FIFO blocked"
    assert "not a regular file" in result["error"]


def test_a_file_above_the_size_cap_is_refused_unread(capsys, vault, tmp_path, monkeypatch):
    monkeypatch.setattr("luna_tui.services.import_file.MAX_IMPORT_BYTES", 1024)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"entries": [], "padding": "x" * 2000}))
    refused(capsys, vault, big, "larger than 1,024 bytes", "luna backup")


@pytest.mark.parametrize(("content", "said"), [
    (b'{"entries": [], "n": NaN}', "NaN, which is not a JSON number"),
    (b'{"entries": [], "n": 1' + b"0" * 5000 + b"}", "a value Luna can't read"),
    (b'{"entries": ["\xff\xfe"]}', "is not UTF-8 text"),
    (b'{"entries": [', "cut short"),
    (b'{"entries": [{"date": "2021-01-01", "body": "a", "body": "b"}]}',
     "names 'body' twice in one object"),
    (b'{"format": "jrnl", "entries": [], "format": "luna-export"}',
     "names 'format' twice in one object"),
])
def test_what_is_not_plain_json_is_refused(capsys, vault, tmp_path, content, said):
    path = tmp_path / "odd.json"
    path.write_bytes(content)
    refused(capsys, vault, path, said)


# -- a Luna export with a bad field ---------------------------------------------------------

@pytest.mark.parametrize(("changes", "said"), [
    ({"entry_date": "not-a-date"},
     "entry 1 (journal_entries): entry_date 'not-a-date' is not a date YYYY-MM-DD."),
    ({"entry_time": "99:99"},
     "entry 1 (journal_entries): entry_time '99:99' is not a time HH:MM."),
    ({"patient_id": "nobody"},
     "entry 1 (journal_entries): patient_id 'nobody' names a row of patients that is "
     "neither in the file nor in this vault."),
    ({"id": {"an": "object"}}, "entry 1 (journal_entries): id is an object, not an id."),
    ({"tags": "a,b"}, "entry 1 (journal_entries): tags is text, not a list."),
    ({"mood_scale": 11}, "entry 1 (journal_entries): mood_scale 11 is not between 1 and 10."),
    ({"content": "x" * 200_001}, "content is 200,001 characters long; at most 200,000"),
    ({"privacy_level": "public"}, "privacy_level 'public' is not one of: private, shared."),
    ({"created_at": None}, "entry 1 (journal_entries): created_at is null, and it can't be."),
    ({"sleep_hours": 10**399},
     "entry 1 (journal_entries): sleep_hours is a 400-digit number, not between 0 and 24."),
    ({"title": "fine\ud800"},
     "entry 1 (journal_entries): title holds \\ud800 (character 5), half of a character"),
    ({"tags": ["ok", "\udfff"]}, "entry 1 (journal_entries): tags item 2 holds \\udfff"),
    ({"id": "id-\udc80"}, "entry 1 (journal_entries): id holds \\udc80 (character 4)"),
    # Digits of other scripts are digits to Python's \\d and int(), not to the rest of Luna
    # (the calendar export read this time with time.fromisoformat and stopped).
    ({"entry_time": "1\u0663:00"},
     "entry 1 (journal_entries): entry_time '1\\u0663:00' is not a time HH:MM."),
    # A sentence names a number of thousands of digits, it doesn't spell it out.
    ({"mood_scale": 10**4000},
     "entry 1 (journal_entries): mood_scale a 4,001-digit number is not between 1 and 10."),
    ({"favorite": -(10**30)}, "entry 1 (journal_entries): favorite a 31-digit number is not"),
], ids=["date", "time", "reference", "object-id", "tags-text", "scale", "size", "choice",
        "null", "huge-number", "surrogate-text", "surrogate-tag", "surrogate-id",
        "arabic-indic-digit", "long-whole-number", "long-flag"])
def test_a_bad_field_is_named_with_its_entry_and_nothing_is_imported(capsys, vault, tmp_path,
                                                                      changes, said):
    refused(capsys, vault, spoiled(vault, tmp_path, "journal_entries", **changes), said)


def test_a_bad_field_deep_in_the_file_is_found_before_anything_is_written(vault, tmp_path):
    """The check is of the whole file: a bad last row stops every row before it."""
    document = an_export(vault)
    rows = document["tables"]["journal_entries"]
    rows += [dict(rows[0], id=f"new-{n}", content=f"new {n}") for n in range(50)]
    rows[-1]["entry_time"] = "25:00"
    with pytest.raises(ImportRejected, match=r"entry 51 \(journal_entries\): entry_time"):
        check_document(document)
    with VaultSession.open(vault, PASSPHRASE) as session:
        before = Journal(session).count(Settings(session).current_patient_id())
        with pytest.raises(ImportRejected):
            Importer(session).import_document(document)
        assert Journal(session).count(Settings(session).current_patient_id()) == before


@pytest.mark.parametrize(("table", "changes", "said"), [
    ("journal_entries", {"content": "hi \x1b]2;PWNED\x07 there"},
     "entry 1 (journal_entries): content holds a control character (\\x1b)"),
    ("journal_entries", {"tags": ["knee", "a\x9bb"]},
     "entry 1 (journal_entries): tags item 2 holds a control character (\\x9b)"),
    ("journal_entries", {"title": "over\rwritten"},
     "entry 1 (journal_entries): title holds a control character (\\r)"),
    ("patients", {"name": "Me\x07"}, "row 1 (patients): name holds a control character (\\x07)"),
], ids=["esc", "c1-in-a-tag", "lone-cr", "bel-in-a-name"])
def test_text_holding_a_control_character_is_refused_shown_escaped(capsys, vault, tmp_path,
                                                                   table, changes, said):
    """What a form would refuse the file may not bring in: the terminal of whoever edits
    it later would obey it. The sentence shows the character escaped, never raw."""
    err = refused(capsys, vault, spoiled(vault, tmp_path, table, **changes), said)
    assert not any(char in err for char in "\x1b\x07\x9b\r")


def test_a_jrnl_entry_with_a_control_character_is_named(capsys, vault, tmp_path):
    path = tmp_path / "jrnl.json"
    path.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "Fine.", "body": "a\tb\r\nc", "date": "2021-03-04", "time": "21:15",
         "tags": []},
        {"title": "Not fine.", "body": "\x1b[2J", "date": "2021-03-04", "time": "21:16",
         "tags": []}]}))
    refused(capsys, vault, path, "entry 2 (jrnl): body holds a control character (\\x1b)")


def test_a_jrnl_entry_with_a_bad_date_is_named(capsys, vault, tmp_path):
    path = tmp_path / "jrnl.json"
    path.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "Fine.", "body": "", "date": "2021-03-04", "time": "21:15", "tags": []},
        {"title": "Not fine.", "body": "", "date": "04/03/2021", "time": "21:15",
         "tags": []}]}))
    refused(capsys, vault, path, "entry 2 (jrnl): date '04/03/2021' is not a date YYYY-MM-DD.")


def test_a_jrnl_entry_with_a_lone_surrogate_is_named(capsys, vault, tmp_path):
    """JSON may spell half of a UTF-16 pair (\\ud800) on its own; it is no character, and
    UTF-8 can't store it."""
    path = tmp_path / "jrnl.json"
    path.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "Fine.", "body": "", "date": "2021-03-04", "time": "21:15", "tags": []},
        {"title": "Not", "body": "quite \ud83d fine", "date": "2021-03-05", "time": "21:15",
         "tags": []}]}))
    refused(capsys, vault, path, "entry 2 (jrnl): body holds \\ud83d (character 7)")


def test_an_export_time_that_is_not_a_timestamp_is_left_out_of_the_audit_row(
        capsys, vault, tmp_path):
    """exported_at grants nothing and is only recorded; one that can't be written (a lone
    surrogate) or is not a time is left out, and the rows still come in."""
    document = an_export(vault)
    document["exported_at"] = "2026-11-01T10:00:00.000Z\ud800"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    result = run_cli(capsys, "import", str(path))
    assert result.code == 0, result.err
    with VaultSession.open(vault, PASSPHRASE) as session:
        diff = session.run(lambda: json.loads(AuditEvent.select().where(
            AuditEvent.event_name == "vault.import").get().diff))
    assert diff["exported_at"] == [None, None]


# -- idempotent, and one owner ----------------------------------------------------------------

def test_importing_the_same_jrnl_export_twice_adds_nothing(capsys, vault, tmp_path):
    path = tmp_path / "jrnl.json"
    path.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "Long day.", "body": "Knee ached.", "date": "2021-03-04", "time": "21:15",
         "tags": ["@work"], "starred": False},
        {"title": "Slept nine hours!", "body": "", "date": "2021-03-05", "time": "07:40",
         "tags": [], "starred": True}]}))
    first = run_cli(capsys, "import", str(path))
    assert first.code == 0 and "Imported 2 rows" in first.out
    again = run_cli(capsys, "import", str(path))
    assert again.code == 0, again.err
    assert "Imported 0 rows" in again.out and "2 were already in this vault" in again.out
    listed = json.loads(run_cli(capsys, "list", "--json").out)
    assert sorted(e["content"] for e in listed) == [
        "Already here", "Knee ached.", "Slept nine hours!"]


def test_a_luna_export_merges_its_owner_into_a_vault_that_has_data(capsys, vault, tmp_path,
                                                                    layout, other_vault):
    """Another vault's export (its owner "Me" with an allergy and an entry) comes into
    this vault, which has data: one "Me" afterwards, owning both entries."""
    result = run_cli(capsys, "import", str(other_vault))
    assert result.code == 0, result.err
    with VaultSession.open(layout, PASSPHRASE) as session:
        patients = Patients(session).list()
        assert [p.name for p in patients] == ["Me"]
        me = patients[0]
        assert me.allergies == "penicillin"  # filled in: this vault had none
        assert Journal(session).count(me.id) == 2
    listed = run_cli(capsys, "list", "--patient", "Me", "--json")
    assert listed.code == 0, listed.err
    assert {e["content"] for e in json.loads(listed.out)} == {"Already here",
                                                              "From the other vault"}
    before = contents(layout)
    again = run_cli(capsys, "import", str(other_vault))
    assert again.code == 0 and "Imported 0 rows" in again.out
    assert contents(layout) == before


@pytest.fixture
def other_vault(tmp_path, clock, layout):
    """The export of a second vault whose owner has an entry and an allergy."""
    from conftest import OTHER_PASSPHRASE, cheap_kdf
    from luna_tui.home import VaultLayout
    from luna_tui.services.vault_setup import create_vault

    other = create_vault(VaultLayout(tmp_path / "other"), OTHER_PASSPHRASE, kdf=cheap_kdf(),
                         clock=clock).session
    me = Settings(other).current_patient_id()
    Patients(other).update(me, allergies="penicillin")
    Journal(other).create(me, EntryDraft(content="From the other vault",
                                         entry_date="2026-11-21"))
    out = io.StringIO()
    Exporter(other).write_json(out)
    other.close()
    path = tmp_path / "other-export.json"
    path.write_text(out.getvalue())
    return path


def test_an_appointment_dated_where_no_calendar_goes_is_refused(capsys, vault, tmp_path):
    """The app refuses 9999-12-31 as a typo; an import may not bring it in either (the
    calendar export could not hold it)."""
    with VaultSession.open(vault, PASSPHRASE) as session:
        from luna_tui.services.appointments import Appointments

        Appointments(session).create(Settings(session).current_patient_id(), "2026-12-01",
                                     provider_name="Dr Rivera")
    refused(capsys, vault, spoiled(vault, tmp_path, "appointments",
                                   appointment_date="9999-12-31"),
            "appointment_date '9999-12-31' is not between 1900 and 2199")


@pytest.mark.parametrize("mime_type", ["text/[/b]", "text", "/plain", "text/", "text/plain x",
                                       "text/plain; charset=utf-8", "text/plain\x1b"])
def test_an_attachments_type_must_look_like_a_mime_type(mime_type):
    """It is shown in the app's files table and chooses how a file is read: a MIME type
    (type/subtype) it must be."""
    from luna_tui.services.import_schema import check_rows, table_columns
    from luna_tui.store.models.records import Attachment

    row = {"id": "8c1b4a8e-2f7e-4f0e-9a43-0d5c2b7f1e11", "record_id": "r-1",
           "patient_id": "p-1", "file_name": "scan.txt", "size": 3, "sha256": "0" * 64,
           "created_at": STAMP, "updated_at": STAMP, "content_base64": "YWJj"}
    columns = table_columns(Attachment)
    assert check_rows("attachments", [dict(row, mime_type="image/svg+xml")], columns)
    with pytest.raises(ImportRejected, match=r"row 1 \(attachments\): mime_type .* is not a "
                                             r"MIME type \(type/subtype\)\."):
        check_rows("attachments", [dict(row, mime_type=mime_type)], columns)
