"""One shape for every list's JSON (issue 15, friction 12): each item names its patient
by `patient_id` and by `patient` (the name), whatever the list.

The commands are found by walking the parser: a new command with `--json` fails here
until it is run below, or named as holding no patient's data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import pytest

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.cli.main import build_parser
from luna_tui.services.appointments import Appointments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.vitals import Vitals

# Vault-wide, not any patient's: the backups in a folder, the AI's token counts, the
# templates, the devices that sync.
NO_PATIENT = {"backup list", "stats", "bench", "agent status",  # vault-wide, or none (bench)
              "templates", "templates list", "sync status"}


def json_commands() -> set[str]:
    """Every command path whose parser takes --json."""
    found = set()

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
            if "--json" in action.option_strings:
                found.add(" ".join(path))
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                for name, child in action.choices.items():
                    walk(child, (*path, name))

    walk(build_parser(), ())
    return found


@pytest.fixture
def sams(session, layout, clock, monkeypatch) -> dict[str, str]:
    """One of everything, all Sam's (not the current patient): the name must be his."""
    sam = Patients(session).create("Sam")
    day = (clock.today() - dt.timedelta(days=1)).isoformat()
    Journal(session).create(sam.id, EntryDraft(content="Walked by the river"))
    meds = Medications(session)
    metformin = meds.create(sam.id, "Metformin", "500 mg", "twice daily", start_date=day)
    meds.log_dose(metformin.id, "taken", slot=f"{day}T08:00", taken_at=f"{day}T08:05")
    Appointments(session).create(sam.id, "tomorrow", provider_name="Dr Rivera")
    Vitals(session).record(sam.id, "weight", "31.5")
    record = Records(session).create(sam.id, title="Blood test", record_type="lab")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    return {"patient_id": sam.id, "record": record.id}


def test_every_list_names_its_patient_by_id_and_name(capsys, sams):
    runs = {
        "list": ["list", "--patient", "Sam"],
        "search": ["search", "river", "--patient", "Sam"],
        "meds": ["meds", "--patient", "Sam"],
        "doses": ["doses", "--patient", "Sam"],
        "appts": ["appts", "--patient", "Sam"],
        "vitals": ["vitals", "--patient", "Sam"],
        "records": ["records", "--patient", "Sam"],
        "records show": ["records", "show", sams["record"]],
        "patients": ["patients"],
        "streak": ["streak", "--patient", "Sam"],
        "insights": ["insights", "--patient", "Sam"],
    }
    assert json_commands() == set(runs) | NO_PATIENT, (
        "a command with --json: run it here, or name it in NO_PATIENT")
    for command, argv in runs.items():
        result = run_cli(capsys, *argv, "--json")
        assert result.code == 0, (command, result.err)
        shown = json.loads(result.out)
        items = shown if isinstance(shown, list) else [shown]
        if command == "patients":
            items = [item for item in items if item["name"] == "Sam"]
        assert items, command
        for item in items:
            assert (item["patient_id"], item["patient"]) == (sams["patient_id"], "Sam"), command
            # First, after its own id if it has one (a streak is counted, not stored).
            assert list(item)[:3] == ["id", "patient_id", "patient"] or (
                "id" not in item and list(item)[:2] == ["patient_id", "patient"]), command
