"""The medication changes insights look at, and what else could explain what followed
them: another medication changed inside the window, or the medication itself taken on
fewer than 80 % of its scheduled doses there. Confounders are sentences, shown as they
are on the screen, in `luna insights` and in the hand-off packet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.medications import Medications

EVENT_WORDS = {"started": "started", "stopped": "stopped", "dose_changed": "dose changed",
               "resumed": "resumed"}
LOW_ADHERENCE = 80.0  # percent of scheduled doses taken (on time or late)


@dataclass(frozen=True)
class MedicationChange:
    medication_id: str
    medication: str
    event: str  # started, stopped, dose changed, resumed
    day: dt.date
    old_value: str | None
    new_value: str | None

    @property
    def title(self) -> str:
        """'Metformin started', 'Metformin dose changed (500 mg → 1000 mg)'."""
        if self.event == "dose changed" and (self.old_value or self.new_value):
            return (f"{self.medication} dose changed ({self.old_value or '?'} → "
                    f"{self.new_value or '?'})")
        return f"{self.medication} {self.event}"


def day_words(day: dt.date) -> str:
    """'2 Nov 2026', as the sentences say a date."""
    return f"{day.day} {day.strftime('%b %Y')}"


class MedicationChanges(DomainService):
    @on_db_thread
    def changes(self, patient_id: str, start: dt.date | None = None,
                end: dt.date | None = None) -> list[MedicationChange]:
        """Starts, stops, dose changes and resumptions, oldest first."""
        return [MedicationChange(e.medication_id, e.medication_name, EVENT_WORDS.get(
                    e.event_type, e.event_type.replace("_", " ")),
                    dt.date.fromisoformat(e.event_date), e.old_value, e.new_value)
                for e in Medications(self.session).events(patient_id, start=start, end=end)]

    @on_db_thread
    def confounders(self, change: MedicationChange, others: list[MedicationChange],
                    first: dt.date, last: dt.date) -> list[str]:
        """What else happened from `first` to `last` (the window around `change`)."""
        sentences = [_other_change(change, other) for other in others
                     if other != change and first <= other.day <= last]
        adherence = Medications(self.session).adherence(change.medication_id, first, last)
        percent = adherence.percent
        if percent is not None and percent < LOW_ADHERENCE:
            sentences.append(
                f"{change.medication} was taken on {percent:.0f} % of its scheduled doses "
                f"in the window ({adherence.taken + adherence.late} of {adherence.expected}; "
                f"below {LOW_ADHERENCE:.0f} %).")
        return sentences

    @on_db_thread
    def daily_adherence(self, medication_id: str, start: dt.date, end: dt.date
                        ) -> dict[str, float]:
        """Day → percent of the day's scheduled doses taken, for each day with any
        dose scheduled."""
        medications = Medications(self.session)
        days = {}
        day = start
        while day <= end:
            percent = medications.adherence(medication_id, day, day).percent
            if percent is not None:
                days[day.isoformat()] = percent
            day += dt.timedelta(days=1)
        return days


def _other_change(change: MedicationChange, other: MedicationChange) -> str:
    apart = (other.day - change.day).days
    when = ("the same day" if apart == 0 else
            f"{abs(apart)} day{'s' if abs(apart) != 1 else ''} "
            f"{'after' if apart > 0 else 'before'}")
    return f"{other.title} on {day_words(other.day)}, {when}."
