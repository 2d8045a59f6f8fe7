"""What a vitals chart shows: one kind's readings over a period, with the journal's
mood and sleep on the same days and the medication changes among them, so a dose
change can be seen against how the person felt and slept.

Readings of one kind may be in several units (kg one week, lb the next); they are
drawn in the unit of the newest reading, converted where a conversion is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.journal import Journal
from luna_tui.services.medications import Medications
from luna_tui.services.validation import choice
from luna_tui.services.vitals import KINDS, Reading, Vitals, normalise_kind

PERIODS = ("30d", "90d", "1y", "all")
PERIOD_DAYS = {"30d": 30, "90d": 90, "1y": 365}
PERIOD_WORDS = {"30d": "the last 30 days", "90d": "the last 90 days", "1y": "the last year",
                "all": "all time, by week"}

LB_PER_KG = 2.20462
MG_DL_PER_MMOL_L = 18.016  # glucose
_CONVERSIONS: dict[tuple[str, str], Callable[[float], float]] = {
    ("kg", "lb"): lambda v: v * LB_PER_KG,
    ("lb", "kg"): lambda v: v / LB_PER_KG,
    ("°C", "°F"): lambda v: v * 9 / 5 + 32,
    ("°F", "°C"): lambda v: (v - 32) * 5 / 9,
    ("mmol/L", "mg/dL"): lambda v: v * MG_DL_PER_MMOL_L,
    ("mg/dL", "mmol/L"): lambda v: v / MG_DL_PER_MMOL_L,
}


def kind_label(kind: str) -> str:
    """How a kind is named on screen: 'Blood pressure', or 'Peak flow' for one's own."""
    known = KINDS.get(kind)
    return known.label if known else kind.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ChartPoint:
    moment: str  # local YYYY-MM-DDTHH:MM
    value: float
    value2: float | None  # the diastolic of a blood pressure


@dataclass(frozen=True)
class DayValue:
    day: str  # YYYY-MM-DD
    value: float


@dataclass(frozen=True)
class ChartEvent:
    day: str
    medication: str
    event_type: str  # started, stopped, dose_changed, resumed
    old_dose: str | None
    new_dose: str | None

    @property
    def summary(self) -> str:
        """The whole change in words: 'Metformin 500 mg → 1000 mg'."""
        if self.event_type == "dose_changed":
            return f"{self.medication} {_dose_change(self.old_dose, self.new_dose)}"
        dose = self.new_dose or self.old_dose
        return f"{self.medication} {self.event_type}" + (f" ({dose})" if dose else "")

    @property
    def short_label(self) -> str:
        """A few words beside the marker on the chart."""
        if self.event_type == "dose_changed":
            return f"{self.medication} {self.new_dose or ''}".strip()
        return f"{self.medication} {self.event_type}"


@dataclass(frozen=True)
class ChartData:
    kind: str
    label: str  # "Weight", "Peak flow"
    unit: str  # "" for a person's own kind with no readings yet
    second_label: str | None  # "diastolic" for blood pressure
    period: str
    start: dt.date
    end: dt.date
    points: tuple[ChartPoint, ...]
    mood: tuple[DayValue, ...]
    sleep: tuple[DayValue, ...]
    events: tuple[ChartEvent, ...]
    other_units: int = 0  # readings left out: in a unit that can't be converted

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def period_words(self) -> str:
        return PERIOD_WORDS[self.period]


class HealthChart(DomainService):
    @on_db_thread
    def data(self, patient_id: str, kind: str, period: str = "30d") -> ChartData:
        """Everything one chart needs, gathered in one trip to the DB thread."""
        period = choice(period, "period", PERIODS)
        kind = normalise_kind(kind)
        end = self.today()
        start = None if period == "all" else end - dt.timedelta(days=PERIOD_DAYS[period] - 1)
        # Years of days are more points than a terminal has columns: "all" is by week.
        by_week = period == "all"
        readings = Vitals(self.session).readings(patient_id, kind, start, end, by_week=by_week)
        scores = Journal(self.session).mood_and_sleep(patient_id, start or dt.date.min, end,
                                                      by_week=by_week)
        mood = [(day, value) for day, value, _sleep in scores if value is not None]
        sleep = [(day, value) for day, _mood, value in scores if value is not None]
        if start is None:
            start = _earliest(readings, mood, sleep, end)
        events = Medications(self.session).events(patient_id, start=start, end=end)
        known = KINDS.get(kind)
        unit = readings[-1].unit if readings else (known.default_unit if known else "")
        points = [_in_unit(r, unit) for r in readings]
        return ChartData(
            kind=kind, label=kind_label(kind), unit=unit,
            second_label=known.second_value if known else None, period=period,
            start=start, end=end, points=tuple(p for p in points if p is not None),
            mood=tuple(DayValue(day, value) for day, value in mood),
            sleep=tuple(DayValue(day, value) for day, value in sleep),
            events=tuple(ChartEvent(e.event_date, e.medication_name, e.event_type,
                                    e.old_value, e.new_value) for e in events),
            other_units=points.count(None))


def _dose_change(old: str | None, new: str | None) -> str:
    """'50 mg → 100 mg', or '50 → 100 mg' when both are in the same unit."""
    old_amount, _, old_unit = (old or "?").partition(" ")
    new_unit = (new or "?").partition(" ")[2]
    if old_unit and old_unit == new_unit:
        return f"{old_amount} → {new}"
    return f"{old or '?'} → {new or '?'}"


def _earliest(readings: list[Reading], mood: list[tuple[str, float]],
              sleep: list[tuple[str, float]], end: dt.date) -> dt.date:
    """The first day of any series ("all" starts there), or today when all are empty."""
    firsts = [readings[0].measured_at[:10]] if readings else []
    firsts += [series[0][0] for series in (mood, sleep) if series]
    return min([dt.date.fromisoformat(day) for day in firsts] + [end])


def _in_unit(reading: Reading, unit: str) -> ChartPoint | None:
    """The reading as a point in `unit`; None when its own unit can't be converted."""
    value, value2 = reading.value, reading.value2
    if reading.unit != unit:
        convert = _CONVERSIONS.get((reading.unit, unit))
        if convert is None:
            return None
        value, value2 = convert(value), None if value2 is None else convert(value2)
    return ChartPoint(reading.measured_at, value, value2)
