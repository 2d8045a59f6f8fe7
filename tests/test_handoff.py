"""The hand-off packet as written to disk: the PDF read back with pypdf, the Bundle
parsed by fhir.resources, the .ics by icalendar, the archive opened with its
passphrase; what goes in follows the choices, a private entry never does, the files
are 0600, an archive leaves no plaintext anywhere, and every hand-off is audited
without its passphrase. Then `luna handoff` from a shell."""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
from pathlib import Path

import pypdf
import pytest
from fhir.resources.R4B.bundle import Bundle
from handoff_data import CANARY, SHARED_TEXT, Filled, fill
from icalendar import Calendar

from helpers import run_cli
from luna_tui.errors import EXIT_USAGE
from luna_tui.services.handoff.archive import read_encrypted_zip
from luna_tui.services.handoff.choices import DEFAULT_INCLUDE, HANDOFF_KINDS, HandoffChoice
from luna_tui.services.handoff.packet import AUDIT_EVENT, write_packet
from luna_tui.services.handoff.preview import HandoffPreviews
from luna_tui.store.models.audit import AuditEvent


@pytest.fixture
def filled(session, clock, tmp_path) -> Filled:
    return fill(session, clock.today(), tmp_path)


def choice(filled: Filled, include=DEFAULT_INCLUDE, **options) -> HandoffChoice:
    return HandoffChoice(filled.patient_id, filled.start, filled.end, frozenset(include),
                         **options)


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def files(folder: Path) -> dict[str, bytes]:
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


