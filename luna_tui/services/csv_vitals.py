"""Vital readings from a CSV file, its columns named by a mapping.

The first row names the columns. A mapping is `FIELD=Column` pairs, separated by commas
(or given as several `--map` options):
- tall, a reading per row: `date=Date,kind=Type,value=Value` and, when there, `unit=`,
  `value2=` (a blood pressure's diastolic, or write `120/80` as the value), `time=`,
  `notes=`. A kind Luna doesn't know ("peak flow") needs its unit.
- wide, a column per kind: `date=Date,weight=Weight (kg),heart_rate=Pulse,
  blood_pressure=BP`; `weight:lb=Weight` says the column's unit (else the kind's first
  unit: kg, bpm, mmHg, mmol/L, °C, %, h). An empty cell is no reading.
Without a mapping, columns named date, time, kind, value, value2, unit and notes (any
case) are taken as a tall file. A column's name may not hold `,` or `=`.

Dates are ISO (`2026-11-03`, `2026-11-03 08:30`, `2026-11-03T08:30:00+01:00`: the wall
time is kept, the offset dropped) or Luna's date phrases; a date without a time is
00:00, so that the same file always gives the same readings. Every row is checked as
`luna vitals add` checks it. A bad row is reported by its line number and reason, and
then nothing is imported — unless `skip_bad`, which imports the good rows and counts
the bad. Ids come from the patient and the reading (kind, time, values, unit), so a
second import adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from luna_tui.errors import ImportRejected, ValidationError
from luna_tui.services.date_phrases import parse_moment
from luna_tui.services.vital_import import NewReading, VitalImportResult, reading_id
from luna_tui.services.vitals import KINDS, Vitals, normalise_kind, split_pair

TALL_FIELDS = ("date", "time", "kind", "value", "value2", "unit", "notes")
MAX_CSV_BYTES = 256 * 2**20  # a million rows is ~50 MB; read once, row by row
MAX_LINE = 64 * 1024
ERRORS_SHOWN = 5
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2})(?::\d{2}(?:\.\d+)?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?)?")


@dataclass(frozen=True)
class WideColumn:
    kind: str
    unit: str | None
    column: int


@dataclass
class CsvMapping:
    """Column positions: `tall` by field name, or `wide` columns of one kind each."""

    date: int
    time: int | None = None
    notes: int | None = None
    tall: dict[str, int] = field(default_factory=dict)
    wide: list[WideColumn] = field(default_factory=list)


def parse_mapping(specs: Iterable[str], header: list[str]) -> CsvMapping:
    """The mapping `specs` name (or, with none, the header's own names), checked
    against the header."""
    pairs = [pair for spec in specs for pair in spec.split(",") if pair.strip()]
    if not pairs:
        pairs = [f"{name.strip().lower()}={name}" for name in header
                 if name.strip().lower() in TALL_FIELDS]
        if not {"date", "kind", "value"} <= {p.split("=")[0] for p in pairs}:
            raise ImportRejected(
                "The CSV file's header has no date, kind and value columns; say which "
                "columns hold what with --map, e.g. --map date=Date,weight=Weight.")
    positions = {name.strip(): i for i, name in reversed(list(enumerate(header)))}
    fields: dict[str, int] = {}
    wide: list[WideColumn] = []
    for pair in pairs:
        name, equals, column = pair.partition("=")
        name, column = name.strip(), column.strip()
        if not equals or not name or not column:
            raise ImportRejected(f"'{pair.strip()}' is not FIELD=Column; write e.g. "
                                 "--map date=Date,kind=Type,value=Value.")
        if column not in positions:
            raise ImportRejected(f"The CSV file has no column '{column}' (its columns: "
                                 f"{', '.join(header)[:200]}).")
        key = name.lower()
        if key in TALL_FIELDS:
            if key in fields:
                raise ImportRejected(f"--map names {key} twice.")
            fields[key] = positions[column]
        else:
            kind_name, _, unit = name.partition(":")
            wide.append(WideColumn(normalise_kind(kind_name), unit.strip() or None,
                                   positions[column]))
    return _checked_mapping(fields, wide)


def _checked_mapping(fields: dict[str, int], wide: list[WideColumn]) -> CsvMapping:
    if "date" not in fields:
        raise ImportRejected("Say which column holds the date: --map date=Column,…")
    tall = {k: v for k, v in fields.items() if k in ("kind", "value", "value2", "unit")}
    if tall and wide:
        raise ImportRejected("A mapping is tall (kind=…, value=…) or wide (a column per "
                             "kind: weight=…, heart_rate=…), not both.")
    if not wide and not {"kind", "value"} <= set(tall):
        raise ImportRejected("Say which columns hold the readings: kind= and value= for "
                             "a reading per row, or a column per kind (weight=…).")
    for column in wide:
        if column.kind not in KINDS and not column.unit:
            raise ImportRejected(f"Give the unit of the '{column.kind}' column, e.g. "
                                 f"--map {column.kind}:L/min=…; Luna doesn't know that kind.")
    return CsvMapping(fields["date"], fields.get("time"), fields.get("notes"), tall, wide)


def csv_rows(handle: BinaryIO) -> Any:
    """A csv reader of the file, as UTF-8 text, its separator (comma, semicolon or tab)
    guessed from the header. A line longer than MAX_LINE is refused as it is read: a
    256 MiB line of commas would be 268 million cells in memory."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        first = text.readline(MAX_LINE)
        text.seek(0)
    except UnicodeDecodeError:
        raise ImportRejected("The CSV file's header is not UTF-8 text.") from None
    try:
        dialect: csv.Dialect | type[csv.Dialect] = csv.Sniffer().sniff(first, ",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(_bounded_lines(text), dialect)


def csv_header(rows: Any, name: str) -> list[str]:
    """The first row: the columns' names."""
    try:
        header = next(rows, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportRejected(f"The first row of {name} can't be read ({exc}).") from None
    if not header:
        raise ImportRejected(f"{name} is empty; a CSV file of vitals starts with a row "
                             "naming its columns.")
    return header


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    number = 0
    while line := text.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise ImportRejected(f"Line {number:,} of the CSV file is longer than "
                                 f"{MAX_LINE // 1024} KiB; a row of readings is a few dozen "
                                 "characters, so Luna refuses the file.")
        yield line


class CsvReadings:
    """Reads the rows after the header into readings for `add`."""

    def __init__(self, patient_id: str, mapping: CsvMapping, vitals: Vitals, *,
                 skip_bad: bool, add: Callable[[NewReading], None],
                 result: VitalImportResult, today: dt.date) -> None:
        self.patient_id, self.mapping, self.vitals = patient_id, mapping, vitals
        self.skip_bad, self.add, self.result, self.today = skip_bad, add, result, today
        self.errors: list[str] = []
        self.bad = 0

    def read(self, rows: Iterable[list[str]], line: Callable[[], int]) -> None:
        try:
            for row in rows:
                if row and any(cell.strip() for cell in row):
                    self._row(row, line())
        except UnicodeDecodeError:
            raise ImportRejected(f"Line {line() + 1:,} of the CSV file is not UTF-8 text; "
                                 "nothing was imported.") from None
        except csv.Error as exc:
            raise ImportRejected(f"Line {line():,} of the CSV file can't be read ({exc}); "
                                 "nothing was imported.") from None
        if not self.bad:
            return
        more = self.bad - len(self.errors)
        reasons = "; ".join(self.errors) + (f"; and {more:,} more" if more > 0 else "")
        if not self.skip_bad:
            raise ImportRejected(
                f"{self.bad:,} row{'s' * (self.bad != 1)} of the CSV file can't be "
                f"imported, so nothing was (--skip-bad imports the others): {reasons}.")
        self.result.skipped[("rows", f"that can't be imported ({reasons})")] = self.bad

    def _row(self, row: list[str], line: int) -> None:
        try:
            at = self._moment(row)
            notes = _cell(row, self.mapping.notes) or None
            readings = self._tall(row, at, notes) if self.mapping.tall else (
                self._wide(row, at, notes))
        except ValidationError as error:
            self.bad += 1
            if len(self.errors) < ERRORS_SHOWN:
                self.errors.append(f"line {line:,}: {str(error).rstrip('.')}")
            return
        for values in readings:
            value2 = values["value2"]
            self.add(NewReading(
                reading_id(self.patient_id, "csv", values["kind"], values["measured_at"],
                           values["value"], value2, values["unit"]),
                str(values["kind"]), float(str(values["value"])),
                None if value2 is None else float(str(value2)), str(values["unit"]),
                str(values["measured_at"]),
                values["notes"] if isinstance(values["notes"], str) else None))

    def _tall(self, row: list[str], at: str, notes: str | None) -> list[dict[str, object]]:
        tall = self.mapping.tall
        kind = _cell(row, tall["kind"])
        value, value2 = split_pair(_cell(row, tall["value"]), _cell(row, tall.get("value2")))
        if not kind:
            raise ValidationError("the kind is empty")
        return [self.vitals.checked(kind, value, value2 or None,
                                    unit=_cell(row, tall.get("unit")) or None,
                                    measured_at=at, notes=notes)]

    def _wide(self, row: list[str], at: str, notes: str | None) -> list[dict[str, object]]:
        readings = []
        for column in self.mapping.wide:
            cell = _cell(row, column.column)
            if cell:
                value, value2 = split_pair(cell, None)
                readings.append(self.vitals.checked(column.kind, value, value2,
                                                    unit=column.unit, measured_at=at,
                                                    notes=notes))
        return readings

    def _moment(self, row: list[str]) -> str:
        text = _cell(row, self.mapping.date)
        if self.mapping.time is not None and (clock := _cell(row, self.mapping.time)):
            text = f"{text} {clock}"
        if not text:
            raise ValidationError("the date is empty")
        if match := _ISO.fullmatch(text):
            day, hhmm = match.group(1), match.group(2) or "00:00"
            return f"{day}T{int(hhmm.split(':')[0]):02d}:{hhmm.split(':')[1]}"
        moment = parse_moment(text, self.today)
        if moment is None:
            raise ValidationError(f"'{text[:40]}' is not a date (write 2026-11-03 or "
                                  "2026-11-03 08:30)")
        day, hhmm = moment
        return f"{day.isoformat()}T{hhmm or '00:00'}"


def _cell(row: list[str], column: int | None) -> str:
    if column is None or column >= len(row):
        return ""
    return row[column].strip()
