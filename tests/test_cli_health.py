"""`luna meds`, `dose`, `appts` and `vitals` from a shell, as scripts use them.

The commands' clock is the test's (conftest's `system_clock`), so dates here are
relative to `clock.today()`; tests marked `dates` run at each "today" of the matrix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from icalendar import Calendar

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import run_cli
from luna_tui.services.appointments import AppointmentView
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications, MedicationView
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vitals import VitalView
from luna_tui.store.models.medications import MedicationDose


def fields_of(view_class) -> set[str]:
    return {f.name for f in dataclasses.fields(view_class)}


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A closed vault with a second patient, and the passphrase in the environment."""
    Patients(session).create("Sam")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def ok(capsys, *argv: str):
    result = run_cli(capsys, *argv)
    assert result.code == 0, result.err
    return result


def as_json(capsys, *argv: str) -> list[dict]:
    return json.loads(ok(capsys, *argv, "--json").out)


# -- medications and doses ------------------------------------------------------------------


def test_meds_add_with_every_option_then_list(capsys, vault, clock):
    last_week = clock.today() - dt.timedelta(days=7)
    refill = clock.today() + dt.timedelta(days=44)
    added = ok(capsys, "meds", "add", "Metformin", "--dosage", "500 mg", "--frequency",
               "twice daily", "--route", "oral", "--prescriber", "Dr Rivera", "--pharmacy",
               "Corner", "--rx", "RX-1", "--start", last_week.isoformat(), "--supply", "60",
               "--refill", refill.isoformat(), "--notes", "with food")
    assert added.out.strip() == (
        "Added Metformin 500 mg, twice daily (08:00, 20:00), to Me's medications.")
    ok(capsys, "meds", "add", "Vitamin", "D", "--dosage", "1 tablet", "--frequency",
       "once daily", "--schedule", "09:15")
    listed = as_json(capsys, "meds")
    assert [m["name"] for m in listed] == ["Metformin", "Vitamin D"]
    assert set(listed[0]) == fields_of(MedicationView) | {"patient", "adherence"}
    metformin = listed[0]
    assert (metformin["route"], metformin["prescribing_doctor"], metformin["pharmacy"],
            metformin["rx_number"], metformin["start_date"], metformin["supply_count"],
            metformin["refill_date"], metformin["notes"], metformin["schedule"],
            metformin["active"]) == ("oral", "Dr Rivera", "Corner", "RX-1",
                                     last_week.isoformat(), 60.0, refill.isoformat(), "with food",
                                     ["08:00", "20:00"], True)
    assert listed[1]["schedule"] == ["09:15"]
    table = ok(capsys, "meds").out
    assert "Metformin" in table and "08:00 20:00" in table and "Vitamin D" in table


@pytest.mark.dates
def test_meds_stop_and_all(capsys, vault, clock):
    today = clock.today().isoformat()
    ok(capsys, "meds", "add", "Aspirin", "--dosage", "75 mg", "--frequency", "daily")
    stopped = ok(capsys, "meds", "stop", "asp", "--on", "today", "--reason", "stomach")
    assert stopped.out.strip() == f"Stopped Aspirin on {today}."
    assert as_json(capsys, "meds") == []
    assert "no active medications" in ok(capsys, "meds").out
    everything = as_json(capsys, "meds", "--all")
    assert [(m["name"], m["active"], m["end_date"]) for m in everything] == [
        ("Aspirin", False, today)]
    assert f"stopped {today}" in ok(capsys, "meds", "--all").out
    again = run_cli(capsys, "meds", "stop", "Aspirin")
    assert again.code == 1 and "already stopped" in again.err


def test_patient_option_before_or_after_the_action(capsys, vault):
    ok(capsys, "meds", "add", "Inhaler", "--dosage", "2 puffs", "--frequency", "as needed",
       "--patient", "Sam")
    ok(capsys, "meds", "--patient", "Sam", "add", "Zinc", "--dosage", "1 tablet",
       "--frequency", "daily")
    assert as_json(capsys, "meds") == []
    assert [m["name"] for m in as_json(capsys, "meds", "--patient", "Sam")] == [
        "Inhaler", "Zinc"]


