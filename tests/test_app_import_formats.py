"""The Settings place's import takes what `luna import` takes: an Apple Health export,
vitals in CSV with a column mapping, a Daylio backup. The line under the path says what
the file was found to be and only its options show; the import runs in a worker, its
progress in the row and its summary in the tab; a hostile file is refused with the
service's sentence under the path, and nothing of it is written."""

from __future__ import annotations

import shutil

from import_samples import APPLE_XML, CSV, daylio_backup
from textual.widgets import Checkbox, Input, Select

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    settle,
    settle_until,
    type_text,
    unlock,
    widget_text,
)
from conftest import PASSPHRASE
from luna_tui.human_size import human_size
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.vitals import Vital
from luna_tui.ui.messages import WorkProgress

OPTIONS = ("format", "mapping", "skip_bad", "daily", "privacy")


async def open_import(pilot) -> None:
    await unlock(pilot)
    await pilot.press("0")
    await settle(pilot)
    pilot.app.screen.show_part("import")
    await settle(pilot)


def kind_line(pilot) -> str:
    line = pilot.app.screen.query_one("#import-kind")
    return widget_text(pilot, "#import-kind") if line.has_class("shown") else ""


def options_shown(pilot) -> set[str]:
    return {name for name in OPTIONS
            if pilot.app.screen.query_one(f"#import-option-{name}").has_class("shown")}


async def found(pilot, path) -> str:
    """Put `path` in the field and wait for the line saying what it is."""
    pilot.app.screen.query_one("#import-path", Input).value = str(path)
    await settle_until(pilot, lambda: kind_line(pilot))
    return kind_line(pilot)


async def imported(pilot) -> str:
    """ctrl+s from the import form; the summary it notifies (and shows in the tab)."""
    def summaries() -> list[str]:
        return [n for n in notifications(pilot) if n.startswith("Imported")]

    before = len(summaries())
    await pilot.press("ctrl+s")
    await settle_until(pilot, lambda: len(summaries()) > before)
    said = summaries()[-1]
    assert widget_text(pilot, "#import-result") == said
    return said


def readings(layout, patient_id: str) -> dict[str, list[tuple]]:
    with VaultSession.open(layout, PASSPHRASE) as session:
        def read() -> dict[str, list[tuple]]:
            rows: dict[str, list[tuple]] = {}
            for row in Vital.select().where(Vital.patient == patient_id).order_by(
                    Vital.kind, Vital.measured_at):
                rows.setdefault(row.kind, []).append(
                    (row.measured_at, row.value, row.value2, row.unit))
            return rows
        return session.run(read)


async def test_an_apple_health_export_typed_in_imports_one_reading_a_day_for_who_is_chosen(
        layout, session, tmp_path, monkeypatch):
    me = Settings(session).current_patient_id()
    sam = Patients(session).create("Sam", relationship="child").id
    session.close()
    shutil.copy(APPLE_XML, tmp_path / "export.xml")
    monkeypatch.chdir(tmp_path)  # a short path to type key by key
    app = make_app(layout)
    messages: list = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_import(pilot)
        assert kind_line(pilot) == "" and options_shown(pilot) == set()
        await type_text(pilot, "export.xml")
        await settle_until(pilot, lambda: kind_line(pilot))
        size = human_size(APPLE_XML.stat().st_size)
        assert kind_line(pilot) == f"Found: Apple Health export (export.xml, {size})."
        assert options_shown(pilot) == {"daily"}
        app.screen.query_one("#import-daily", Checkbox).value = True
        app.screen.query_one("#import-patient", Select).value = sam
        app.screen.query_one("#import-path", Input).focus()
        said = await imported(pilot)
        assert said.startswith("Imported 11 readings from an Apple Health export:")
        assert "Heart rate: 1 outside 25–250 bpm" in said  # skipped, by type
        progress = [m for m in messages if isinstance(m, WorkProgress)]
        assert progress[-1].done == 1.0
        assert progress[-1].what == f"Importing export.xml: {size} of {size}"
        assert not app.screen.query_one("#transfer-progress").has_class("shown")
    sams = readings(layout, sam)
    assert sams["heart_rate"] == [("2024-03-18T13:30", 76, None, "bpm"),  # a daily mean
                                  ("2024-03-19T07:11", 58, None, "bpm")]
    assert sams["weight"] == [("2024-03-18T07:00", 68.4, None, "kg"),
                              ("2024-03-19T07:05", 150.2, None, "lb")]
    assert readings(layout, me) == {}


