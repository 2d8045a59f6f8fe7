"""A vault worth handing to a doctor, for the hand-off's tests (service, shell, app):
dates are days from the clock's today, so the tests pass on any date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from luna_tui.services.appointments import Appointments
from luna_tui.services.attachments import Attachments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals

CANARY = "canary-7f3a-private-entry"  # the private entry's text: never in a hand-off
SHARED_TEXT = "Talked about the night sweats"


@dataclass(frozen=True)
class Filled:
    patient_id: str
    chosen_record: str  # "HbA1c result", with a file
    other_record: str  # "Knee MRI", never chosen
    start: dt.date  # the period the tests hand off: 30 days up to today
    end: dt.date


def fill(session, today: dt.date, folder: Path) -> Filled:
    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    me = Settings(session).current_patient_id()
    Patients(session).update(me, name="Zoë Adler", date_of_birth="1980-05-06",
                             allergies="penicillin", primary_doctor="Dr Rivera",
                             doctor_phone="555 0100")
    meds = Medications(session)
    metformin = meds.create(me, "Metformin", "500 mg", "twice daily",
                            start_date=day(-60))
    meds.update(metformin.id, dosage="850 mg", effective=day(-10))
    meds.log_dose(metformin.id, "taken", slot=f"{day(-2)}T08:00", taken_at=f"{day(-2)}T08:05")
    meds.log_dose(metformin.id, "missed", slot=f"{day(-2)}T20:00")
    vitals = Vitals(session)
    for offset, (systolic, diastolic, pulse) in zip(
            (-20, -12, -5, -1), ((128, 84, 72), (131, 86, 70), (124, 80, 66), (122, 79, 64)),
            strict=True):
        vitals.record(me, "blood_pressure", systolic, diastolic, measured_at=f"{day(offset)} 08:00")
        vitals.record(me, "heart_rate", pulse, measured_at=f"{day(offset)} 08:01")
    journal = Journal(session)
    journal.create(me, EntryDraft(content=SHARED_TEXT, entry_date=day(-6), mood_scale=7,
                                  sleep_hours=8, privacy_level="shared"))
    journal.create(me, EntryDraft(content=CANARY, title=CANARY, entry_date=day(-4),
                                  mood_scale=1, sleep_hours=2, privacy_level="private"))
    appointments = Appointments(session)
    appointments.create(me, day(5), appointment_time="09:30", provider_name="Dr Okafor",
                        appointment_type="specialist", reason="knee review")
    appointments.create(me, day(-3), provider_name="Dr Past", appointment_type="routine")
    records = Records(session)
    chosen = records.create(me, record_type="lab", title="HbA1c result", event_date=day(-15),
                            description="Long-term glucose, 6.1 %")
    other = records.create(me, record_type="imaging", title="Knee MRI", event_date=day(-8))
    source = folder / "hba1c.txt"
    source.write_bytes(b"HbA1c 6.1 percent\n")
    Attachments(session).add(chosen.id, source)
    return Filled(me, chosen.id, other.id, today - dt.timedelta(days=30), today)