@pytest.mark.dates
def test_dose_belongs_to_the_nearest_slot_and_changes_adherence(capsys, vault, layout, clock):
    yesterday = clock.today() - dt.timedelta(days=1)
    ok(capsys, "meds", "add", "Metformin", "--dosage", "500 mg", "--frequency",
       "twice daily", "--start", (clock.today() - dt.timedelta(days=7)).isoformat())
    day = yesterday.isoformat()
    taken = ok(capsys, "dose", "metformin", "taken", "--at", f"{day}T08:40")
    assert taken.out.strip() == f"Logged Metformin 500 mg {day} 08:00 as taken."
    late = ok(capsys, "dose", "Metformin", "late", "--at", f"{day}T21:30")
    assert late.out.strip() == f"Logged Metformin 500 mg {day} 20:00 as late."
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        meds = Medications(session)
        medication = meds.find(Settings(session).current_patient_id(), "Metformin")
        adherence = meds.adherence(medication.id, yesterday, yesterday)
        doses = session.run(lambda: [
            (d.scheduled_at, d.taken_at, d.status)
            for d in MedicationDose.select().order_by(MedicationDose.scheduled_at)])
    assert (adherence.expected, adherence.taken, adherence.late, adherence.percent) == (
        2, 1, 1, 100.0)
    assert doses == [(f"{day}T08:00", f"{day}T08:40", "taken"),
                     (f"{day}T20:00", f"{day}T21:30", "late")]
    # Logged again: the same slot changes, and adherence follows.
    ok(capsys, "dose", "Metformin", "missed", "--at", f"{day}T20:10")
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        adherence = Medications(session).adherence(medication.id, yesterday, yesterday)
    assert (adherence.taken, adherence.late, adherence.missed, adherence.percent) == (
        1, 0, 1, 50.0)


@pytest.mark.dates
def test_dose_without_at_is_now(capsys, vault, clock):
    ok(capsys, "meds", "add", "Ibuprofen", "--dosage", "200 mg", "--frequency", "as needed")
    logged = ok(capsys, "dose", "Ibuprofen", "taken")
    # No schedule: the dose is at the moment it was logged; today goes without saying.
    now = clock.now().astimezone()
    assert logged.out.strip() == f"Logged Ibuprofen 200 mg {now:%H:%M} as taken."


# -- appointments -------------------------------------------------------------------------------


@pytest.mark.dates
def test_appts_add_list_and_json(capsys, vault, clock):
    soon, later = clock.today() + dt.timedelta(days=2), clock.today() + dt.timedelta(days=9)
    added = ok(capsys, "appts", "add", "--date", later.isoformat(), "--time", "2pm",
               "--provider", "Dr Rivera", "--type", "specialist", "--location", "Clinic 3",
               "--reason", "knee", "--prep", "bring the MRI", "--duration", "45")
    assert added.out.strip() == (f'Added "Specialist: Dr Rivera" on {later} at 14:00 '
                                 "to Me's appointments.")
    ok(capsys, "appts", "add", "--date", soon.isoformat(), "--reason", "Blood test")
    ok(capsys, "appts", "add", "--date", "yesterday", "--provider", "Dentist")
    upcoming = as_json(capsys, "appts")
    assert [a["appointment_date"] for a in upcoming] == [soon.isoformat(), later.isoformat()]
    assert set(upcoming[0]) == fields_of(AppointmentView) | {"patient"}
    rivera = upcoming[1]
    assert (rivera["appointment_time"], rivera["duration_minutes"], rivera["appointment_type"],
            rivera["location"], rivera["reason"], rivera["preparation_notes"]) == (
        "14:00", 45, "specialist", "Clinic 3", "knee", "bring the MRI")
    assert [a["provider_name"] for a in as_json(capsys, "appts", "--past")] == ["Dentist"]
    assert len(as_json(capsys, "appts", "-n", "1")) == 1
    table = ok(capsys, "appts").out
    assert "Specialist: Dr Rivera" in table and "all day" in table
    assert table.index(soon.isoformat()) < table.index(later.isoformat())


def test_no_appointments_says_how_to_add_one(capsys, vault):
    assert "no upcoming appointments" in ok(capsys, "appts").out
    assert "no past appointments" in ok(capsys, "appts", "--past").out


@pytest.mark.dates
def test_appts_export_writes_a_private_calendar(capsys, vault, tmp_path, clock):
    ok(capsys, "appts", "add", "--date", (clock.today() + dt.timedelta(days=3)).isoformat(),
       "--time", "09:30", "--provider", "Dr Rivera")
    ok(capsys, "appts", "add", "--date", "yesterday", "--provider", "Dentist")
    out = tmp_path / "visits.ics"
    exported = ok(capsys, "appts", "export", "--out", str(out))
    assert "Wrote 1 appointment to" in exported.err and "NOT encrypted" in exported.err
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*.luna-tmp"))
    events = Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Routine: Dr Rivera"]
    everything = ok(capsys, "appts", "export", "--all", "--out", str(out))
    assert "Wrote 2 appointments" in everything.err
    assert len(Calendar.from_ical(out.read_bytes()).walk("VEVENT")) == 2


def test_exporting_nothing_writes_nothing(capsys, vault, tmp_path):
    out = tmp_path / "none.ics"
    result = run_cli(capsys, "appts", "export", "--out", str(out), "--patient", "Sam")
    assert result.code == 1 and "Sam has no upcoming appointments" in result.err
    assert not out.exists()


# -- vitals ---------------------------------------------------------------------------------


