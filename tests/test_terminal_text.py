"""Text from the vault never drives the terminal: a title, a file name, a key label or an
entry holding ESC, BEL, NUL or a direction override is printed with those characters
shown escaped, by every command that prints it. (`--json` escapes them as JSON does.)
The services and the importer refuse control characters now (test_control_characters.py),
so the vault below holds them as a vault made before that rule could."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from ai_server import FakeModel

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import run_cli
from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments
from luna_tui.services.backups.folder import Backups
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals
from luna_tui.terminal_text import json_text, terminal_text

CLEAR = "\x1b[2J"  # clears the screen
# Anything a terminal would act on: C0 (but tab and newline), DEL, C1, direction marks.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What the vault below holds and Luna itself never prints (on a terminal, Luna's own
# bold and colours are escapes too).
FROM_THE_VAULT = re.compile("\x1b\\[2J|\x1b\\]|\x1b\\[31m|[\x00\x07\x9b\u202e]")


def test_control_characters_are_shown_escaped():
    assert terminal_text(f"a{CLEAR}b\x07c\x00d") == "a\\x1b[2Jb\\x07c\\x00d"
    assert terminal_text("x\u202ey\x9bz\x7f") == "x\\u202ey\\x9bz\\x7f"
    assert terminal_text("one\ntwo\tthree\r") == "one\\ntwo\\tthree\\r"
    assert terminal_text("one\ntwo\tthree\r", multiline=True) == "one\ntwo\tthree\\r"
    assert terminal_text("café ★ 日本 [red]x[/red]") == "café ★ 日本 [red]x[/red]"
    assert json.loads(json_text(json.dumps("a\x9bb\u202e", ensure_ascii=False))) == "a\x9bb\u202e"
    assert not CONTROL.search(json_text(json.dumps("a\x9bb\u202e\x1b", ensure_ascii=False)))


@pytest.fixture
def model():
    server = FakeModel().start()
    server.reply = ["Your entry said ", f"{CLEAR}\x07", " loudly."]
    yield server
    server.stop()


def stored_past_the_services(session, row, **values) -> None:
    """Give `row` these values as an older Luna (or an import it allowed) stored them."""
    model = type(row)
    session.run(lambda: model.update(**values).where(model.id == row.id).execute())


@pytest.fixture
def vault(session, layout, tmp_path, monkeypatch, model):
    """Every kind of vault text, each holding terminal controls."""
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.store.models.appointments import Appointment
    from luna_tui.store.models.journal import JournalEntry
    from luna_tui.store.models.medications import Medication
    from luna_tui.store.models.records import Attachment, MedicalRecord
    from luna_tui.store.models.vitals import Vital

    settings = Settings(session)
    settings.set("ai.base_url", model.base_url)
    me = settings.current_patient_id()
    record = Records(session).create(me, title="Blood test", record_type="lab", tags="iron")
    stored_past_the_services(session, MedicalRecord(id=record.id), title=f"Blood{CLEAR} test",
                             description="see\x1b]0;owned\x07 notes")
    scan = tmp_path / "scan.txt"
    scan.write_text("ferritin low")
    attached = Attachments(session).add(record.id, scan)
    stored_past_the_services(session, Attachment(id=attached.id),
                             file_name=f"scan{CLEAR}.txt")
    medication = Medications(session).create(me, "Metformin", "500 mg", "twice daily")
    stored_past_the_services(session, Medication(id=medication.id), name=f"Met{CLEAR}formin")
    visit = Appointments(session).create(me, "2099-01-10", location="Room\u202e 12")
    stored_past_the_services(session, Appointment(id=visit.id),
                             provider_name=f"Dr{CLEAR} Rivera")
    reading = Vitals(session).record(me, "weight", 72.5)
    stored_past_the_services(session, Vital(id=reading.id), notes=f"after{CLEAR} lunch")
    entry = Journal(session).create(me, EntryDraft(content="ring", tags=["knee"],
                                                   entry_date="2026-11-20", entry_time="08:00"))
    stored_past_the_services(session, JournalEntry(id=entry.id), title=f"Bad\x00day{CLEAR}",
                             content="ring\x07ring\nline two \x1b[31mred")
    KeyAdmin(session).add_key(f"care{CLEAR}giver", read_only=True, passphrase=OTHER_PASSPHRASE)
    backup = Backups(session).create()
    shutil.copy(backup.path, backup.path.with_name(f"luna-20261122-093000{CLEAR}.lunabak"))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


@pytest.mark.parametrize("args", [
    ["list"], ["search", "ring"], ["records"], ["records", "--search", "ferritin"],
    ["meds"], ["appts"], ["vitals"], ["keys", "list"], ["backup", "list"],
    ["ask", "What did I write?"],
    ["ask", "--no-stream", "What did I write?"], ["keys", "revoke", "nobody"],
], ids=lambda a: " ".join(a))
@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_vault_text_reaches_the_terminal_as_text(capsys, vault, args, monkeypatch, terminal):
    if terminal:  # as a person sees it: Luna's own colours, the vault's text escaped
        monkeypatch.setattr("sys.stdout.isatty", lambda: True)
        monkeypatch.setenv("FORCE_COLOR", "1")
    result = run_cli(capsys, *args)
    shown = result.out + result.err
    assert not (FROM_THE_VAULT if terminal else CONTROL).search(shown), repr(shown)
    assert "\\x1b" in shown or "\\u202e" in shown, shown


def test_an_export_on_a_terminal_is_shown_escaped_and_to_a_pipe_is_exact(capsys, vault,
                                                                          monkeypatch):
    piped = run_cli(capsys, "export", "--format", "md")
    assert f"Bad\x00day{CLEAR}" in piped.out  # a file gets exactly what the vault holds
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    shown = run_cli(capsys, "export", "--format", "md")
    assert "Bad\\x00day\\x1b[2J" in shown.out and "ring\\x07ring\nline two" in shown.out
    assert not CONTROL.search(shown.out)


def test_records_show_escapes_the_title_file_name_and_notes(capsys, vault):
    listed = json.loads(run_cli(capsys, "records", "--json").out)
    result = run_cli(capsys, "records", "show", listed[0]["id"][:8])
    assert result.code == 0, result.err
    assert not CONTROL.search(result.out), repr(result.out)
    assert "Blood\\x1b[2J test" in result.out and "scan\\x1b[2J.txt" in result.out
    assert "see\\x1b]0;owned\\x07 notes" in result.out


def test_an_entry_with_nul_esc_and_bel_is_listed_escaped(capsys, vault):
    result = run_cli(capsys, "list")
    assert "Bad\\x00day\\x1b[2J" in result.out
    assert not CONTROL.search(result.out)


@pytest.mark.parametrize("args", [["list", "--json"], ["records", "--json"],
                                  ["meds", "--json"], ["appts", "--json"]],
                         ids=lambda a: " ".join(a))
def test_json_output_escapes_them_as_json_does_and_keeps_them(capsys, vault, args):
    result = run_cli(capsys, *args)
    assert not CONTROL.search(result.out), repr(result.out)
    values = " ".join(strings(json.loads(result.out)))
    assert CLEAR in values or "\u202e" in values  # the value itself is whole


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def test_doctor_details_are_shown_escaped(capsys, vault, monkeypatch):
    from luna_tui.services.doctor import Finding

    monkeypatch.setattr("luna_tui.services.doctor.run_checks",
                        lambda session: [Finding("attachments", False,
                                                 f"1 file belongs to no record: x{CLEAR}")])
    result = run_cli(capsys, "doctor")
    assert result.code == 4 and "x\\x1b[2J" in result.out
    assert not CONTROL.search(result.out)
