"""Reading a hand-off: the health data of its scope, once, through the health-data
reader (services/health_data.py: private entries never leave), and the contents the
PDF and the preview show, made from that same data.

A hand-off looks ahead as well as back: its appointments are the upcoming ones (from
today on, not cancelled), whatever the period, since those are what a clinician plans
with. They replace the period's own in the data the Bundle is written from, so the PDF,
the .ics and the Bundle hold the same visits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from luna_tui.services.appointments import OPEN_STATUSES, AppointmentView
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.handoff.choices import HandoffChoice
from luna_tui.services.handoff.contents import (
    DayValue,
    HandoffContents,
    MedicationSummary,
    SharedNote,
)
from luna_tui.services.health_data import HealthData, HealthDataReader, HealthScope, PatientHealth
from luna_tui.services.medications import Medications
from luna_tui.store.models.base import database


@dataclass(frozen=True)
class HandoffRead:
    health: HealthData  # what the FHIR Bundle is written from
    contents: HandoffContents  # the same, as the PDF and the preview show it


class HandoffReader(DomainService):
    @on_db_thread
    def read(self, choice: HandoffChoice) -> HandoffRead:
        """Everything a hand-off of `choice` holds, read in one snapshot."""
        reader = HealthDataReader(self.session)
        with database.atomic():  # a read transaction: the reads below agree
            data = reader.read(choice.scope())
            health = data.patients[0]
            if "appointments" in choice.include:
                health = dataclasses.replace(
                    health, appointments=self._upcoming(reader, choice.patient_id))
            return HandoffRead(HealthData(data.scope, (health,)),
                               self._contents(health, choice))

    def _upcoming(self, reader: HealthDataReader, patient_id: str
                  ) -> tuple[AppointmentView, ...]:
        ahead = reader.read(HealthScope(patient_ids=(patient_id,), start=self.today(),
                                        include=frozenset({"appointments"})))
        return tuple(a for a in ahead.patients[0].appointments if a.status in OPEN_STATUSES)

    def _contents(self, health: PatientHealth, choice: HandoffChoice) -> HandoffContents:
        medications = Medications(self.session)
        doses = "doses" in choice.include
        return HandoffContents(
            patient=health.patient, start=choice.start, end=choice.end, today=self.today(),
            include=choice.include,
            medications=tuple(MedicationSummary(
                h.medication, h.events,
                medications.adherence(h.medication.id, choice.start, choice.end)
                if doses else None) for h in health.medications),
            doses_logged=len(health.doses),
            vitals=health.vitals,
            mood=tuple(DayValue(dt.date.fromisoformat(d.day), d.mood_scale)
                       for d in health.daily if d.mood_scale is not None),
            sleep=tuple(DayValue(dt.date.fromisoformat(d.day), d.sleep_hours)
                        for d in health.daily if d.sleep_hours is not None),
            appointments=health.appointments,
            records=tuple(r.record for r in health.records),
            journal=tuple(SharedNote(dt.date.fromisoformat(e.entry_date), e.title or "",
                                     e.content) for e in health.journal))
