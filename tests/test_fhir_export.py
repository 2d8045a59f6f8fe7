"""FHIR R4 out: what the vault holds becomes a Bundle that an independent implementation
(fhir.resources' R4B models, accepted as the R4 check) parses, with the right codes and
units, ids stable from one export to the next, and nothing of a private entry in it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments
from luna_tui.services.fhir.writing import bundle
from luna_tui.services.health_data import INCLUDABLE, HealthDataReader, HealthScope
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals

PRIVATE_CANARY = "canary-of-the-private-entry"
EVERY_READING = [  # kind, value, value2, unit
    ("weight", 72.5, None, "kg"), ("weight", 160, None, "lb"),
    ("blood_pressure", 128, 82, "mmHg"), ("heart_rate", 64, None, "bpm"),
    ("temperature", 37.2, None, "°C"), ("temperature", 99.1, None, "°F"),
    ("spo2", 97, None, "%"), ("glucose", 5.4, None, "mmol/L"),
    ("glucose", 98, None, "mg/dL"), ("sleep", 7.5, None, "h"),
    ("peak_flow", 420, None, "L/min"),
]


def fill_health(session, tmp_path) -> str:
    """A patient with every kind of reading, a medication whose dose changed and one
    stopped, doses logged, appointments, a record with a file, and journal entries:
    one shared (mood 7, sleep 8) and one private (mood 2, sleep 3)."""
    me = Settings(session).current_patient_id()
    Patients(session).update(me, name="Alex Doe", date_of_birth="1980-05-06",
                             gender="female", phone="555 0100", allergies="penicillin",
                             primary_doctor="Dr Rivera")
    vitals = Vitals(session)
    for minute, (kind, value, value2, unit) in enumerate(EVERY_READING):
        vitals.record(me, kind, value, value2, unit=unit,
                      measured_at=f"2026-11-20 08:{minute:02d}", notes=f"reading {minute}")
    meds = Medications(session)
    metformin = meds.create(me, "Metformin", "500 mg", "twice daily", route="oral",
                            start_date="2026-10-01", pharmacy="Corner pharmacy")
    meds.update(metformin.id, dosage="850 mg", effective="2026-11-01")
    ibuprofen = meds.create(me, "Ibuprofen", "200 mg", "once daily",
                            start_date="2026-11-02")
    meds.stop(ibuprofen.id, on="2026-11-10", reason="stomach ache")
    meds.log_dose(metformin.id, "taken", slot="2026-11-21T08:00",
                  taken_at="2026-11-21T08:05")
    meds.log_dose(metformin.id, "missed", slot="2026-11-21T20:00", notes="asleep")
    appointments = Appointments(session)
    appointments.create(me, "2026-11-25", appointment_time="14:30", duration_minutes=30,
                        provider_name="Dr Rivera", location="Health centre",
                        reason="diabetes review", appointment_type="follow_up")
    appointments.create(me, "2026-12-03", appointment_type="specialist")
    record = Records(session).create(me, record_type="lab", title="HbA1c",
                                     text="6.1 %", event_date="2026-11-15",
                                     tags=["diabetes"])
    source = tmp_path / "hba1c.txt"
    source.write_bytes(b"HbA1c 6.1 percent\n")
    Attachments(session).add(record.id, source)
    journal = Journal(session)
    journal.create(me, EntryDraft(content="A good day", entry_date="2026-11-19",
                                  mood_scale=7, sleep_hours=8, privacy_level="shared"))
    journal.create(me, EntryDraft(content=PRIVATE_CANARY, entry_date="2026-11-18",
                                  mood_scale=2, sleep_hours=3, emotions=["hopeless"],
                                  privacy_level="private"))
    return me


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
    assert composition["subject"]["reference"] == next(
        e["fullUrl"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient")
    sections = {s["code"]["coding"][0]["code"] for s in composition["section"]}
    assert {"10160-0", "8716-3", "18776-5", "48765-2"} <= sections
    assert document["identifier"]["value"] and document["timestamp"]
    assert me  # one patient: the document's subject


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
    from luna_tui.errors import ValidationError

    fill_health(session, tmp_path)
    Patients(session).create("Mum")
    data = HealthDataReader(session).read(HealthScope(include=frozenset(INCLUDABLE)))
    with pytest.raises(ValidationError):
        bundle(data, kind="document", now=clock.now())
