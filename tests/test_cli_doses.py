"""`luna meds` with adherence over 7 and 30 days, and `luna doses`, the dose history.

Adherence comes from the read model the app's medications place uses, so the shell
says what the app's details say. Dates are relative to `clock.today()`.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


@pytest.fixture
def vault(session, layout, clock, monkeypatch):
    """Metformin twice daily since 40 days ago and Vitamin D daily since 3 days ago, with
    doses logged yesterday, 3 days ago and 20 days ago; Sam has a medication of his own."""
    today = clock.today()
    me = Settings(session).current_patient_id()
    meds = Medications(session)
    metformin = meds.create(me, "Metformin", "500 mg", "twice daily",
                            start_date=(today - dt.timedelta(days=40)).isoformat())
    vitamin = meds.create(me, "Vitamin D", "1 tablet", "once daily",
                          start_date=(today - dt.timedelta(days=3)).isoformat())

    def day(days_ago: int, at: str) -> str:
        return f"{(today - dt.timedelta(days=days_ago)).isoformat()}T{at}"

    meds.log_dose(metformin.id, "taken", slot=day(1, "08:00"), taken_at=day(1, "08:10"))
    meds.log_dose(metformin.id, "skipped", slot=day(1, "20:00"), notes="felt sick")
    meds.log_dose(metformin.id, "late", slot=day(3, "20:00"), taken_at=day(2, "00:30"))
    meds.log_dose(metformin.id, "taken", slot=day(20, "08:00"), taken_at=day(20, "08:00"))
    meds.log_dose(vitamin.id, "missed", slot=day(1, "08:00"))
    sam = Patients(session).create("Sam")
    sams = meds.create(sam.id, "Ibuprofen", "200 mg", "once daily")
    meds.log_dose(sams.id, "taken", slot=day(1, "08:00"), taken_at=day(1, "08:00"))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def as_json(capsys, *argv: str) -> list[dict]:
    result = run_cli(capsys, *argv, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.dates
def test_meds_shows_the_adherence_the_app_shows(capsys, vault, clock):
    listed = {m["name"]: m for m in as_json(capsys, "meds")}
    with VaultSession.open(vault, PASSPHRASE, clock=clock) as session:
        meds = Medications(session)
        app = {name: meds.details(m["id"]).adherence for name, m in listed.items()}
    for name, medication in listed.items():
        assert set(medication["adherence"]) == {"7", "30"}
        for days in (7, 30):
            shown, details = medication["adherence"][str(days)], app[name][days]
            assert (shown["expected"], shown["taken"], shown["late"], shown["missed"],
                    shown["skipped"], shown["unlogged"]) == (
                details.expected, details.taken, details.late, details.missed,
                details.skipped, details.unlogged), (name, days)
            assert shown["percent"] == round(details.percent, 1)
    metformin = listed["Metformin"]["adherence"]
    assert (metformin["7"]["taken"], metformin["7"]["late"], metformin["7"]["skipped"]) == (
        1, 1, 1)
    assert metformin["30"]["taken"] == 2  # the dose 20 days ago counts in 30 days only
    assert listed["Vitamin D"]["adherence"]["7"]["missed"] == 1


def test_the_meds_table_has_the_percentages(capsys, vault):
    listed = {m["name"]: m for m in as_json(capsys, "meds")}
    table = run_cli(capsys, "meds").out
    assert "7 d" in table and "30 d" in table
    for medication in listed.values():
        seven = medication["adherence"]["7"]["percent"]
        assert f"{seven:.0f}%" in table


@pytest.mark.dates
def test_doses_lists_the_last_week_newest_first(capsys, vault, clock):
    today = clock.today()
    doses = as_json(capsys, "doses")
    assert [(d["medication"], d["status"], d["scheduled_at"][:10]) for d in doses] == [
        ("Metformin", "skipped", (today - dt.timedelta(days=1)).isoformat()),
        ("Metformin", "taken", (today - dt.timedelta(days=1)).isoformat()),
        ("Vitamin D", "missed", (today - dt.timedelta(days=1)).isoformat()),
        ("Metformin", "late", (today - dt.timedelta(days=3)).isoformat()),
    ]
    skipped = doses[0]
    assert (skipped["notes"], skipped["taken_at"], skipped["dosage"]) == (
        "felt sick", None, "500 mg")
    table = run_cli(capsys, "doses").out
    late_day = (today - dt.timedelta(days=2)).isoformat()
    assert f"{late_day} 00:30" in table  # taken the day after it was due: with its date
    assert "08:10" in table and "felt sick" in table


def test_doses_from_to_and_one_medication(capsys, vault, clock):
    today = clock.today()
    month = as_json(capsys, "doses", "--from", (today - dt.timedelta(days=30)).isoformat())
    assert len(month) == 5
    only = as_json(capsys, "doses", "--from", (today - dt.timedelta(days=30)).isoformat(),
                   "--to", (today - dt.timedelta(days=2)).isoformat(), "--med", "metf")
    assert [(d["status"]) for d in only] == ["late", "taken"]
    sams = as_json(capsys, "doses", "--patient", "Sam")
    assert [(d["medication"], d["patient"]) for d in sams] == [("Ibuprofen", "Sam")]
    assert run_cli(capsys, "doses", "--from", "today").out.startswith("No doses logged for Me")


def test_doses_refuses_a_range_backwards_or_not_dates_before_unlocking(capsys, vault,
                                                                       monkeypatch):
    monkeypatch.delenv("LUNA_PASSPHRASE")  # asking for it would fail differently
    backwards = run_cli(capsys, "doses", "--from", "today", "--to", "yesterday")
    assert backwards.code == 1 and "is after the --to date" in backwards.err
    nonsense = run_cli(capsys, "doses", "--from", "someday")
    assert nonsense.code == 1 and "'someday' is not a date" in nonsense.err
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    unknown = run_cli(capsys, "doses", "--med", "Aspirin")
    assert unknown.code == 1 and "There is no medication called 'Aspirin'" in unknown.err