def resources(document: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


def audit_rows(session) -> list[tuple[str, dict]]:
    return session.run(lambda: [
        (r.record_locator, json.loads(r.diff))
        for r in AuditEvent.select().where(AuditEvent.event_name == AUDIT_EVENT)])


# -- what goes in -------------------------------------------------------------------------------


def test_the_packet_holds_the_medications_and_nothing_of_a_private_entry(
        session, filled, tmp_path):
    everything = set(HANDOFF_KINDS)
    written = write_packet(session, choice(filled, everything,
                                           record_ids=frozenset({filled.chosen_record})),
                           tmp_path / "out")
    out = files(tmp_path / "out")
    assert set(out) == {".pdf", ".json", ".ics"}
    text = pdf_text(out[".pdf"])
    for expected in ("Zoë Adler", "penicillin", "Dr Rivera", "Metformin", "850 mg",
                     "dose changed from 500 mg to 850 mg", "Dr Okafor", "HbA1c result",
                     SHARED_TEXT, "not a medical device"):
        assert expected in text, expected
    for content in out.values():
        assert CANARY.encode() not in content
    assert CANARY not in text
    # The private entry's mood (1) and sleep (2) are no day of the charts: only the
    # shared entry's day is.
    assert written.preview.count("mood") == 1 and written.preview.count("sleep") == 1
    moods = [o for o in resources(json.loads(out[".json"]), "Observation")
             if "mood" in json.dumps(o).lower()]
    assert [o["valueQuantity"]["value"] for o in moods] == [7]


def test_the_bundle_is_a_fhir_document_with_the_upcoming_visits(session, filled, tmp_path):
    write_packet(session, choice(filled), tmp_path / "out")
    out = files(tmp_path / "out")
    assert SHARED_TEXT not in pdf_text(out[".pdf"])  # the journal goes only when asked
    assert "HbA1c result" not in pdf_text(out[".pdf"])  # a record only when chosen
    document = json.loads(out[".json"])
    Bundle.model_validate(document)  # raises if it is not a valid (R4B) Bundle
    assert document["type"] == "document"
    assert document["entry"][0]["resource"]["resourceType"] == "Composition"
    visits = [json.dumps(a) for a in resources(document, "Appointment")]
    assert len(visits) == 1 and "Dr Okafor" in visits[0]  # upcoming only, not Dr Past
    events = Calendar.from_ical(files(tmp_path / "out")[".ics"]).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Specialist: Dr Okafor"]


def test_a_kind_left_out_is_in_no_file(session, filled, tmp_path):
    written = write_packet(session, choice(filled, {"meds"}), tmp_path / "out")
    out = files(tmp_path / "out")
    assert set(out) == {".pdf", ".json"}  # no appointments, no calendar
    text = pdf_text(out[".pdf"])
    assert "Metformin" in text
    assert "Heart rate" not in text and "Dr Okafor" not in text and "Mood" not in text
    document = json.loads(out[".json"])
    assert not resources(document, "Observation") and not resources(document, "Appointment")
    assert not resources(document, "MedicationAdministration")
    assert written.preview.counts == (("meds", 1),)


def test_a_record_goes_only_when_chosen_and_its_file_only_when_asked(session, filled,
                                                                      tmp_path):
    chosen = frozenset({filled.chosen_record})
    write_packet(session, choice(filled, {"records"}, record_ids=chosen), tmp_path / "a")
    out = files(tmp_path / "a")
    assert "HbA1c result" in pdf_text(out[".pdf"])
    assert "Knee MRI" not in pdf_text(out[".pdf"]) and b"Knee MRI" not in out[".json"]
    [reference] = resources(json.loads(out[".json"]), "DocumentReference")
    assert "data" not in json.dumps(reference)
    write_packet(session, choice(filled, {"records"}, record_ids=chosen, attachments=True),
                 tmp_path / "b")
    [reference] = resources(json.loads(files(tmp_path / "b")[".json"]), "DocumentReference")
    assert '"data"' in json.dumps(reference)


def test_the_preview_counts_what_the_files_hold_and_writes_nothing(session, filled,
                                                                   tmp_path):
    preview = HandoffPreviews(session).preview(
        choice(filled, {*DEFAULT_INCLUDE, "records", "journal"},
               record_ids=frozenset({filled.chosen_record})))
    assert dict(preview.counts) == {"meds": 1, "doses": 2, "vitals": 8, "mood": 1,
                                    "sleep": 1, "appointments": 1, "records": 1,
                                    "journal": 1, "insights": 1}
    assert "  Medication changes on the insights page: 1" in preview.lines()
    assert [r.title for r in preview.records] == ["HbA1c result"]
    assert preview.files[0] == (f"handoff-zoe-adler-{filled.start.isoformat()}-"
                                f"{filled.end.isoformat()}.pdf")
    assert any("NOT encrypted" in line for line in preview.lines())
    assert not audit_rows(session)


# -- on disk -----------------------------------------------------------------------------------


def test_files_are_0600_in_a_new_folder_made_0700(session, filled, tmp_path):
    folder = tmp_path / "new" / "handoff"
    written = write_packet(session, choice(filled), folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == sorted(written.files)
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert any("NOT encrypted" in sentence for sentence in written.sentences())


def test_an_archive_is_the_only_file_and_no_plaintext_is_left_anywhere(
        session, filled, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "already-here.txt").write_text("the person's own file")
    before = {"out": sorted(os.listdir(folder)), "tmp": sorted(os.listdir(temp))}
    written = write_packet(session, choice(filled, archive=True), folder)
    [archive] = written.files
    assert archive.endswith(".zip")
    assert sorted(os.listdir(folder)) == sorted([*before["out"], archive])
    assert sorted(os.listdir(temp)) == before["tmp"]
    assert stat.S_IMODE((folder / archive).stat().st_mode) == 0o600
    data = (folder / archive).read_bytes()
    assert b"Metformin" not in data
    members = read_encrypted_zip(data, written.passphrase)
    stem = archive.removesuffix(".zip")
    assert set(members) == {f"{stem}.pdf", f"{stem}.json", f"{stem}.ics"}
    assert "Metformin" in pdf_text(members[f"{stem}.pdf"])
    assert any("7-Zip" in s and "NOT in Windows Explorer" in s for s in written.sentences())


def test_every_handoff_is_audited_without_its_passphrase(session, filled, tmp_path):
    written = write_packet(session, choice(filled, {"meds", "records"}, archive=True,
                                           record_ids=frozenset({filled.chosen_record})),
                           tmp_path / "out")
    [(patient, diff)] = audit_rows(session)
    assert patient == filled.patient_id
    assert diff["included"] == [None, {"meds": 1, "records": 1}]
    assert diff["records"] == [None, [filled.chosen_record]]
    assert diff["files"] == [None, list(written.files)]
    assert diff["archive"] == [None, True]
    assert written.passphrase not in json.dumps(diff)
    everything = session.run(lambda: [r.diff or "" for r in AuditEvent.select()])
    assert not any(written.passphrase in row for row in everything)


# -- the shell -----------------------------------------------------------------------------------


@pytest.fixture
def cli_vault(session, clock, tmp_path, monkeypatch):
    from conftest import PASSPHRASE

    filled = fill(session, clock.today(), tmp_path)
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return filled


def test_luna_handoff_shows_the_preview_then_writes_with_yes(capsys, cli_vault, tmp_path):
    out = tmp_path / "packet"
    result = run_cli(capsys, "handoff", "--from", "30 days ago", "--to", "today",
                     "--record", cli_vault.chosen_record[:8], "--out", str(out), "--yes")
    assert result.code == 0, result.err
    assert "Hand-off for Zoë Adler" in result.out
    assert "  Medications: 1" in result.out and "record: HbA1c result" in result.out
    assert "  Medication changes on the insights page: 1" in result.out
    assert "Weighing the medication changes for the insights page (1 change)" in result.err
    assert "NOT encrypted" in result.err
    written = sorted(p.name for p in out.iterdir())
    assert [Path(name).suffix for name in written] == [".ics", ".json", ".pdf"]
    assert all(stat.S_IMODE((out / n).stat().st_mode) == 0o600 for n in written)
    assert CANARY not in result.out


def test_luna_handoff_without_yes_and_no_terminal_writes_nothing(capsys, cli_vault,
                                                                 tmp_path):
    result = run_cli(capsys, "handoff", "--from", "yesterday", "--to", "today",
                     "--out", str(tmp_path / "packet"))
    assert result.code == EXIT_USAGE and "--yes" in result.err
    assert not (tmp_path / "packet").exists()


def test_luna_handoff_archive_prints_its_passphrase_once(capsys, cli_vault, tmp_path):
    out = tmp_path / "packet"
    result = run_cli(capsys, "handoff", "--from", "30 days ago", "--to", "today",
                     "--include", "meds,vitals", "--out", str(out), "--archive", "--yes")
    assert result.code == 0, result.err
    [archive] = list(out.iterdir())
    passphrase = result.err.split("write it down):")[1].split()[0]
    assert result.err.count(passphrase) == 1
    assert "NOT in Windows Explorer" in result.err
    assert len(read_encrypted_zip(archive.read_bytes(), passphrase)) == 2  # no .ics


@pytest.mark.parametrize(("args", "said"), [
    (["--include", "meds,x-rays"], "'x-rays' is not something a hand-off can include"),
    (["--include", "records"], "--record ID"),
    (["--include", "meds,insights"], "include meds and at least one of them"),
    (["--from", "today", "--to", "last year"], "not a date"),
    (["--from", "today", "--to", "yesterday"], "is after the last"),
])
def test_luna_handoff_refuses_what_it_cannot_do_before_asking_the_passphrase(
        capsys, tmp_path, args, said, monkeypatch):
    monkeypatch.delenv("LUNA_PASSPHRASE", raising=False)  # never asked for
    words = ["handoff", "--from", "yesterday", "--to", "today", "--out", str(tmp_path)]
    result = run_cli(capsys, *words, *args, "--yes")
    assert result.code != 0 and said in result.err


def test_the_help_names_every_kind_a_handoff_can_include(capsys):
    result = run_cli(capsys, "handoff", "--help")
    assert all(kind in " ".join(result.out.split()) for kind in HANDOFF_KINDS)
