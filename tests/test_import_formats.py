"""`luna import` of other apps' files: an Apple Health export (export.xml, or the
export.zip holding it), a Daylio backup and vitals in CSV, from the sample files in
tests/fixtures/ written from the published formats. Each lands in the database as
readings or entries of the chosen patient, and importing it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from import_samples import APPLE_XML, CSV, apple_zip, daylio_backup

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.errors import ImportRejected
from luna_tui.human_size import human_size
from luna_tui.services import file_import
from luna_tui.services.apple_health import AppleHealthReader
from luna_tui.services.file_import import ImportOptions, identify_import, run_import
from luna_tui.services.patients import Patients
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vital_import import VitalImportResult
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.vitals import Vital


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A closed vault with a second patient, and the passphrase in the environment."""
    Patients(session).create("Sam", relationship="child")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def readings(layout, patient: str = "Me") -> dict[str, list[tuple]]:
    """Each kind's readings of `patient`, oldest first: (measured_at, value, value2, unit)."""
    with VaultSession.open(layout, PASSPHRASE) as session:
        def read():
            found: dict[str, list[tuple]] = {}
            person = Patients(session).find(patient)
            for row in Vital.select().where(Vital.patient == person.id).order_by(
                    Vital.kind, Vital.measured_at, Vital.value):
                found.setdefault(row.kind, []).append(
                    (row.measured_at, row.value, row.value2, row.unit))
            return found
        return session.run(read)


def notes_of(layout, kind: str) -> list[str]:
    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: [row.notes for row in Vital.select().where(
            Vital.kind == kind).order_by(Vital.measured_at)])


def entries(layout) -> list[JournalEntry]:
    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: list(JournalEntry.select().order_by(
            JournalEntry.entry_date)))


APPLE_READINGS = {
    "blood_pressure": [("2024-03-18T08:10", 122, 79, "mmHg"),
                       ("2024-03-19T20:02", 131, 84, "mmHg")],
    "glucose": [("2024-03-18T08:30", 104, None, "mg/dL"),
                ("2024-03-19T12:45", 6.1, None, "mmol/L")],
    "heart_rate": [("2024-03-18T08:04", 64, None, "bpm"), ("2024-03-18T13:30", 88, None, "bpm"),
                   ("2024-03-19T07:11", 58, None, "bpm")],
    # Asleep 23:10-02:40 (AutoSleep's 00:40-01:40 counted once) and 03:10-06:40, and the
    # 14:00 nap: the night of the 19th. In bed and awake are not sleep.
    "sleep": [("2024-03-19T14:30", 7.5, None, "h")],
    "spo2": [("2024-03-19T03:19", 97, None, "%")],
    "temperature": [("2024-03-18T21:30", 37.8, None, "°C")],
    "weight": [("2024-03-18T07:00", 68.4, None, "kg"), ("2024-03-19T07:05", 150.2, None, "lb")],
}


def test_an_apple_health_export_xml_brings_in_each_type_it_takes(vault, capsys):
    result = run_cli(capsys, "import", str(APPLE_XML))
    assert result.code == 0, result.err
    assert readings(vault) == APPLE_READINGS
    # The pulse of 310 and the systolic alone were skipped and said; steps left out.
    assert "Heart rate: 1 outside 25–250 bpm" in result.out
    assert "Blood pressure: 1 unpaired" in result.out
    assert "Left out 1 record of kinds" in result.out
    with VaultSession.open(vault, PASSPHRASE) as session:
        diff = session.run(lambda: json.loads(AuditEvent.select().where(
            AuditEvent.event_name == "vital.import").get().diff))
    assert diff == {"readings": [None, 12], "source": [None, "apple_health"]}


def test_the_zip_imports_the_same_and_a_second_import_adds_nothing(vault, capsys, tmp_path):
    assert run_cli(capsys, "import", str(apple_zip(tmp_path))).code == 0
    assert readings(vault) == APPLE_READINGS
    again = run_cli(capsys, "import", str(APPLE_XML))  # the same records, unzipped
    assert again.code == 0, again.err
    assert again.out.startswith("Imported 0 readings")
    assert "12 were already in this vault" in again.out
    assert readings(vault) == APPLE_READINGS


