"""What one hand-off holds, read once: the health data of its scope (through the
health-data reader, which keeps private entries out) and what the PDF adds to it
(adherence per medication over the period, the dose changes as history, and the
insights page's rows, computed apart since they take seconds: insight_rows.py).

The PDF, the preview and the packet all take these plain dataclasses, so what the
preview counts is what the files hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.appointments import AppointmentView
from luna_tui.services.insights.rows import InsightRow
from luna_tui.services.medications import Adherence, EventView, MedicationView
from luna_tui.services.patients import PatientView
from luna_tui.services.records import RecordView
from luna_tui.services.vitals import VitalView


@dataclass(frozen=True)
class MedicationSummary:
    medication: MedicationView
    history: tuple[EventView, ...]  # started, dose changed, stopped, resumed: oldest first
    adherence: Adherence | None  # over the period; None when doses are not included


@dataclass(frozen=True)
class DayValue:
    day: dt.date
    value: float


@dataclass(frozen=True)
class SharedNote:
    """A journal entry the person marked for the therapist (only with "journal")."""

    day: dt.date
    title: str  # empty when the entry has none (its text is shown whole anyway)
    text: str


@dataclass(frozen=True)
class HandoffContents:
    patient: PatientView
    start: dt.date
    end: dt.date
    today: dt.date  # the day it is made: "upcoming" and the footer's date
    include: frozenset[str]
    medications: tuple[MedicationSummary, ...] = ()
    doses_logged: int = 0
    vitals: tuple[VitalView, ...] = ()
    mood: tuple[DayValue, ...] = ()  # the day's mood, 1-10, from non-private entries
    sleep: tuple[DayValue, ...] = ()  # hours slept, from non-private entries
    appointments: tuple[AppointmentView, ...] = ()  # upcoming
    records: tuple[RecordView, ...] = ()  # the chosen ones
    journal: tuple[SharedNote, ...] = ()
    insights: tuple[InsightRow, ...] = ()  # each change of the period × each measure

    def changes_in_period(self) -> list[EventView]:
        """The medication changes from the first day to the last, oldest first: the
        marks on the mood and sleep charts."""
        first, last = self.start.isoformat(), self.end.isoformat()
        return sorted((e for m in self.medications for e in m.history
                       if first <= e.event_date <= last),
                      key=lambda e: (e.event_date, e.medication_name))

    @property
    def attachments(self) -> int:
        return sum(len(r.attachments) for r in self.records)
