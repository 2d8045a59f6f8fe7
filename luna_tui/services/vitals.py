"""Vitals: readings by kind, checked against what a living body can show.

Known kinds carry their units and plausible ranges, so a pulse of 0 or a blood
pressure of 300/20 is refused with a sentence; other kinds are the person's own
("peak flow", "pain") with the unit they give.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from peewee import SQL, fn

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.validation import (
    optional_text,
    parse_local_moment,
    parse_number,
    refuse_controls,
)
from luna_tui.store import vitals_latest
from luna_tui.store.models.patients import Patient
from luna_tui.store.models.vitals import Vital
from luna_tui.store.weeks import monday_of


@dataclass(frozen=True)
class VitalKind:
    label: str
    units: dict[str, tuple[float, float]]  # unit → plausible (low, high)
    second_value: str | None = None  # the name of value2, when the kind has one

    @property
    def default_unit(self) -> str:
        return next(iter(self.units))


KINDS: dict[str, VitalKind] = {
    "weight": VitalKind("Weight", {"kg": (1, 500), "lb": (2, 1100)}),
    "blood_pressure": VitalKind("Blood pressure", {"mmHg": (50, 260)}, "diastolic"),
    "heart_rate": VitalKind("Heart rate", {"bpm": (25, 250)}),
    "glucose": VitalKind("Glucose", {"mmol/L": (1, 45), "mg/dL": (20, 800)}),
    "temperature": VitalKind("Temperature", {"°C": (30, 45), "°F": (86, 113)}),
    "spo2": VitalKind("SpO2", {"%": (50, 100)}),
    "sleep": VitalKind("Sleep", {"h": (0, 24)}),
}
_UNIT_ALIASES = {"c": "°C", "f": "°F", "celsius": "°C", "fahrenheit": "°F", "mmhg": "mmHg",
                 "mmol": "mmol/L", "mmol/l": "mmol/L", "mg/dl": "mg/dL", "hours": "h",
                 "hrs": "h", "kgs": "kg", "lbs": "lb", "pounds": "lb", "percent": "%"}
_KIND_ALIASES = {"bp": "blood_pressure", "blood pressure": "blood_pressure", "pulse":
                 "heart_rate", "hr": "heart_rate", "heart rate": "heart_rate", "temp":
                 "temperature", "sugar": "glucose", "oxygen": "spo2", "sp02": "spo2"}
DIASTOLIC_RANGE = (25, 160)


def split_pair(value: str, value2: str | None) -> tuple[str, str | None]:
    """"120/80" typed as one value is two, as a blood pressure is written (the CLI's
    argument and the app's first field alike); a second value given stays as it is."""
    if value2 in (None, "") and "/" in value:
        first, _, second = value.partition("/")
        return first.strip(), second.strip()
    return value, value2


def normalise_kind(kind: str) -> str:
    text = " ".join(str(kind or "").lower().split())
    if not text:
        raise ValidationError("Say what kind of reading this is (weight, heart rate, …).", "kind")
    text = _KIND_ALIASES.get(text, text)
    return text.replace(" ", "_")


@dataclass(frozen=True)
class VitalView:
    id: str
    patient_id: str
    kind: str
    value: float
    value2: float | None
    unit: str
    measured_at: str
    notes: str | None

    @property
    def display_value(self) -> str:
        def fmt(number: float) -> str:
            return f"{number:g}"

        if self.value2 is not None:
            return f"{fmt(self.value)}/{fmt(self.value2)} {self.unit}"
        return f"{fmt(self.value)} {self.unit}"


def _view(row: Vital) -> VitalView:
    return VitalView(row.id, row.patient_id, row.kind, row.value, row.value2, row.unit,
                     row.measured_at, row.notes)


class Reading(NamedTuple):
    measured_at: str  # local YYYY-MM-DDTHH:MM
    value: float
    value2: float | None
    unit: str


@dataclass(frozen=True)
class VitalCursor:
    measured_at: str
    id: str


@dataclass(frozen=True)
class VitalPage:
    vitals: list[VitalView]
    next_cursor: VitalCursor | None


class Vitals(DomainService):
    @on_db_thread
    def record(self, patient_id: str, kind: str, value: object, value2: object = None, *,
               unit: str | None = None, measured_at: object = None,
               notes: str | None = None) -> VitalView:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")
        refuse_controls({"kind": kind, "unit": unit, "notes": notes})
        values = self._validated(kind, value, value2, unit, measured_at, notes)
        stamp = self.stamp()
        with self.session.writing("record a reading") as tx:
            row = Vital.create(id=new_id(), patient=patient_id, created_at=stamp,
                               updated_at=stamp, **values)
            tx.record("vital.create", row.id, audit_diff(None, values, frozenset({"notes"})))
        return _view(row)

    def checked(self, kind: str, value: object, value2: object = None, *,
                unit: str | None = None, measured_at: object = None,
                notes: str | None = None) -> dict[str, object]:
        """The values `record` would store, or the ValidationError it would raise;
        nothing is written (an import checks each row of a file this way)."""
        refuse_controls({"kind": kind, "unit": unit, "notes": notes})
        return self._validated(kind, value, value2, unit, measured_at, notes)

    @on_db_thread
    def delete(self, vital_id: str) -> None:
        row = Vital.get_or_none(Vital.id == vital_id)
        if row is None:
            raise NotFound("That reading no longer exists.")
        with self.session.writing("delete a reading") as tx:
            Vital.delete().where(Vital.id == vital_id).execute()
            tx.record("vital.delete", vital_id, {"kind": [row.kind, None],
                                                 "measured_at": [row.measured_at, None]})

    @on_db_thread
    def series(self, patient_id: str, kind: str, start: dt.date | None = None,
               end: dt.date | None = None) -> list[VitalView]:
        """Readings of one kind, oldest first, between two dates (inclusive)."""
        query = Vital.select().where(Vital.patient == patient_id,
                                     Vital.kind == normalise_kind(kind))
        if start:
            query = query.where(Vital.measured_at >= f"{start.isoformat()}T00:00")
        if end:
            query = query.where(Vital.measured_at <= f"{end.isoformat()}T23:59")
        return [_view(r) for r in query.order_by(Vital.measured_at)]

    @on_db_thread
    def readings(self, patient_id: str, kind: str, start: dt.date | None = None,
                 end: dt.date | None = None, *, by_week: bool = False) -> list[Reading]:
        """Just what a chart draws, oldest first, from the covering index alone. By week:
        the week's average in each unit, at the week's first reading."""
        if by_week:
            query = Vital.select(fn.MIN(Vital.measured_at), fn.AVG(Vital.value),
                                 fn.AVG(Vital.value2), Vital.unit)
        else:
            query = Vital.select(Vital.measured_at, Vital.value, Vital.value2, Vital.unit)
        query = query.where(Vital.patient == patient_id, Vital.kind == normalise_kind(kind))
        if start:
            query = query.where(Vital.measured_at >= f"{start.isoformat()}T00:00")
        if end:
            query = query.where(Vital.measured_at <= f"{end.isoformat()}T23:59")
        if by_week:
            week = monday_of(Vital.measured_at)
            # Within a week in two units, the group holding the newest reading comes last:
            # the chart is drawn in the unit of the newest reading.
            query = query.group_by(week, Vital.unit).order_by(week, fn.MAX(Vital.measured_at))
        else:
            query = query.order_by(Vital.measured_at)
        return [Reading(*row) for row in query.tuples()]

    @on_db_thread
    def page(self, patient_id: str, *, kind: str | None = None, limit: int = 50,
             after: VitalCursor | None = None) -> VitalPage:
        """Readings newest first, of one kind or all."""
        query = Vital.select().where(Vital.patient == patient_id)
        if kind:
            query = query.where(Vital.kind == normalise_kind(kind))
        if after is not None:
            query = query.where(SQL("(measured_at, id) < (?, ?)", (after.measured_at, after.id)))
        rows = [_view(r) for r in query.order_by(Vital.measured_at.desc(), Vital.id.desc())
                .limit(limit + 1)]
        cursor = None
        if len(rows) > limit:
            cursor = VitalCursor(rows[limit - 1].measured_at, rows[limit - 1].id)
        return VitalPage(rows[:limit], cursor)

    @on_db_thread
    def latest(self, patient_id: str) -> dict[str, VitalView]:
        """The newest reading of each kind the patient has, by kind."""
        ids = vitals_latest.newest_of_each_kind(patient_id)
        rows = Vital.select().where(Vital.id.in_(ids)) if ids else []
        return {row.kind: _view(row) for row in sorted(rows, key=lambda r: r.kind)}

    @on_db_thread
    def kinds_in_use(self, patient_id: str) -> list[str]:
        """The kinds the patient has readings of, in order. One look-up in the index per
        kind: a DISTINCT or GROUP BY over the index reads every reading of the patient
        (50,000 in ten years: 30–60 ms, on each dashboard and vitals load)."""
        return vitals_latest.kinds_in_use(patient_id)

    def _validated(self, kind: str, value: object, value2: object, unit: str | None,
                   measured_at: object, notes: str | None) -> dict[str, object]:
        kind = normalise_kind(kind)
        known = KINDS.get(kind)
        unit_text = optional_text(unit)
        if known is None:
            if not unit_text:
                raise ValidationError(
                    f"Give the unit of '{kind.replace('_', ' ')}' readings, e.g. --unit L/min.",
                    "unit")
            number = parse_number(value, "value")
            second = parse_number(value2, "second value") if value2 not in (None, "") else None
            resolved_unit = unit_text
        else:
            resolved_unit = self._unit(known, unit_text, kind)
            low, high = known.units[resolved_unit]
            label = known.label.lower()
            number = parse_number(value, label, low=low, high=high, unit=resolved_unit)
            second = None
            if known.second_value:
                if value2 in (None, ""):
                    raise ValidationError(
                        f"A {label} has two numbers, e.g. 120 80 (systolic and diastolic).",
                        "value2")
                second = parse_number(value2, known.second_value, low=DIASTOLIC_RANGE[0],
                                      high=DIASTOLIC_RANGE[1], unit=resolved_unit)
                if second >= number:
                    raise ValidationError(
                        f"A blood pressure of {number:g}/{second:g} is not possible: the first "
                        "number (systolic) must be higher than the second.", "value2")
            elif value2 not in (None, ""):
                raise ValidationError(f"A {label} reading is one number.", "value2")
        now = self.local_now()
        moment = parse_local_moment(measured_at, "measured_at", now)
        if moment > (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"):
            raise ValidationError("That reading is in the future.", "measured_at")
        return {"kind": kind, "value": number, "value2": second, "unit": resolved_unit,
                "measured_at": moment, "notes": optional_text(notes, multiline=True)}

    @staticmethod
    def _unit(kind: VitalKind, unit: str | None, name: str) -> str:
        if not unit:
            return kind.default_unit
        resolved = _UNIT_ALIASES.get(unit.lower(), unit)
        matching = [u for u in kind.units if u.lower() == resolved.lower()]
        if not matching:
            raise ValidationError(
                f"{kind.label} is recorded in {' or '.join(kind.units)}, not '{unit}'.", "unit")
        return matching[0]