async def test_a_csv_file_imports_with_the_mapping_typed_and_skips_bad_rows_if_asked(
        layout, session, tmp_path):
    me = Settings(session).current_patient_id()
    session.close()
    wide, bad = tmp_path / "wide.csv", tmp_path / "bad.csv"
    shutil.copy(CSV / "vitals_wide.csv", wide)
    shutil.copy(CSV / "vitals_bad.csv", bad)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot)
        assert await found(pilot, wide) == (
            f"Found: Vitals in CSV (wide.csv, {human_size(wide.stat().st_size)}).")
        assert options_shown(pilot) == {"mapping", "skip_bad"}
        mapping = app.screen.query_one("#import-map", Input)
        mapping.value = "date=Date,weight=Mass"
        mapping.focus()
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: field_error(pilot, "import-path"))
        assert "The CSV file has no column 'Mass'" in field_error(pilot, "import-path")
        mapping.value = "date=Date,weight:lb=Weight (lb),heart_rate=Pulse,blood_pressure=BP"
        mapping.focus()
        said = await imported(pilot)
        assert said.startswith("Imported 6 readings from wide.csv (CSV):")

        mapping.value = ""  # bad.csv names its columns date, kind, value, unit
        await found(pilot, bad)
        app.screen.query_one("#import-path", Input).focus()
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: field_error(pilot, "import-path"))
        assert field_error(pilot, "import-path").startswith(
            "3 rows of the CSV file can't be imported, so nothing was")
        app.screen.query_one("#import-skip-bad", Checkbox).value = True
        said = await imported(pilot)
        # Two new readings, none already here: the refused import wrote nothing.
        assert said.startswith("Imported 2 readings from bad.csv (CSV):")
        assert "already in this vault" not in said
        assert "rows: 3 that can't be imported (line 3:" in said
    assert readings(layout, me) == {
        "blood_pressure": [("2024-03-04T07:00", 121, 79, "mmHg"),
                           ("2024-03-06T07:05", 125, 80, "mmHg")],
        "heart_rate": [("2024-03-04T07:00", 64, None, "bpm"),
                       ("2024-03-06T07:05", 71, None, "bpm")],
        "weight": [("2024-03-01T00:00", 71.2, None, "kg"), ("2024-03-04T07:00", 157.2, None, "lb"),
                   ("2024-03-05T00:00", 70.5, None, "kg"), ("2024-03-05T07:10", 156.8, None, "lb")],
    }


async def test_a_daylio_backup_becomes_entries_of_the_privacy_chosen(layout, session,
                                                                     tmp_path):
    session.close()
    backup = daylio_backup(tmp_path)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot)
        assert await found(pilot, backup) == (
            f"Found: Daylio backup ({backup.name}, {human_size(backup.stat().st_size)}).")
        assert options_shown(pilot) == {"privacy"}
        app.screen.query_one("#import-privacy", Select).value = "shared"
        app.screen.query_one("#import-path", Input).focus()
        assert await imported(pilot) == "Imported 3 journal entries from a Daylio backup."
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        rows = reopened.run(lambda: [(e.entry_date, e.privacy_level) for e in
                                     JournalEntry.select().order_by(JournalEntry.entry_date)])
    assert len(rows) == 3 and {privacy for _, privacy in rows} == {"shared"}
    assert rows[0][0] == "2024-01-31" and rows[-1][0] == "2024-02-03"


async def test_a_hostile_file_is_refused_under_the_path_and_nothing_is_written(
        layout, session, tmp_path):
    me = Settings(session).current_patient_id()
    session.close()
    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    hostile = tmp_path / "export.xml"
    hostile.write_text('<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n' + "\n".join(laughs)
                       + "\n]>\n<HealthData><Record type=\"HKQuantityTypeIdentifierHeartRate\""
                       ' sourceName="W" unit="count/min" startDate="2024-03-18 08:04:05 +0000"'
                       ' endDate="2024-03-18 08:04:05 +0000" value="&lol9;"/></HealthData>')
    not_a_zip = tmp_path / "export.zip"
    not_a_zip.write_text("date,kind,value\n")
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot)
        # Told apart by its first bytes, before anything else is read.
        app.screen.query_one("#import-path", Input).value = str(not_a_zip)
        await settle_until(pilot, lambda: field_error(pilot, "import-path"))
        assert field_error(pilot, "import-path") == (
            "export.zip is named .zip but its first bytes are of no format Luna reads; Luna "
            "refuses a file that is not what its name says.")
        assert kind_line(pilot) == "" and options_shown(pilot) == set()

        assert (await found(pilot, hostile)).startswith("Found: Apple Health export")
        assert field_error(pilot, "import-path") == ""
        app.screen.query_one("#import-path", Input).focus()
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: field_error(pilot, "import-path"))
        refusal = field_error(pilot, "import-path")
        assert "declares XML entities" in refusal and "billion-laughs" in refusal
        assert not any(n.startswith("Imported") for n in notifications(pilot))
        assert not app.screen.query_one("#import-result").has_class("shown")
    assert readings(layout, me) == {}
