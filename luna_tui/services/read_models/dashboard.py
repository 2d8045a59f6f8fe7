"""The dashboard: today's doses, the next appointments, the month's mood, the latest
vitals and entries of one patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.appointments import Appointments, AppointmentView
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.journal import Entry, Journal
from luna_tui.services.medications import DoseSlot, Medications
from luna_tui.services.vitals import Vitals, VitalView

LATEST_ENTRIES = 6
NEXT_APPOINTMENTS = 4
MOOD_DAYS = 30


@dataclass(frozen=True)
class DashboardView:
    doses: list[DoseSlot]
    appointments: list[AppointmentView]
    moods: list[tuple[str, float]]  # (day, average mood scale), oldest first
    entries: list[Entry]
    vitals: dict[str, VitalView]  # the newest reading of each kind


class Dashboard(DomainService):
    @on_db_thread
    def today(self, patient_id: str, today: dt.date) -> DashboardView:
        journal = Journal(self.session)
        return DashboardView(
            doses=Medications(self.session).day_slots(patient_id, today),
            appointments=Appointments(self.session).upcoming(
                patient_id, limit=NEXT_APPOINTMENTS).appointments,
            moods=journal.mood_series(patient_id, today - dt.timedelta(days=MOOD_DAYS - 1),
                                      today),
            entries=journal.page(patient_id, limit=LATEST_ENTRIES).entries,
            vitals=Vitals(self.session).latest(patient_id),
        )