def test_daily_makes_one_reading_a_day_of_what_a_watch_samples(vault, capsys):
    assert run_cli(capsys, "import", str(APPLE_XML), "--daily", "--patient", "Sam").code == 0
    sams = readings(vault, "Sam")
    assert sams["heart_rate"] == [("2024-03-18T13:30", 76, None, "bpm"),
                                  ("2024-03-19T07:11", 58, None, "bpm")]
    assert sams["spo2"] == [("2024-03-19T03:19", 97, None, "%")]
    assert sams["weight"] == APPLE_READINGS["weight"]  # each weighing is meant
    assert readings(vault) == {}  # Me has nothing
    assert notes_of(vault, "heart_rate")[0] == (
        "Daily mean of 2 readings (Apple Health); lowest 64, highest 88 bpm.")


def read_apple(xml: str, not_after: str = "2026-11-22T10:00") -> tuple[list, VitalImportResult]:
    import io

    from luna_tui.services.apple_health import ROOT
    from luna_tui.services.xml_stream import root_children

    added: list = []
    result = VitalImportResult("a test")
    AppleHealthReader("p", not_after, daily=False, add=added.append, result=result).read(
        root_children(io.BytesIO(xml.encode()), "export.xml", ROOT, "an export"))
    return added, result


def sleep_record(start: str, end: str, value: str = "AsleepCore") -> str:
    return (f'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
            f'startDate="{start} +0100" endDate="{end} +0100" '
            f'value="HKCategoryValueSleepAnalysis{value}"/>')


def test_a_night_runs_from_six_in_the_evening_and_is_the_day_it_ends_on():
    added, _ = read_apple("<HealthData>" + "".join((
        sleep_record("2024-03-09 17:30:00", "2024-03-09 18:30:00"),  # starts before 18:00
        sleep_record("2024-03-09 18:00:00", "2024-03-09 18:45:00"),  # the next night's
        sleep_record("2024-03-10 01:00:00", "2024-03-10 03:00:00", "AsleepDeep"),
        sleep_record("2024-03-10 03:00:00", "2024-03-10 04:00:00", "InBed"),
    )) + "</HealthData>")
    assert [(r.measured_at, r.value) for r in added] == [
        ("2024-03-09T18:30", 1.0), ("2024-03-10T03:00", 2.75)]


def test_a_record_dated_after_now_or_in_an_unknown_unit_is_skipped_and_counted():
    added, result = read_apple(
        '<HealthData><Record type="HKQuantityTypeIdentifierBodyMass" sourceName="s" '
        'unit="kg" startDate="2099-01-01 08:00:00 +0000" endDate="2099-01-01 08:00:00 '
        '+0000" value="70"/><Record type="HKQuantityTypeIdentifierBodyMass" sourceName="s" '
        'unit="oz" startDate="2024-01-01 08:00:00 +0000" endDate="2024-01-01 08:00:00 '
        '+0000" value="2400"/><Record type="HKQuantityTypeIdentifierBodyMass" '
        'sourceName="s" unit="st" startDate="2024-01-02 08:00:00 +0000" '
        'endDate="2024-01-02 08:00:00 +0000" value="11"/>'
        + sleep_record("2099-01-01 23:00:00", "2099-01-02 06:00:00") + "</HealthData>")
    assert [(r.value, r.unit) for r in added] == [(154, "lb")]
    assert result.skipped == {("weight", "dated in the future"): 1,
                              ("weight", "in a unit Luna doesn't know"): 1,
                              ("sleep", "dated in the future"): 1}


# -- Daylio ------------------------------------------------------------------------------


def test_a_daylio_backup_becomes_private_journal_entries(vault, capsys, tmp_path):
    result = run_cli(capsys, "import", str(daylio_backup(tmp_path)))
    assert result.code == 0, result.err
    assert result.out.strip() == "Imported 3 journal entries from a Daylio backup."
    plain, drained, good = entries(vault)
    assert (plain.entry_date, plain.entry_time, plain.mood, plain.mood_scale) == (
        "2024-01-31", "19:00", "meh", 5)
    assert plain.content == "Plain note, written before formatting existed.\nSecond line."
    assert plain.journal_type == "free" and plain.tags == []
    # A mood of its own name at Daylio's "bad" level; no note: a line naming it.
    assert (drained.mood, drained.mood_scale, drained.tags) == ("drained", 3, ["long-walk"])
    assert drained.content == "Daylio: Drained · Long walk"
    assert drained.journal_type == "mood_check"
    assert (good.entry_date, good.entry_time, good.title) == ("2024-02-03", "21:45",
                                                              "A good Saturday")
    assert good.content == ("Dinner with my sister & her kids.\nFelt lighter than in weeks."
                            "\n\n- no headache\n- slept early")
    assert (good.mood, good.mood_scale, good.tags, good.favorite) == (
        "rad", 10, ["family", "good-sleep"], 1)
    assert {e.privacy_level for e in (plain, drained, good)} == {"private"}


