"""The medications place: the list, and the doses due on one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.medications import DoseSlot, Medications, MedicationView


@dataclass(frozen=True)
class MedicationsView:
    medications: list[MedicationView]
    doses: list[DoseSlot]


class MedicationsPlace(DomainService):
    @on_db_thread
    def overview(self, patient_id: str, day: dt.date, *,
                 include_stopped: bool = False) -> MedicationsView:
        medications = Medications(self.session)
        return MedicationsView(medications.list(patient_id, include_stopped=include_stopped),
                               medications.day_slots(patient_id, day))
