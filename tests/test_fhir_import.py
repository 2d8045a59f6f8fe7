"""FHIR R4 in: Luna's own export comes back into a fresh vault field by field and a
second import changes nothing; a Bundle another tool wrote comes in as far as Luna
understands it, the rest reported by type; a damaged file is a sentence."""

from __future__ import annotations

import base64
import copy
import json
import re

import pytest
from health_vault import fill_health

from conftest import PASSPHRASE, cheap_kdf
from helpers import run_cli
from luna_tui.errors import ImportRejected
from luna_tui.home import VaultLayout
from luna_tui.services.importing import Importer, check_document, detect_format
from luna_tui.services.journal import Journal, JournalFilter
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault
from luna_tui.store.models.appointments import Appointment
from luna_tui.store.models.medications import Medication, MedicationDose, MedicationEvent
from luna_tui.store.models.patients import Patient
from luna_tui.store.models.records import Attachment, MedicalRecord
from luna_tui.store.models.vitals import Vital

UNSTABLE = {"created_at", "updated_at", "patient_id", "record_no"}
# An attachment's id and its file's name in the vault are the importing vault's own.
ATTACHMENT_UNSTABLE = UNSTABLE | {"id", "storage_path"}


def health_rows(session) -> dict[str, list[dict]]:
    """What a round trip must keep, table by table, with each row's patient by name."""

    def dump():
        names = {p.id: p.name for p in Patient.select()}
        rows = {}
        for model in (Patient, Vital, Medication, MedicationEvent, MedicationDose,
                      Appointment, MedicalRecord, Attachment):
            skip = ATTACHMENT_UNSTABLE if model is Attachment else UNSTABLE
            table = []
            for row in model.select().dicts():
                kept = {k: v for k, v in row.items() if k not in skip}
                if model is not Patient:
                    kept["patient"] = names[row["patient"]]
                else:
                    kept.pop("id")
                table.append(kept)
            rows[model._meta.table_name] = sorted(table, key=lambda r: json.dumps(
                r, sort_keys=True, default=str))
        return rows

    return session.run(dump)


@pytest.fixture
def script(monkeypatch):
    """The CLI reads the passphrase as a script does."""
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)


def test_a_fhir_export_comes_back_into_a_fresh_vault_field_by_field(
        session, clock, tmp_path, capsys, monkeypatch, script):
    fill_health(session, tmp_path)
    before = health_rows(session)
    session.close()
    out = tmp_path / "health.fhir.json"
    exported = run_cli(capsys, "export", "--format", "fhir", "--out", str(out))
    assert exported.code == 0 and "NOT encrypted" in exported.err
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    second = VaultLayout(tmp_path / "second")
    create_vault(second, PASSPHRASE, kdf=cheap_kdf(), clock=clock).session.close()
    monkeypatch.setenv("LUNA_HOME", str(second.home))
    imported = run_cli(capsys, "import", str(out))
    assert imported.code == 0, imported.err
    assert "from a FHIR Bundle" in imported.out and "Skipped" not in imported.out
    with VaultSession.open(second, PASSPHRASE, clock=clock) as vault:
        after = health_rows(vault)
        me = Settings(vault).current_patient_id()
        (daily,) = Journal(vault).page(me, JournalFilter()).entries
    for table in before:
        assert after[table] == before[table], table
    # The day's mood and sleep (from the shared entry) come back private, as a mood check.
    assert (daily.entry_date, daily.mood_scale, daily.sleep_hours, daily.privacy_level,
            daily.journal_type) == ("2026-11-19", 7, 8, "private", "mood_check")

    again = run_cli(capsys, "import", "--format", "fhir", str(out))
    assert again.code == 0 and "Imported 0 rows" in again.out
    with VaultSession.open(second, PASSPHRASE, clock=clock) as vault:
        assert health_rows(vault) == after
        assert Journal(vault).count(me) == 1