def test_a_daylio_backup_imported_again_adds_nothing_and_privacy_can_be_chosen(
        vault, capsys, tmp_path):
    backup = daylio_backup(tmp_path)
    assert run_cli(capsys, "import", str(backup), "--privacy", "shared").code == 0
    again = run_cli(capsys, "import", str(backup))
    assert again.out.strip() == ("Imported 0 journal entries from a Daylio backup. 3 were "
                                 "already in this vault.")
    assert [e.privacy_level for e in entries(vault)] == ["shared"] * 3


# -- CSV ---------------------------------------------------------------------------------


def test_a_tall_csv_needs_no_mapping_when_its_columns_are_named_so(vault, capsys):
    result = run_cli(capsys, "import", str(CSV / "vitals_tall.csv"))
    assert result.code == 0, result.err
    assert readings(vault) == {
        "blood_pressure": [("2024-03-01T07:35", 128, 82, "mmHg")],
        "heart_rate": [("2024-03-02T08:00", 66, None, "bpm")],
        "peak_flow": [("2024-03-03T06:50", 420, None, "L/min")],
        "temperature": [("2024-03-02T00:00", 98.9, None, "°F")],
        "weight": [("2024-03-01T07:30", 71.2, None, "kg")],
    }
    assert notes_of(vault, "weight") == ["after breakfast"]
    again = run_cli(capsys, "import", str(CSV / "vitals_tall.csv"))
    assert "5 were already in this vault" in again.out
    assert len(readings(vault)) == 5


def test_a_wide_csv_maps_a_column_per_kind_with_its_unit(vault, capsys):
    result = run_cli(capsys, "import", str(CSV / "vitals_wide.csv"), "--map",
                     "date=Date,weight:lb=Weight (lb)", "--map",
                     "heart_rate=Pulse,blood_pressure=BP")
    assert result.code == 0, result.err
    assert readings(vault) == {
        "blood_pressure": [("2024-03-04T07:00", 121, 79, "mmHg"),
                           ("2024-03-06T07:05", 125, 80, "mmHg")],
        "heart_rate": [("2024-03-04T07:00", 64, None, "bpm"),
                       ("2024-03-06T07:05", 71, None, "bpm")],
        "weight": [("2024-03-04T07:00", 157.2, None, "lb"),
                   ("2024-03-05T07:10", 156.8, None, "lb")],
    }


def test_a_bad_row_stops_the_whole_csv_unless_skip_bad(vault, capsys):
    bad = str(CSV / "vitals_bad.csv")
    result = run_cli(capsys, "import", bad)
    assert result.code == 1
    assert result.err.count("\n") == 1 and result.err.startswith("luna: 3 rows")
    for line in ("line 3: ", "line 4: ", "line 5: "):
        assert line in result.err
    assert readings(vault) == {}
    skipped = run_cli(capsys, "import", bad, "--skip-bad")
    assert skipped.code == 0, skipped.err
    assert "rows: 3 that can't be imported (line 3:" in skipped.out
    assert readings(vault) == {"weight": [("2024-03-01T00:00", 71.2, None, "kg"),
                                          ("2024-03-05T00:00", 70.5, None, "kg")]}


def test_a_mapping_naming_a_column_the_file_lacks_is_refused_before_the_vault_opens(
        vault, capsys, monkeypatch):
    monkeypatch.delenv("LUNA_PASSPHRASE")  # it is never asked for
    result = run_cli(capsys, "import", str(CSV / "vitals_wide.csv"), "--map",
                     "date=Date,weight=Mass")
    assert result.code == 1
    assert "has no column 'Mass'" in result.err


def test_an_option_for_another_format_is_refused(vault, capsys, tmp_path):
    shutil.copy(CSV / "vitals_tall.csv", tmp_path / "v.csv")
    result = run_cli(capsys, "import", str(tmp_path / "v.csv"), "--daily")
    assert result.code == 1 and "--daily doesn't apply to a CSV file" in result.err


