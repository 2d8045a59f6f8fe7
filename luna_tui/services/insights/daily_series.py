"""The daily series insights compare: one number a day for mood, sleep and each vital.

- mood: the mean of the day's journal entries' mood scale (1–10). Private entries count
  unless `include_private` is off: the person sees their own insights with them, a
  packet for someone else (the hand-off) leaves them out.
- sleep: the mean of the day's journal `sleep_hours`; on a day without any, the mean of
  that day's `sleep` vital readings (hours). One sleep series, not two, so the same
  nights are not analysed twice; the `sleep` vital is not a measure of its own.
- each other vital kind: the day's mean reading, in the unit of the newest reading of
  the kind (readings in another unit are left out); a blood pressure is two series,
  systolic and diastolic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import fn

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.health_chart import kind_label
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.vitals import Vital

SLEEP_KIND = "sleep"
BLOOD_PRESSURE = "blood_pressure"


@dataclass(frozen=True)
class Measure:
    key: str  # "mood", "sleep", "weight", "blood_pressure_systolic"
    label: str  # "Mood", "Blood pressure (systolic)"
    unit: str  # "" for mood, "h", "kg", "mmHg"
    days: dict[str, float] = field(default_factory=dict)  # YYYY-MM-DD → the day's value

    @property
    def source(self) -> str:
        """What it is read from, as a hand-off names its kinds: mood, sleep or vitals."""
        return self.key if self.key in ("mood", "sleep") else "vitals"

    def between(self, first: dt.date, days: int) -> list[float | None]:
        """`days` values from `first` on, None for a day without data."""
        return [self.days.get((first + dt.timedelta(days=i)).isoformat())
                for i in range(days)]


class DailySeries(DomainService):
    @on_db_thread
    def measures(self, patient_id: str, start: dt.date, end: dt.date, *,
                 include_private: bool = True) -> list[Measure]:
        """Mood and sleep (when there is any), then each vital kind, from `start` to
        `end` (inclusive); a measure with no day in the range is left out."""
        mood, sleep = self._journal(patient_id, start, end, include_private)
        vitals = self._vitals(patient_id, start, end)
        for day, hours in vitals.pop(SLEEP_KIND, ("h", {}))[1].items():
            sleep.setdefault(day, hours)
        measures = [Measure("mood", "Mood", "", mood),
                    Measure("sleep", "Sleep", "h", dict(sorted(sleep.items())))]
        for kind, (unit, days) in sorted(vitals.items()):
            if kind == BLOOD_PRESSURE:
                measures.append(Measure(f"{kind}_systolic", "Blood pressure (systolic)", unit,
                                        {day: pair[0] for day, pair in days.items()}))
                measures.append(Measure(f"{kind}_diastolic", "Blood pressure (diastolic)",
                                        unit, {day: pair[1] for day, pair in days.items()
                                               if pair[1] is not None}))
            else:
                measures.append(Measure(kind, kind_label(kind), unit,
                                        {day: pair[0] for day, pair in days.items()}))
        return [m for m in measures if m.days]

    def _journal(self, patient_id: str, start: dt.date, end: dt.date,
                 include_private: bool) -> tuple[dict[str, float], dict[str, float]]:
        query = (JournalEntry.select(JournalEntry.entry_date, fn.AVG(JournalEntry.mood_scale),
                                     fn.AVG(JournalEntry.sleep_hours))
                 .where(JournalEntry.patient == patient_id,
                        JournalEntry.entry_date.between(start.isoformat(), end.isoformat()),
                        JournalEntry.mood_scale.is_null(False)
                        | JournalEntry.sleep_hours.is_null(False)))
        if not include_private:
            query = query.where(JournalEntry.privacy_level != "private")
        mood, sleep = {}, {}
        for day, mood_mean, sleep_mean in query.group_by(JournalEntry.entry_date).tuples():
            if mood_mean is not None:
                mood[day] = float(mood_mean)
            if sleep_mean is not None:
                sleep[day] = float(sleep_mean)
        return mood, sleep

    def _vitals(self, patient_id: str, start: dt.date, end: dt.date
                ) -> dict[str, tuple[str, dict[str, tuple[float, float | None]]]]:
        """kind → (unit, day → (mean value, mean second value)), in the unit of each
        kind's newest reading."""
        query = (Vital.select(Vital.kind, Vital.measured_at, Vital.value, Vital.value2,
                              Vital.unit)
                 .where(Vital.patient == patient_id,
                        Vital.measured_at.between(f"{start.isoformat()}T00:00",
                                                  f"{end.isoformat()}T23:59"))
                 .order_by(Vital.kind, Vital.measured_at))
        readings: dict[str, list[tuple[str, float, float | None, str]]] = defaultdict(list)
        for kind, moment, value, value2, unit in query.tuples():
            readings[kind].append((moment[:10], value, value2, unit))
        return {kind: (rows[-1][3], _daily_means(rows, rows[-1][3]))
                for kind, rows in readings.items()}


def _daily_means(rows: list[tuple[str, float, float | None, str]], unit: str
                 ) -> dict[str, tuple[float, float | None]]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0.0, 0])
    for day, value, value2, row_unit in rows:
        if row_unit != unit:
            continue
        total = sums[day]
        total[0] += value
        total[1] += 1
        if value2 is not None:
            total[2] += value2
            total[3] += 1
    return {day: (t[0] / t[1], t[2] / t[3] if t[3] else None) for day, t in sums.items()}
