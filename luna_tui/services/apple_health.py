"""Apple Health's export.xml as Luna readings.

Taken: heart rate, blood pressure (a systolic and a diastolic record of the same source
and times make one reading, whether they come inside an
HKCorrelationTypeIdentifierBloodPressure or on their own), body mass, body temperature,
oxygen saturation (Apple stores a fraction: 0.97 becomes 97 %), blood glucose (mg/dL or
mmol/L) and sleep analysis. Everything else is counted and left out.

Times are the wall-clock times the file gives (the phone's own time zone), as Luna keeps
times. Units Luna lacks are converted (g and st to kg); a value outside what
`vitals.KINDS` calls plausible, or in the future, is skipped and counted.

Sleep: the minutes marked asleep (core, deep, REM or unspecified; not "in bed", not
"awake") are added up per night, each minute once however many devices recorded it. A
night runs from 18:00 to 18:00 and belongs to the day it ends on: sleep from 23:10 on
the 9th to 06:40 on the 10th, and a nap at 14:00 on the 10th, are the night of the 10th.

With `daily`, heart rate, oxygen saturation and glucose — the kinds a watch or a
glucose sensor records every few minutes — become one reading per day and unit: the
day's mean, at the day's last reading, with the count, lowest and highest in its notes.

Ids are uuid5 over the patient and what the record is (type, start, end, value,
source; a night's or a day's date for sleep and daily means), so a second import of the
same export adds nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from luna_tui.errors import ImportRejected
from luna_tui.services.vital_import import NewReading, VitalImportResult, reading_id
from luna_tui.services.vitals import DIASTOLIC_RANGE, KINDS

ROOT = "HealthData"
BLOOD_PRESSURE = "HKCorrelationTypeIdentifierBloodPressure"
SYSTOLIC = "HKQuantityTypeIdentifierBloodPressureSystolic"
DIASTOLIC = "HKQuantityTypeIdentifierBloodPressureDiastolic"
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
ASLEEP = frozenset({
    "HKCategoryValueSleepAnalysisAsleep",  # before iOS 16
    "HKCategoryValueSleepAnalysisAsleepUnspecified",
    "HKCategoryValueSleepAnalysisAsleepCore",
    "HKCategoryValueSleepAnalysisAsleepDeep",
    "HKCategoryValueSleepAnalysisAsleepREM",
})
DAILY_KINDS = frozenset({"heart_rate", "spo2", "glucose"})
# Blood pressure halves wait for their other half until the end of the file (Apple
# lists each type's records together, so a systolic's diastolic may come much later):
# 100,000 readings are 27 years at ten a day, and hold about 15 MB.
MAX_BLOOD_PRESSURES = 100_000
NIGHT_STARTS = dt.time(18, 0)
UNPAIRED = "unpaired (a systolic or a diastolic alone)"
MAX_SEGMENT_MINUTES = 24 * 60

_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}):\d{2} [+-]\d{4}")
_POUNDS_PER_STONE = 14


def _same(value: float) -> float:
    return value


# Apple's type → (Luna kind, {Apple unit: (Luna unit, conversion)}).
QUANTITIES: dict[str, tuple[str, dict[str, tuple[str, Callable[[float], float]]]]] = {
    "HKQuantityTypeIdentifierHeartRate": ("heart_rate", {"count/min": ("bpm", _same)}),
    "HKQuantityTypeIdentifierBodyMass": ("weight", {
        "kg": ("kg", _same), "lb": ("lb", _same),
        "g": ("kg", lambda grams: grams / 1000),
        "st": ("lb", lambda stones: stones * _POUNDS_PER_STONE)}),
    "HKQuantityTypeIdentifierBodyTemperature": ("temperature", {
        "degC": ("°C", _same), "degF": ("°F", _same)}),
    # A fraction (0.97); a value above 1 was written as a percentage by some other app.
    "HKQuantityTypeIdentifierOxygenSaturation": ("spo2", {
        "%": ("%", lambda value: value * 100 if value <= 1 else value)}),
    "HKQuantityTypeIdentifierBloodGlucose": ("glucose", {"mg/dL": ("mg/dL", _same)}),
}


def _luna_unit(kind_units: dict[str, tuple[str, Callable[[float], float]]], unit: str
               ) -> tuple[str, Callable[[float], float]] | None:
    if unit in kind_units:
        return kind_units[unit]
    if unit.startswith("mmol") and unit.endswith("/L") and "mg/dL" in kind_units:
        return "mmol/L", _same  # Apple writes mmol<180.15588000005408>/L
    return None


@dataclass
class _Daily:
    count: int
    total: float
    low: float
    high: float
    last_at: str


class AppleHealthReader:
    """Turns the children of <HealthData> into readings for `add`, counting what it
    leaves out in `result`. `not_after`: the latest plausible moment (now, local)."""

    def __init__(self, patient_id: str, not_after: str, *, daily: bool,
                 add: Callable[[NewReading], None], result: VitalImportResult) -> None:
        self.patient_id, self.not_after, self.daily = patient_id, not_after, daily
        self.add, self.result = add, result
        self.halves: dict[str, list[tuple[str, float] | None]] = {}  # waiting for a pair
        self.paired: set[str] = set()  # pairs made from a correlation
        self.nights: dict[dt.date, int] = {}  # night → minutes asleep, as bits
        self.days: dict[tuple[str, str, str], _Daily] = {}

    def read(self, elements: Iterable[Element]) -> None:
        for element in elements:
            if element.tag == "Record":
                self._record(element)
            elif element.tag == "Correlation" and element.get("type") == BLOOD_PRESSURE:
                self._correlation(element)
        self._finish()

    # -- one element at a time --------------------------------------------------------

    def _record(self, record: Element) -> None:
        kind_type = record.get("type", "")
        if kind_type in QUANTITIES:
            self._quantity(record, kind_type)
        elif kind_type in (SYSTOLIC, DIASTOLIC):
            self._half(record, kind_type)
        elif kind_type == SLEEP:
            self._sleep(record)
        else:
            self.result.other_types += 1

    def _quantity(self, record: Element, kind_type: str) -> None:
        kind, units = QUANTITIES[kind_type]
        at, number = _moment(record.get("startDate")), _number(record.get("value"))
        if at is None or number is None:
            return self.result.skip(kind, "with an unreadable date or value")
        converted = _luna_unit(units, record.get("unit", ""))
        if converted is None:
            return self.result.skip(kind, "in a unit Luna doesn't know")
        unit, convert = converted
        value = round(convert(number), 3)
        if not self._plausible(kind, unit, value, at):
            return None
        if self.daily and kind in DAILY_KINDS:
            return self._into_day(kind, unit, value, at)
        self.add(NewReading(
            reading_id(self.patient_id, kind_type, record.get("startDate"),
                       record.get("endDate"), record.get("value"), record.get("sourceName")),
            kind, value, None, unit, at))
        return None

    def _half(self, record: Element, kind_type: str) -> None:
        key = _pair_key(record)
        if key in self.paired:
            return  # the correlation already made this reading
        number = _number(record.get("value"))
        if number is None or record.get("unit") != "mmHg":
            return self.result.skip("blood_pressure", "with an unreadable value or unit")
        halves = self.halves.get(key)
        if halves is None:
            self._count_pressure()
            halves = self.halves[key] = [None, None]
        halves[0 if kind_type == SYSTOLIC else 1] = (record.get("value", ""), number)
        return None

    def _correlation(self, correlation: Element) -> None:
        found = {child.get("type"): child for child in correlation
                 if child.tag == "Record" and child.get("type") in (SYSTOLIC, DIASTOLIC)}
        systolic, diastolic = found.get(SYSTOLIC), found.get(DIASTOLIC)
        if systolic is None or diastolic is None:
            return self.result.skip("blood_pressure", UNPAIRED)
        key = _pair_key(systolic)
        if key in self.paired:
            return None
        if self.halves.pop(key, None) is None:
            self._count_pressure()
        self.paired.add(key)
        values = [_number(r.get("value")) if r.get("unit") == "mmHg" else None
                  for r in (systolic, diastolic)]
        if values[0] is None or values[1] is None:
            return self.result.skip("blood_pressure", "with an unreadable value or unit")
        self._pressure(key, (systolic.get("value", ""), values[0]),
                       (diastolic.get("value", ""), values[1]))
        return None

    def _sleep(self, record: Element) -> None:
        if record.get("value") not in ASLEEP:
            return
        start, end = _instant(record.get("startDate")), _instant(record.get("endDate"))
        if start is None or end is None:
            return self.result.skip("sleep", "with an unreadable date")
        minutes = round((end - start).total_seconds() / 60)
        if not 0 <= minutes <= MAX_SEGMENT_MINUTES:
            return self.result.skip("sleep", "lasting less than nothing or over a day")
        wall = start.replace(tzinfo=None)
        if wall.strftime("%Y-%m-%dT%H:%M") > self.not_after:  # also bounds the nights held
            return self.result.skip("sleep", "dated in the future")
        night = (wall + dt.timedelta(hours=24 - NIGHT_STARTS.hour)).date()
        offset = round((wall - _night_start(night)).total_seconds() / 60)
        self.nights[night] = self.nights.get(night, 0) | (((1 << minutes) - 1) << offset)
        return None

    # -- checks and the end of the file -----------------------------------------------------

    def _plausible(self, kind: str, unit: str, value: float, at: str) -> bool:
        low, high = KINDS[kind].units[unit]
        if not low <= value <= high:
            self.result.skip(kind, f"outside {low:g}–{high:g} {unit}")
            return False
        if at > self.not_after:
            self.result.skip(kind, "dated in the future")
            return False
        return True

    def _count_pressure(self) -> None:
        if len(self.halves) + len(self.paired) >= MAX_BLOOD_PRESSURES:
            raise ImportRejected(
                f"The export holds more than {MAX_BLOOD_PRESSURES:,} blood pressure "
                "readings, more than years of several a day; Luna refuses it rather than "
                "hold them all.")

    def _pressure(self, key: str, systolic: tuple[str, float],
                  diastolic: tuple[str, float]) -> None:
        source, start, end = key.split("\x1f")
        at = _moment(start)
        if at is None:
            return self.result.skip("blood_pressure", "with an unreadable date")
        high, low = systolic[1], diastolic[1]
        low_ok = DIASTOLIC_RANGE[0] <= low <= DIASTOLIC_RANGE[1]
        if not self._plausible("blood_pressure", "mmHg", high, at):
            return None
        if not low_ok or low >= high:
            return self.result.skip("blood_pressure", "with an impossible diastolic")
        self.add(NewReading(
            reading_id(self.patient_id, BLOOD_PRESSURE, start, end, systolic[0],
                       diastolic[0], source),
            "blood_pressure", high, low, "mmHg", at))
        return None

    def _into_day(self, kind: str, unit: str, value: float, at: str) -> None:
        key = (kind, at[:10], unit)
        day = self.days.get(key)
        if day is None:
            self.days[key] = _Daily(1, value, value, value, at)
            return
        day.count, day.total = day.count + 1, day.total + value
        day.low, day.high, day.last_at = min(day.low, value), max(day.high, value), max(
            day.last_at, at)

    def _finish(self) -> None:
        for key, (systolic, diastolic) in self.halves.items():
            if systolic is None or diastolic is None:
                self.result.skip("blood_pressure", UNPAIRED)
            else:
                self._pressure(key, systolic, diastolic)
        self.halves.clear()
        for night, minutes in sorted(self.nights.items()):
            self._night(night, minutes)
        for (kind, day, unit), daily in sorted(self.days.items()):
            mean = round(daily.total / daily.count, 1)
            self.add(NewReading(
                reading_id(self.patient_id, kind, "daily mean", day, unit), kind, mean, None,
                unit, daily.last_at,
                f"Daily mean of {daily.count:,} reading{'s' * (daily.count != 1)} "
                f"(Apple Health); lowest {daily.low:g}, highest {daily.high:g} {unit}."))

    def _night(self, night: dt.date, minutes: int) -> None:
        asleep = minutes.bit_count()
        if not asleep:
            return
        start = _night_start(night)
        fell = start + dt.timedelta(minutes=(minutes & -minutes).bit_length() - 1)
        woke = start + dt.timedelta(minutes=minutes.bit_length())
        at = woke.strftime("%Y-%m-%dT%H:%M")
        hours = round(asleep / 60, 2)
        if not self._plausible("sleep", "h", hours, at):
            return
        self.add(NewReading(
            reading_id(self.patient_id, "sleep", "night", night.isoformat()), "sleep",
            hours, None, "h", at,
            f"Asleep {asleep // 60} h {asleep % 60:02d} min between {fell:%H:%M} and "
            f"{woke:%H:%M} (Apple Health)."))


def _night_start(night: dt.date) -> dt.datetime:
    return dt.datetime.combine(night - dt.timedelta(days=1), NIGHT_STARTS)


def _pair_key(record: Element) -> str:
    return "\x1f".join((record.get("sourceName", ""), record.get("startDate", ""),
                        record.get("endDate", "")))


def _moment(text: str | None) -> str | None:
    """Apple's `2024-01-10 08:00:00 -0800` as Luna's local `2024-01-10T08:00`."""
    match = _MOMENT.fullmatch(text or "")
    if match is None or match.group(1) < "1900":
        return None
    try:
        dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None
    return f"{match.group(1)}T{match.group(2)}"


def _instant(text: str | None) -> dt.datetime | None:
    if _moment(text) is None:
        return None
    try:
        return dt.datetime.strptime(text or "", "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None


def _number(text: str | None) -> float | None:
    try:
        number = float(text or "")
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None
