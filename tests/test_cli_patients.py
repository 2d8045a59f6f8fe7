"""`luna patients`: list, add, rename, archive and unarchive from the shell, through the
same service calls as the app's patients place (checked, audited, refused for a
read-only key)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import run_cli
from luna_tui.errors import EXIT_KEY, ValidationError
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent


@pytest.fixture
def vault(session, layout, monkeypatch):
    """Me with one entry, Sam with two; closed, the passphrase in the environment."""
    patients = Patients(session)
    me = Settings(session).current_patient_id()
    sam = patients.create("Sam", relationship="son")
    journal = Journal(session)
    journal.create(me, EntryDraft(content="Mine"))
    journal.create(sam.id, EntryDraft(content="Sam's first"))
    journal.create(sam.id, EntryDraft(content="Sam's second"))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def ok(capsys, *argv: str):
    result = run_cli(capsys, *argv)
    assert result.code == 0, result.err
    return result


def listed(capsys, *argv: str) -> list[dict]:
    return json.loads(ok(capsys, "patients", *argv, "--json").out)


def audited(layout, name: str) -> list[dict]:
    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: [json.loads(e.diff or "{}") for e in AuditEvent.select()
                                    .where(AuditEvent.event_name == name)])


def test_patients_lists_who_is_current_their_role_and_entries(capsys, vault):
    patients = listed(capsys)
    assert [(p["name"], p["owner"], p["relationship"], p["entries"], p["current"],
             p["archived"]) for p in patients] == [
        ("Me", True, "self", 1, True, False), ("Sam", False, "son", 2, False, False)]
    for patient in patients:
        assert (patient["patient_id"], patient["patient"]) == (patient["id"], patient["name"])
    table = ok(capsys, "patients").out
    assert "owner" in table and "son" in table and patients[1]["id"][:8] in table


def test_add_with_a_profile_is_audited(capsys, vault, clock):
    added = ok(capsys, "patients", "add", "Rose", "Miller", "--relationship", "grandmother",
               "--born", "1950-03-04", "--doctor", "Dr Rivera", "--allergies", "penicillin")
    assert added.out.startswith("Added Rose Miller (")
    [rose] = [p for p in listed(capsys) if p["name"] == "Rose Miller"]
    assert (rose["relationship"], rose["date_of_birth"], rose["primary_doctor"],
            rose["allergies"], rose["entries"]) == (
        "grandmother", "1950-03-04", "Dr Rivera", "penicillin", 0)
    [diff] = audited(vault, "patient.create")[-1:]
    assert diff["name"] == [None, "Rose Miller"]
    assert "penicillin" not in json.dumps(diff)  # free text is described, not copied


def test_add_refuses_what_the_app_refuses(capsys, vault, clock):
    future = (clock.today() + dt.timedelta(days=400)).isoformat()
    result = run_cli(capsys, "patients", "add", "Baby", "--born", future)
    assert result.code == 1 and "The date of birth is in the future." in result.err
    assert [p["name"] for p in listed(capsys)] == ["Me", "Sam"]


def test_rename_by_name_or_by_the_beginning_of_an_id(capsys, vault):
    ok(capsys, "patients", "rename", "sam", "Samuel", "Jones")
    sam = listed(capsys)[1]
    assert sam["name"] == "Samuel Jones"
    renamed = ok(capsys, "patients", "rename", sam["id"][:6], "Sam")
    assert renamed.out.strip() == "Renamed Samuel Jones to Sam."
    assert [d["name"] for d in audited(vault, "patient.update")] == [
        ["Sam", "Samuel Jones"], ["Samuel Jones", "Sam"]]
    missing = run_cli(capsys, "patients", "rename", "Nobody", "X")
    assert missing.code == 1 and "There is no patient called 'Nobody'" in missing.err


def test_archive_hides_and_unarchive_brings_back(capsys, vault):
    archived = ok(capsys, "patients", "archive", "Sam")
    assert archived.out.startswith("Archived Sam: hidden from lists")
    assert [p["name"] for p in listed(capsys)] == ["Me"]
    assert [(p["name"], p["archived"]) for p in listed(capsys, "--all")] == [
        ("Me", False), ("Sam", True)]
    again = run_cli(capsys, "patients", "archive", "Sam")
    assert again.code == 1 and "Sam is already archived." in again.err
    ok(capsys, "patients", "unarchive", "Sam")
    assert [p["name"] for p in listed(capsys)] == ["Me", "Sam"]
    assert audited(vault, "patient.archive") == [{"active": [1, 0]}]
    assert audited(vault, "patient.restore") == [{"active": [0, 1]}]


def test_the_owner_cannot_be_archived(capsys, vault):
    result = run_cli(capsys, "patients", "archive", "Me")
    assert result.code == 1
    assert "Me is the vault's owner and can't be archived." in result.err
    assert [p["archived"] for p in listed(capsys)] == [False, False]
    assert audited(vault, "patient.archive") == []


def test_archiving_the_current_patient_makes_the_owner_current(capsys, vault):
    sam = listed(capsys)[1]
    ok(capsys, "settings", "current_patient", sam["id"])
    assert listed(capsys)[1]["current"]
    archived = ok(capsys, "patients", "archive", "Sam")
    assert "Sam was the current patient; now Me is." in archived.out
    ok(capsys, "patients", "unarchive", "Sam")
    assert [p["current"] for p in listed(capsys)] == [True, False]  # not quietly back


def test_a_read_only_key_lists_but_changes_nothing(capsys, session, layout, monkeypatch):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    Patients(session).create("Sam")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", OTHER_PASSPHRASE)
    for argv, action in ((["add", "Rose"], "add a patient"),
                         (["rename", "Sam", "Samuel"], "change a patient"),
                         (["archive", "Sam"], "archive a patient"),
                         (["unarchive", "Sam"], "bring back a patient")):
        result = run_cli(capsys, "patients", *argv)
        assert result.code == EXIT_KEY, argv
        assert (f"This vault is open with the read-only key 'caregiver': it can read "
                f"everything but cannot {action}.") in result.err
    assert [p["name"] for p in listed(capsys)] == ["Me", "Sam"]


def test_the_app_refuses_to_archive_the_owner_too(session):
    """The rule is the service's, so the app's `a` says the same sentence."""
    patients = Patients(session)
    me = patients.get(Settings(session).current_patient_id())
    with pytest.raises(ValidationError, match="vault's owner and can't be archived"):
        patients.set_archived(me.id, True)
    assert patients.get(me.id).active
