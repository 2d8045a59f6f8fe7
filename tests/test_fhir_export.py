"""FHIR R4 out: what the vault holds becomes a Bundle that an independent implementation
(fhir.resources' R4B models, accepted as the R4 check) parses, with the right codes and
units, ids stable from one export to the next, and nothing of a private entry in it."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from health_vault import EVERY_READING, PRIVATE_CANARY, fill_health

from conftest import OTHER_PASSPHRASE
from luna_tui.errors import ValidationError
from luna_tui.services.fhir.exporting import FhirExporter
from luna_tui.services.fhir.writing import bundle
from luna_tui.services.health_data import INCLUDABLE, HealthDataReader, HealthScope
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.patients import Patients
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent


def exported(session, clock, **scope) -> dict:
    data = HealthDataReader(session).read(HealthScope(**{"attachments": True, **scope}))
    return bundle(data, kind="collection", now=clock.now())


def resources(document: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


def codings(resource: dict) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in resource["code"].get("coding", [])}


def test_every_bundle_luna_writes_parses_as_fhir(session, clock, tmp_path):
    me = fill_health(session, tmp_path)
    data = HealthDataReader(session).read(HealthScope(attachments=True))
    for document in (bundle(data, kind="collection", now=clock.now()),
                     bundle(data, kind="document", now=clock.now(), title="For Dr Rivera")):
        parsed = Bundle.model_validate_json(json.dumps(document))
        assert parsed.type == document["type"]
    document = bundle(data, kind="document", now=clock.now())
    composition = document["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    (patient,) = [e for e in document["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert composition["subject"]["reference"] == patient["fullUrl"]
    assert patient["resource"]["identifier"][0]["value"] == me
    sections = {s["code"]["coding"][0]["code"] for s in composition["section"] if "code" in s}
    assert {"10160-0", "8716-3", "18776-5", "48765-2"} <= sections
    assert document["identifier"]["value"] and document["timestamp"]


def test_vitals_carry_loinc_codes_and_ucum_units(session, clock, tmp_path):
    fill_health(session, tmp_path)
    observations = resources(exported(session, clock), "Observation")
    by_note = {o["note"][0]["text"]: o for o in observations if "note" in o}
    expected = {  # reading index → (LOINC code, UCUM code)
        0: ("29463-7", "kg"), 1: ("29463-7", "[lb_av]"), 3: ("8867-4", "/min"),
        4: ("8310-5", "Cel"), 5: ("8310-5", "[degF]"), 6: ("59408-5", "%"),
        7: ("15074-8", "mmol/L"), 8: ("2339-0", "mg/dL"), 9: ("93832-4", "h")}
    for index, (loinc, ucum) in expected.items():
        observation = by_note[f"reading {index}"]
        assert codings(observation) == {("http://loinc.org", loinc)}
        quantity = observation["valueQuantity"]
        assert (quantity["system"], quantity["code"]) == ("http://unitsofmeasure.org", ucum)
        assert quantity["value"] == EVERY_READING[index][1]
        assert observation["category"][0]["coding"][0]["code"] == "vital-signs"
    pressure = by_note["reading 2"]
    assert codings(pressure) == {("http://loinc.org", "85354-9")}
    assert "valueQuantity" not in pressure
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"],
             c["valueQuantity"]["code"]) for c in pressure["component"]] == [
        ("8480-6", 128, "mm[Hg]"), ("8462-4", 82, "mm[Hg]")]
    made_up = by_note["reading 10"]
    assert "http://loinc.org" not in {s for s, _ in codings(made_up)}
    assert made_up["valueQuantity"] == {"value": 420, "unit": "L/min"}  # no UCUM guessed


def test_a_private_entry_never_leaves_nor_its_mood_or_sleep(session, clock, tmp_path):
    fill_health(session, tmp_path)
    document = exported(session, clock)
    text = json.dumps(document, ensure_ascii=False)
    assert PRIVATE_CANARY not in text and "hopeless" not in text
    daily = {(o["effectiveDateTime"], o["code"]["coding"][0]["code"]):
             o["valueQuantity"]["value"] for o in resources(document, "Observation")
             if o["category"][0]["coding"][0]["code"] == "survey"}
    assert daily == {("2026-11-19", "mood-scale"): 7, ("2026-11-19", "93832-4"): 8}
    with_private = exported(session, clock, include_private=True)
    days = {o["effectiveDateTime"] for o in resources(with_private, "Observation")}
    assert "2026-11-18" in days  # asked for by name, it does leave


def test_the_scope_decides_the_parts_and_the_period(session, clock, tmp_path):
    me = fill_health(session, tmp_path)
    reader = HealthDataReader(session)
    only_mood = reader.read(HealthScope(include=frozenset({"mood"})))
    health = only_mood.patients[0]
    assert [(d.day, d.mood_scale, d.sleep_hours) for d in health.daily] == [
        ("2026-11-19", 7, None)]
    assert not (health.vitals or health.medications or health.journal or health.records)
    journal = reader.read(HealthScope(include=frozenset({"journal"}))).patients[0].journal
    assert [e.content for e in journal] == ["A good day"]  # shared only
    period = reader.read(HealthScope(start=dt.date(2026, 11, 21), end=dt.date(2026, 11, 30),
                                     patient_ids=(me,))).patients[0]
    assert not period.vitals and not period.records  # those are from the 20th and 15th
    assert [d.dose.status for d in period.doses] == ["taken", "missed"]
    assert [m.medication.name for m in period.medications] == ["Metformin"]  # ibuprofen ended
    assert [a.appointment_date for a in period.appointments] == ["2026-11-25"]
    without_files = reader.read(HealthScope()).patients[0].records[0].files[0]
    assert without_files.content is None


def test_medications_doses_appointments_and_records(session, clock, tmp_path):
    fill_health(session, tmp_path)
    document = exported(session, clock)
    statements = {s["medicationCodeableConcept"]["text"]: s
                  for s in resources(document, "MedicationStatement")}
    metformin = statements["Metformin"]
    assert metformin["status"] == "active"
    assert metformin["dosage"][0]["text"] == "850 mg, twice daily"
    assert metformin["effectivePeriod"] == {"start": "2026-10-01"}
    assert "2026-11-01 dose changed: 500 mg → 850 mg" in [n["text"] for n in metformin["note"]]
    assert statements["Ibuprofen"]["status"] == "stopped"
    assert statements["Ibuprofen"]["effectivePeriod"] == {"start": "2026-11-02",
                                                          "end": "2026-11-10"}
    doses = resources(document, "MedicationAdministration")
    assert sorted(d["status"] for d in doses) == ["completed", "not-done"]
    metformin_url = next(e["fullUrl"] for e in document["entry"]
                         if e["resource"] is metformin)
    assert {d["supportingInformation"][0]["reference"] for d in doses} == {metformin_url}
    visits = resources(document, "Appointment")
    assert sorted(v["status"] for v in visits) == ["booked", "booked"]
    timed = next(v for v in visits if v.get("reasonCode"))
    start, end = (dt.datetime.fromisoformat(timed[k]) for k in ("start", "end"))
    assert end - start == dt.timedelta(minutes=30)
    assert start.replace(tzinfo=None) == dt.datetime(2026, 11, 25, 14, 30)
    (document_reference,) = resources(document, "DocumentReference")
    (content,) = document_reference["content"]
    assert content["attachment"]["data"] == "SGJBMWMgNi4xIHBlcmNlbnQK"
    assert content["attachment"]["title"] == "hba1c.txt"


def test_resource_ids_are_the_same_in_two_exports(session, clock, tmp_path):
    fill_health(session, tmp_path)
    first = exported(session, clock)
    clock.moment += dt.timedelta(hours=3)
    second = exported(session, clock)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in first["entry"])
    assert len({e["fullUrl"] for e in first["entry"]}) == len(first["entry"])


def test_a_document_is_one_patients(session, clock, tmp_path):
    fill_health(session, tmp_path)
    Patients(session).create("Mum")
    data = HealthDataReader(session).read(HealthScope(include=frozenset(INCLUDABLE)))
    with pytest.raises(ValidationError):
        bundle(data, kind="document", now=clock.now())


def test_a_document_shows_shared_entries_as_text_and_never_a_private_one(session, clock,
                                                                       tmp_path):
    fill_health(session, tmp_path)
    reader = HealthDataReader(session)
    document = bundle(reader.read(HealthScope()), kind="document", now=clock.now())
    Bundle.model_validate(document)
    sections = {s["title"]: s for s in document["entry"][0]["resource"]["section"]}
    journal = sections["Journal entries shared with the therapist"]["text"]["div"]
    assert "A good day" in journal and "mood 7/10" in journal
    assert PRIVATE_CANARY not in json.dumps(document)
    without = bundle(reader.read(HealthScope(include=frozenset(INCLUDABLE) - {"journal"})),
                     kind="document", now=clock.now())
    assert "A good day" not in json.dumps(without)
    collection = bundle(reader.read(HealthScope()), kind="collection", now=clock.now())
    assert "A good day" not in json.dumps(collection)  # a collection holds data, not text


def test_a_fhir_export_is_audited_and_allowed_for_read_only_keys(layout, session, clock):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE, clock=clock) as reader:
        out = io.StringIO()
        counts = FhirExporter(reader).write(out, include_private=True)
        last = reader.run(lambda: AuditEvent.select().order_by(AuditEvent.seq.desc()).get())
    assert counts == {"Patient": 1} and json.loads(out.getvalue())["type"] == "collection"
    assert last.event_name == "export.fhir"
    assert json.loads(last.diff)["private_entries"] == [None, True]