OTHER_TOOL = {
    "resourceType": "Bundle", "type": "searchset",
    "entry": [
        {"fullUrl": "https://clinic.example/fhir/Patient/p1", "resource": {
            "resourceType": "Patient", "id": "p1",
            "name": [{"family": "Doe", "given": ["Sam"]}], "gender": "male",
            "birthDate": "1975-02-03"}},
        {"fullUrl": "https://clinic.example/fhir/MedicationRequest/m1", "resource": {
            "resourceType": "MedicationRequest", "id": "m1", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/p1"},
            "authoredOn": "2026-09-01",
            "medicationCodeableConcept": {"coding": [{
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "314076",
                "display": "lisinopril 10 MG Oral Tablet"}]},
            "requester": {"display": "Dr Okafor"},
            "dosageInstruction": [{
                "text": "Take one tablet by mouth daily",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "route": {"text": "oral"},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}]}},
        {"fullUrl": "https://clinic.example/fhir/MedicationAdministration/a1", "resource": {
            "resourceType": "MedicationAdministration", "id": "a1", "status": "completed",
            "medicationCodeableConcept": {"text": "lisinopril 10 MG Oral Tablet"},
            "subject": {"reference": "Patient/p1"},
            "request": {"reference": "MedicationRequest/m1"},
            "effectiveDateTime": "2026-11-20T08:02:00Z"}},
        {"fullUrl": "https://clinic.example/fhir/Observation/o1", "resource": {
            "resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-11-20T07:55:00Z",
            "valueQuantity": {"value": 71, "unit": "beats/minute",
                              "system": "http://unitsofmeasure.org", "code": "/min"}}},
        {"fullUrl": "https://clinic.example/fhir/Observation/o2", "resource": {
            "resourceType": "Observation", "id": "o2", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "718-7",
                                 "display": "Hemoglobin [Mass/volume] in Blood"}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-11-19T10:00:00Z",
            "valueQuantity": {"value": 13.9, "unit": "g/dL",
                              "system": "http://unitsofmeasure.org", "code": "g/dL"}}},
        {"fullUrl": "https://clinic.example/fhir/Observation/o3", "resource": {
            "resourceType": "Observation", "id": "o3", "status": "entered-in-error",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2026-11-20T07:50:00Z",
            "valueQuantity": {"value": 17, "unit": "/min",
                              "system": "http://unitsofmeasure.org", "code": "/min"}}},
        {"fullUrl": "https://clinic.example/fhir/Condition/c1", "resource": {
            "resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
            "code": {"text": "Hypertension"}}},
        {"fullUrl": "https://clinic.example/fhir/Condition/c2", "resource": {
            "resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/p1"},
            "code": {"text": "Asthma"}}},
    ],
}


def test_a_bundle_from_another_tool_comes_in_with_what_was_skipped(session, clock):
    assert detect_format(OTHER_TOOL) == "fhir"
    result = Importer(session).import_document(copy.deepcopy(OTHER_TOOL))
    assert result.skipped == {"Condition": 2, "Observation with an unknown code": 1,
                              "Observation not final (entered in error, cancelled or only "
                              "registered)": 1}
    assert "Skipped 2 Condition, 1 Observation not final" in result.summary()
    assert result.counts == {"patients": 1, "medications": 1, "medication_events": 1,
                             "medication_doses": 1, "vitals": 1}

    def look():
        sam = Patient.get(Patient.name == "Sam Doe")
        med = Medication.get(Medication.patient == sam.id)
        dose = MedicationDose.get(MedicationDose.medication == med.id)
        vital = Vital.get(Vital.patient == sam.id)
        return sam, med, dose, vital

    sam, med, dose, vital = session.run(look)
    assert (sam.gender, sam.date_of_birth) == ("male", "1975-02-03")
    assert (med.name, med.dosage, med.frequency, med.route, med.start_date, med.active,
            med.prescribing_doctor) == ("lisinopril 10 MG Oral Tablet", "1 tablet",
                                        "once a day", "oral", "2026-09-01", 1, "Dr Okafor")
    assert dose.status == "taken" and dose.taken_at == dose.scheduled_at
    assert (vital.kind, vital.value, vital.unit) == ("heart_rate", 71, "bpm")

    again = Importer(session).import_document(copy.deepcopy(OTHER_TOOL))
    assert again.total == 0 and again.already_here == 4  # the patient and three rows
    assert session.run(look)[0].id == sam.id


