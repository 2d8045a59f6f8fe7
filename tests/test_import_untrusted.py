"""Files made to hurt an importer: XML that expands or reaches out, archives that climb
out of themselves, lie about their sizes, hide their content or nest, files too large
or not what their names say. Each is refused in one sentence with exit 1, and the vault
is left exactly as it was (a file cut short after good records imports none of them).
"""

from __future__ import annotations

import base64
import json
import struct
import zipfile
from pathlib import Path

import pytest
from import_samples import APPLE_XML, DAYLIO_JSON, apple_zip, daylio_backup

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vitals import Vitals
from luna_tui.store.models.registry import DATA_MODELS


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A closed vault with an entry and a reading, and the passphrase in the environment."""
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="Already here", entry_date="2026-11-20"))
    Vitals(session).record(me, "weight", 70, measured_at="2026-11-20T08:00")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def contents(layout) -> dict[str, list]:
    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: {
            m._meta.table_name: sorted(json.dumps(r, sort_keys=True, default=str)
                                       for r in m.select().dicts()) for m in DATA_MODELS})


def refused(capsys, layout, path: Path, *sentence: str, options: tuple[str, ...] = ()) -> str:
    """`luna import path` exits 1 with one sentence holding each part of `sentence`, and
    the vault is as it was."""
    before = contents(layout)
    result = run_cli(capsys, "import", str(path), *options)
    assert result.code == 1, result.err
    assert result.err.startswith("luna: ") and result.err.count("\n") == 1, result.err
    for part in sentence:
        assert part in result.err, result.err
    assert "Traceback" not in result.err and "inside Luna" not in result.err
    assert contents(layout) == before
    return result.err


# -- XML -------------------------------------------------------------------------------

RECORD = ('<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" '
          'unit="count/min" startDate="2024-03-18 08:04:05 +0000" '
          'endDate="2024-03-18 08:04:05 +0000" value="{}"/>')


def test_a_billion_laughs_is_refused_before_it_expands(vault, capsys, tmp_path):
    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n' + "\n".join(laughs)
                    + "\n]>\n<HealthData>" + RECORD.format("&lol9;") + "</HealthData>")
    refused(capsys, vault, path, "declares XML entities", "billion-laughs")


def test_an_external_entity_is_never_fetched(vault, capsys, tmp_path):
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n'
                    '<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
                    "<HealthData>" + RECORD.format("&secret;") + "</HealthData>")
    refused(capsys, vault, path, "Luna refuses")


def test_xml_cut_short_after_good_records_imports_none_of_them(vault, capsys, tmp_path):
    path = tmp_path / "export.xml"
    whole = APPLE_XML.read_text()
    path.write_text(whole[:whole.index("<Correlation")])  # every Record, then nothing
    refused(capsys, vault, path, "export.xml", "cut short")


def test_xml_that_is_not_an_apple_export_is_refused(vault, capsys, tmp_path):
    path = tmp_path / "other.xml"
    path.write_text('<?xml version="1.0"?><ClinicalDocument><id/></ClinicalDocument>')
    refused(capsys, vault, path, "not an Apple Health export", "<ClinicalDocument>")


def test_a_tag_of_more_than_the_bound_is_refused(vault, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("luna_tui.services.xml_stream.MAX_TAG_BYTES", 4096)
    monkeypatch.setattr("luna_tui.services.xml_stream.CHUNK", 1024)
    path = tmp_path / "export.xml"
    path.write_text("<HealthData>" + RECORD.replace('sourceName="Watch"',
                                                    f'sourceName="{"W" * 10_000}"')
                    .format(60) + "</HealthData>")
    refused(capsys, vault, path, "a tag or text of more than")


def test_an_element_holding_too_many_others_is_refused(vault, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("luna_tui.services.xml_stream.MAX_DESCENDANTS", 50)
    path = tmp_path / "export.xml"
    path.write_text('<HealthData><Correlation type="x">' + '<MetadataEntry/>' * 51
                    + "</Correlation></HealthData>")
    refused(capsys, vault, path, "<Correlation> element holds more than 50 others")


# -- zip archives ----------------------------------------------------------------------


def zipped(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def patched(path: Path, *, flags: int | None = None, size: int | None = None) -> Path:
    """The archive's only member's general-purpose flags or uncompressed size rewritten,
    in its local header and its central directory entry alike: what a forger does."""
    data = bytearray(path.read_bytes())
    local, central = 0, data.rindex(b"PK\x01\x02")
    if flags is not None:
        struct.pack_into("<H", data, local + 6, flags)
        struct.pack_into("<H", data, central + 8, flags)
    if size is not None:
        struct.pack_into("<L", data, local + 22, size)
        struct.pack_into("<L", data, central + 24, size)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("name", ["../../.bashrc", "/etc/cron.d/x", "C:/Windows/x.xml",
                                  "apple_health_export\\..\\..\\x"])
def test_a_name_climbing_out_of_the_archive_is_refused(vault, capsys, tmp_path, name):
    path = zipped(tmp_path / "export.zip", {
        "apple_health_export/export.xml": APPLE_XML.read_bytes(), name: b"#!/bin/sh\n"})
    refused(capsys, vault, path, "a path that points outside the archive")


def test_a_zip_bomb_whose_headers_lie_is_stopped_at_the_declared_size(vault, capsys, tmp_path):
    # 20 MB of XML whitespace deflates to ~20 KB; the headers say 1,000 bytes.
    xml = b"<HealthData>" + b" " * 20_000_000 + b"</HealthData>"
    path = patched(zipped(tmp_path / "export.zip", {"apple_health_export/export.xml": xml}),
                   size=1000)
    refused(capsys, vault, path, "export.xml", "forged archive")


def test_an_honest_bomb_is_refused_by_its_declared_size_before_a_byte_unpacks(
        vault, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("luna_tui.services.file_import.MAX_APPLE_XML_BYTES", 10_000)
    path = apple_zip(tmp_path)
    refused(capsys, vault, path, "unpacks to", "more than the 10.0 KB")


def test_an_encrypted_member_is_refused(vault, capsys, tmp_path):
    path = patched(apple_zip(tmp_path), flags=0x1)  # the archive's first member
    refused(capsys, vault, path, "encrypted")


def test_too_many_entries_are_refused_from_the_end_record(vault, capsys, tmp_path,
                                                          monkeypatch):
    monkeypatch.setattr("luna_tui.services.untrusted_zip.MAX_ENTRIES", 2)
    refused(capsys, vault, apple_zip(tmp_path), "lists 3 files", "at most 2 files")


def test_an_archive_inside_the_archive_is_not_opened(vault, capsys, tmp_path):
    inner = apple_zip(tmp_path).read_bytes()
    path = zipped(tmp_path / "outer.zip", {"export.zip": inner}, zipfile.ZIP_STORED)
    refused(capsys, vault, path, "neither an Apple Health export")


def test_a_zip_cut_short_is_refused(vault, capsys, tmp_path):
    path = apple_zip(tmp_path)
    path.write_bytes(path.read_bytes()[:-30])
    refused(capsys, vault, path, "cut short")


# -- sizes and names -------------------------------------------------------------------


def test_each_format_has_its_size_bound(vault, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("luna_tui.services.file_import.MAX_CSV_BYTES", 100)
    csv = tmp_path / "v.csv"
    csv.write_text("date,kind,value\n" + "2024-03-01,weight,70\n" * 10)
    refused(capsys, vault, csv, "larger than 100 bytes", "CSV file")
    monkeypatch.setattr("luna_tui.services.file_import.MAX_BACKUP_BYTES", 1000)
    refused(capsys, vault, daylio_backup(tmp_path), "backup.daylio unpacks to",
            "more than the 1.0 KB")


def test_a_csv_line_without_end_is_refused_as_it_is_read(vault, capsys, tmp_path,
                                                        monkeypatch):
    monkeypatch.setattr("luna_tui.services.csv_vitals.MAX_LINE", 200)
    csv = tmp_path / "v.csv"
    csv.write_text("date,kind,value\n2024-03-01,weight,70\n" + "," * 1000 + "\n")
    refused(capsys, vault, csv, "Line 3 of the CSV file is longer than")


@pytest.mark.parametrize(("name", "content", "said"), [
    ("export.zip", b"<HealthData/>", "named .zip but its first bytes are XML"),
    ("backup.daylio", b"just some text", "named .daylio but its first bytes are of no format"),
    ("export.xml", b"PK\x03\x04" + b"\0" * 40, "named .xml but its first bytes are a zip"),
    ("vitals.csv", b'{"entries": []}', "named .csv but its first bytes are JSON"),
    ("notes.txt", b"date,kind,value\n", "can't tell what notes.txt is"),
])
def test_a_file_that_is_not_what_its_name_says_is_refused(vault, capsys, tmp_path, name,
                                                          content, said):
    path = tmp_path / name
    path.write_bytes(content)
    refused(capsys, vault, path, said)


# -- Daylio ----------------------------------------------------------------------------


def test_a_daylio_backup_that_is_not_base64_is_refused(vault, capsys, tmp_path):
    path = zipped(tmp_path / "b.daylio", {"backup.daylio": b"{not base64 at all}"})
    refused(capsys, vault, path, "not base64")


def test_a_daylio_entry_naming_a_mood_the_backup_lacks_is_refused_by_number(
        vault, capsys, tmp_path):
    document = json.loads(DAYLIO_JSON.read_text())
    document["dayEntries"][1]["mood"] = 99
    refused(capsys, vault, daylio_backup(tmp_path, json.dumps(document).encode()),
            "Daylio entry 2: mood 99 names no mood")


def test_a_daylio_backup_of_more_entries_than_the_bound_is_refused(vault, capsys, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr("luna_tui.services.daylio.MAX_ENTRIES", 2)
    refused(capsys, vault, daylio_backup(tmp_path), "holds 3 entries", "at most 2")


def test_a_daylio_document_nesting_without_end_is_refused(vault, capsys, tmp_path):
    deep = b'{"dayEntries": [], "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    path = zipped(tmp_path / "b.daylio", {"backup.daylio": base64.encodebytes(deep)})
    refused(capsys, vault, path, "nests 10,001 levels deep")