@pytest.mark.dates
def test_csv_dates_take_lunas_date_phrases(vault, capsys, tmp_path, clock):
    path = tmp_path / "phrases.csv"
    path.write_text("date,kind,value\nyesterday at 8am,weight,70\n")
    assert run_cli(capsys, "import", str(path)).code == 0
    yesterday = clock.today() - dt.timedelta(days=1)
    assert readings(vault)["weight"] == [(f"{yesterday.isoformat()}T08:00", 70, None, "kg")]



# -- what a file is, and importing it in one go (the app's import) -----------------------


def test_what_a_file_is_is_said_with_its_size_and_the_options_its_kind_takes(tmp_path):
    zipped, backup = apple_zip(tmp_path), daylio_backup(tmp_path)
    (tmp_path / "journal.json").write_text('{"entries": []}')
    (tmp_path / "vitals.txt").write_text("Date,Weight\n2024-03-01,70\n")
    files = (APPLE_XML, zipped, backup, CSV / "vitals_wide.csv", tmp_path / "journal.json")
    found = {path.name: identify_import(path) for path in files}
    size = {path.name: human_size(path.stat().st_size) for path in files}
    assert {name: f.describe() for name, f in found.items()} == {
        "export.xml": f"Apple Health export (export.xml, {size['export.xml']})",
        "export.zip": f"Apple Health export (export.zip, {size['export.zip']}, holding a "
                      f"{size['export.xml']} export.xml)",
        backup.name: f"Daylio backup ({backup.name}, {size[backup.name]})",
        "vitals_wide.csv": f"Vitals in CSV (vitals_wide.csv, {size['vitals_wide.csv']})",
        "journal.json": f"JSON export (journal.json, {size['journal.json']})",
    }
    every = ImportOptions(format="jrnl", mapping=("date=Date",), skip_bad=True, daily=True,
                          privacy="shared")
    assert {name: f.applicable(every) for name, f in found.items()} == {
        "export.xml": ImportOptions(daily=True), "export.zip": ImportOptions(daily=True),
        backup.name: ImportOptions(privacy="shared"),
        "vitals_wide.csv": ImportOptions(mapping=("date=Date",), skip_bad=True),
        "journal.json": ImportOptions(format="jrnl")}
    # Text of another name is CSV only with a mapping, as `luna import --map` has it.
    with pytest.raises(ImportRejected, match="Luna can't tell what vitals.txt is"):
        identify_import(tmp_path / "vitals.txt")
    assert identify_import(tmp_path / "vitals.txt", ImportOptions(
        mapping=("date=Date,weight=Weight",))).kind == "csv"


def test_run_import_says_how_far_it_is_and_lets_go_of_the_file_on_every_path(
        session, tmp_path, monkeypatch):
    opened = []
    real_open = file_import._open

    def recorded_open(*args):  # noqa: ANN002, ANN202
        opened.append(real_open(*args))
        return opened[-1]

    monkeypatch.setattr(file_import, "_open", recorded_open)
    told: list[tuple[float, str]] = []
    summary = run_import(session, APPLE_XML, ImportOptions(), told=lambda *t: told.append(t))
    assert summary.startswith("Imported 12 readings from an Apple Health export:")
    size = human_size(APPLE_XML.stat().st_size)
    assert told[-1] == (1.0, f"{size} of {size}")
    assert [fraction for fraction, _ in told] == sorted(fraction for fraction, _ in told)

    told.clear()
    run_import(session, CSV / "vitals_tall.csv", ImportOptions(),
               told=lambda *t: told.append(t))
    size = human_size((CSV / "vitals_tall.csv").stat().st_size)
    assert told == [(1.0, f"{size} of {size}")]

    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    hostile = tmp_path / "export.xml"
    hostile.write_text('<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n' + "\n".join(laughs)
                       + "\n]>\n<HealthData>&lol9;</HealthData>")
    with pytest.raises(ImportRejected, match="declares XML entities"):
        run_import(session, hostile, ImportOptions())
    with pytest.raises(ImportRejected, match="has no column 'Mass'"):  # refused preparing
        run_import(session, CSV / "vitals_wide.csv", ImportOptions(mapping=("date=Mass",)))
    assert len(opened) == 8 and all(handle.closed for handle in opened)