def test_a_bundle_naming_no_patient_is_the_chosen_patients(session):
    observation = copy.deepcopy(OTHER_TOOL["entry"][3])
    del observation["resource"]["subject"]
    me = Settings(session).current_patient_id()
    result = Importer(session).import_document(
        {"resourceType": "Bundle", "type": "collection", "entry": [observation]})
    assert result.counts == {"vitals": 1}
    assert session.run(lambda: Vital.get().patient_id) == me


def _document_with(attachment: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "DocumentReference", "status": "current", "description": "Scan",
        "content": [{"attachment": attachment}]}}]}


@pytest.mark.parametrize(("bundle", "said"), [
    (_document_with({"data": "not base64!"}), "entry 1 (DocumentReference): attachment 1's "
                                              "data is not base64"),
    (_document_with({"data": base64.b64encode(b"abc").decode(), "hash": "AAAA"}),
     "does not match its hash"),
    (_document_with({"data": base64.b64encode(b"abc").decode(), "size": 4}),
     "is 3 bytes, not the 4 it says"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation",
                                                        "status": 5}}]},
     "entry 1 (Observation): status is not text"),
    ({"resourceType": "Bundle", "entry": {"resource": {}}}, "entry is not a list"),
    ({"resourceType": "Bundle", "entry": [{"fullUrl": "x"}]}, "entry 1 of the Bundle holds "
                                                              "no resource"),
])
def test_a_damaged_bundle_is_refused_with_a_sentence(bundle, said):
    with pytest.raises(ImportRejected, match=re.escape(said)):
        check_document(bundle)


def test_a_luna_export_is_not_a_fhir_bundle():
    with pytest.raises(ImportRejected, match="not a FHIR Bundle"):
        check_document({"format": "luna-export", "version": 2, "tables": {}}, "fhir")


def test_an_attachment_over_the_size_limit_is_skipped_not_imported(session):
    Settings(session).set("attachments.max_mb", 1)
    big = base64.b64encode(b"x" * 1_000_001).decode()
    result = Importer(session).import_document(_document_with({"data": big,
                                                                "title": "big.bin"}))
    assert result.counts == {"records": 1}
    assert result.skipped == {"attachment larger than the attachments.max_mb setting": 1}
    assert session.run(lambda: Attachment.select().count()) == 0


def test_a_files_name_and_type_are_what_luna_sees_not_what_the_bundle_claims(session):
    data = base64.b64encode(b"plain words\n").decode()
    result = Importer(session).import_document(_document_with({
        "data": data, "title": "../../home/me/.bashrc", "contentType": "text/plain\x1b[31m"}))
    assert result.counts == {"records": 1, "attachments": 1}
    attachment = session.run(lambda: Attachment.get())
    assert (attachment.file_name, attachment.mime_type) == (".bashrc", "text/plain")
    assert attachment.storage_path.startswith("attachments/")


def test_export_one_patients_bundle_from_the_command_line(session, tmp_path, capsys, script):
    fill_health(session, tmp_path)
    Patients(session).create("Mum", date_of_birth="1950-01-02")
    session.close()
    shown = run_cli(capsys, "export", "--format", "fhir", "--patient", "Mum")
    assert shown.code == 0
    patients = [e["resource"] for e in json.loads(shown.out)["entry"]]
    assert [(p["resourceType"], p["name"][0]["text"]) for p in patients] == [
        ("Patient", "Mum")]  # none of Alex's readings, medications or records
    assert "1 private journal entry was left out" in shown.err
    refused = run_cli(capsys, "export", "--format", "json", "--patient", "Mum")
    assert refused.code != 0 and "--patient chooses whose data a FHIR export" in refused.err


def test_what_luna_would_refuse_from_a_person_is_skipped_from_a_file(session):
    racing = copy.deepcopy(OTHER_TOOL["entry"][3])
    racing["resource"]["valueQuantity"]["value"] = 400  # no pulse is 400 a minute
    orphan = copy.deepcopy(OTHER_TOOL["entry"][3])
    orphan["resource"]["subject"] = {"reference": "Patient/nobody"}
    result = Importer(session).import_document({
        "resourceType": "Bundle", "type": "collection",
        "entry": [OTHER_TOOL["entry"][0], racing, orphan]})
    assert result.counts == {"patients": 1}
    assert result.skipped == {
        "Observation that Luna's checks refuse": 1,
        "Observation whose patient is not in the file (or was skipped)": 1}
