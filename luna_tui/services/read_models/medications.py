"""The medications place: the list, and the doses due on one day; and what `luna meds`
and `luna doses` show of it, from the same service calls, so shell and app agree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.medications import (
    Adherence,
    DoseSlot,
    DoseView,
    Medications,
    MedicationView,
)

SHELL_PERIODS = (7, 30)  # days: the adherence `luna meds` shows


@dataclass(frozen=True)
class MedicationsView:
    medications: list[MedicationView]
    doses: list[DoseSlot]


@dataclass(frozen=True)
class MedicationAdherence:
    medication: MedicationView
    adherence: dict[int, Adherence]  # days → doses over the last that many days


@dataclass(frozen=True)
class LoggedDose:
    dose: DoseView
    medication: MedicationView


class MedicationsPlace(DomainService):
    @on_db_thread
    def overview(self, patient_id: str, day: dt.date, *,
                 include_stopped: bool = False) -> MedicationsView:
        medications = Medications(self.session)
        return MedicationsView(medications.list(patient_id, include_stopped=include_stopped),
                               medications.day_slots(patient_id, day))

    @on_db_thread
    def adherence(self, patient_id: str, *, include_stopped: bool = False,
                  periods: tuple[int, ...] = SHELL_PERIODS) -> list[MedicationAdherence]:
        """Each medication with its adherence over the last `periods` days, counted as
        the place's details count it."""
        medications = Medications(self.session)
        return [MedicationAdherence(m, medications.recent_adherence(m.id, periods))
                for m in medications.list(patient_id, include_stopped=include_stopped)]

    @on_db_thread
    def dose_history(self, patient_id: str, start: dt.date, end: dt.date, *,
                     medication_id: str | None = None) -> list[LoggedDose]:
        """The doses logged from `start` to `end`, newest first, each with its medication."""
        medications = Medications(self.session)
        by_id = {m.id: m for m in medications.list(patient_id, include_stopped=True)}
        logged = [LoggedDose(dose, by_id[dose.medication_id])
                  for dose in medications.dose_history(patient_id, start, end,
                                                       medication_id=medication_id)]
        logged.sort(key=lambda entry: entry.medication.name.casefold())
        logged.sort(key=lambda entry: entry.dose.scheduled_at, reverse=True)  # stable
        return logged
