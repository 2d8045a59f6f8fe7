"""A vault holding some of everything health data is made of, for the tests of what
leaves the vault (FHIR export and import, the hand-off)."""

from __future__ import annotations

from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments
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