@pytest.mark.dates
def test_vitals_add_and_list(capsys, vault, clock):
    yesterday = clock.today() - dt.timedelta(days=1)
    recorded = ok(capsys, "vitals", "add", "weight", "72.5", "--at", f"{yesterday}T07:30",
                  "--notes", "after a run")
    assert recorded.out.strip() == f"Recorded weight 72.5 kg at {yesterday} 07:30."
    assert "120/80 mmHg" in ok(capsys, "vitals", "add", "bp", "120/80", "--at",
                               f"{yesterday}T08:00").out
    ok(capsys, "vitals", "add", "pulse", "64", "--at", f"{yesterday}T08:01")
    ok(capsys, "vitals", "add", "peak flow", "420", "--unit", "L/min", "--at",
       f"{yesterday}T08:02")
    ok(capsys, "vitals", "add", "temp", "98.6", "--unit", "F", "--at", f"{yesterday}T08:03")
    readings = as_json(capsys, "vitals")
    assert [r["kind"] for r in readings] == ["temperature", "peak_flow", "heart_rate",
                                             "blood_pressure", "weight"]
    assert set(readings[0]) == fields_of(VitalView) | {"patient"}
    bp = readings[3]
    assert (bp["value"], bp["value2"], bp["unit"], bp["measured_at"]) == (
        120.0, 80.0, "mmHg", f"{yesterday}T08:00")
    assert [r["notes"] for r in as_json(capsys, "vitals", "--kind", "weight")] == ["after a run"]
    assert len(as_json(capsys, "vitals", "-n", "2")) == 2
    table = ok(capsys, "vitals").out
    assert "Blood pressure" in table and "98.6 °F" in table and "420 L/min" in table


def test_no_vitals_says_how_to_record_one(capsys, vault):
    assert "luna vitals add weight" in ok(capsys, "vitals").out


# -- bad input, read-only keys ----------------------------------------------------------------


@pytest.mark.parametrize(("args", "code", "message"), [
    (["dose", "Metformin", "lots"], 1, "'lots' is not a dose status"),
    (["dose", "Nothing", "taken"], 1, "There is no medication called 'Nothing'"),
    (["dose", "Metformin", "taken", "--at", "2026-02-30T08:00"], 1, "not a date"),
    (["dose", "Metformin", "taken", "--at", "2999-01-01T08:00"], 1, "in the future"),
    (["meds", "add", "X", "--dosage", "lots", "--frequency", "daily"], 1,
     "needs an amount and a unit"),
    (["meds", "add", "X", "--dosage", "1 mg", "--frequency", "daily", "--schedule", "25:00"],
     1, "not a time"),
    (["meds", "stop", "Nothing"], 1, "no medication called"),
    (["appts", "add", "--date", "next week"], 1, "not a date"),
    (["appts", "add", "--date", "tomorrow", "--type", "spa day"], 1, "choose one of"),
    (["appts", "add", "--date", "tomorrow", "--duration", "0"], 1, "not possible"),
    (["vitals", "add", "bp", "300", "20"], 1, "not possible"),
    (["vitals", "add", "bp", "300/20"], 1, "not possible"),
    (["vitals", "add", "pulse", "fast"], 1, "'fast' is not a number"),
    (["vitals", "add", "weight", "70", "--patient", "Nobody"], 1, "no patient called"),
    (["meds", "frobnicate"], 2, "invalid choice"),
    (["dose", "Metformin"], 2, "required"),
    (["appts", "-n", "0"], 2, "not a whole number from 1 to 100,000"),
    (["appts", "export"], 2, "--out"),
])
def test_bad_input_is_one_sentence(capsys, vault, args, code, message):
    ok(capsys, "meds", "add", "Metformin", "--dosage", "500 mg", "--frequency", "twice daily")
    result = run_cli(capsys, *args)
    assert result.code == code, result.err
    assert message in result.err and "Traceback" not in result.err


def test_a_read_only_key_reads_and_exports_but_cannot_write(capsys, session, layout,
                                                              monkeypatch, tmp_path):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    ok(capsys, "appts", "add", "--date", "tomorrow", "--provider", "Dr Rivera")
    monkeypatch.setenv("LUNA_PASSPHRASE", OTHER_PASSPHRASE)
    for args in (["meds", "add", "X", "--dosage", "1 mg", "--frequency", "daily"],
                 ["appts", "add", "--date", "tomorrow"],
                 ["vitals", "add", "weight", "70"],
                 ["dose", "X", "taken"]):
        result = run_cli(capsys, *args)
        assert result.code == 3 and "read-only key 'caregiver'" in result.err, args
    ok(capsys, "meds")
    ok(capsys, "vitals")
    assert len(as_json(capsys, "appts")) == 1
    ok(capsys, "appts", "export", "--out", str(tmp_path / "caregiver.ics"))
