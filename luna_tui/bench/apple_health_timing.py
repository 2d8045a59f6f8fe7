"""`luna bench --apple-health N`: import a generated Apple Health export of N records
into an empty vault, as a `luna import` process, and report its time and peak RSS.

The export is written to a temporary file the way the phone writes one: the DOCTYPE,
then each type's records together (Apple groups them by type, so a blood pressure's
two halves are far apart), then the blood pressure correlations repeating them. Its
days are shaped like a watch wearer's: a pulse every ~5 minutes, steps, a night's
sleep stages, two blood pressures, a weighing and a few oxygen readings.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from luna_tui.bench.runner import PASSPHRASE, KdfTimer, Measurement, _run

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2025-01-01 09:00:00 +0000"/>
"""
WATCH = ('sourceName="Bench Watch" sourceVersion="10.3" device="&lt;&lt;HKDevice: 0x1&gt;, '
         'name:Apple Watch, model:Watch&gt;"')
# Records per day, by type: (type, unit, how many, value at the i-th).
DAY = (
    ("HKQuantityTypeIdentifierHeartRate", "count/min", 270, lambda i: 55 + (i * 7) % 60),
    ("HKQuantityTypeIdentifierStepCount", "count", 24, lambda i: 40 + i * 13),
    ("HKQuantityTypeIdentifierOxygenSaturation", "%", 3, lambda i: 0.95 + i / 100),
    ("HKQuantityTypeIdentifierBodyMass", "kg", 1, lambda i: 72.4),
    ("HKQuantityTypeIdentifierBloodPressureSystolic", "mmHg", 2, lambda i: 118 + i * 6),
    ("HKQuantityTypeIdentifierBloodPressureDiastolic", "mmHg", 2, lambda i: 76 + i * 4),
)
SLEEP_STAGES = ("AsleepCore", "AsleepDeep", "AsleepCore", "AsleepREM", "Awake",
                "AsleepCore", "AsleepREM", "AsleepCore")
PER_DAY = sum(count for _, _, count, _ in DAY) + len(SLEEP_STAGES)
FIRST_DAY = 730_120  # 2000-01-01 as a proleptic ordinal: every day is long past


def write_export(path: Path, records: int) -> int:
    """An export.xml of about `records` records (whole days of them); its size."""
    import datetime as dt

    days = max(1, -(-records // PER_DAY))
    dates = [dt.date.fromordinal(FIRST_DAY + n).isoformat() for n in range(days)]
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER)
        for kind, unit, count, value in DAY:  # each type's records together, as Apple does
            for day in dates:
                for i in range(count):
                    minute = (i * 1440 // count + 7) % 1440
                    _record(out, kind, unit, value(i), day, minute)
        for day in dates:
            _sleep(out, day)
        for day in dates:
            for i in range(2):
                _correlation(out, day, i)
        out.write("</HealthData>\n")
    return path.stat().st_size


def _stamp(day: str, minute: int) -> str:
    return f"{day} {minute // 60:02d}:{minute % 60:02d}:00 +0000"


def _record(out: IO[str], kind: str, unit: str, value: float, day: str, minute: int) -> None:
    at = _stamp(day, minute)
    out.write(f' <Record type="{kind}" {WATCH} unit="{unit}" creationDate="{at}" '
              f'startDate="{at}" endDate="{at}" value="{value:g}">\n'
              '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n'
              " </Record>\n")


def _sleep(out: IO[str], day: str) -> None:
    for n, stage in enumerate(SLEEP_STAGES):  # 00:30 to 06:30, 45 minutes a stage
        start, end = _stamp(day, 30 + n * 45), _stamp(day, 30 + (n + 1) * 45)
        out.write(f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" {WATCH} '
                  f'creationDate="{end}" startDate="{start}" endDate="{end}" '
                  f'value="HKCategoryValueSleepAnalysis{stage}"/>\n')


def _correlation(out: IO[str], day: str, i: int) -> None:
    at = _stamp(day, (i * 1440 // 2 + 7) % 1440)
    out.write(f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" {WATCH} '
              f'creationDate="{at}" startDate="{at}" endDate="{at}">\n')
    for kind, value in (("Diastolic", 76 + i * 4), ("Systolic", 118 + i * 6)):
        out.write(f'  <Record type="HKQuantityTypeIdentifierBloodPressure{kind}" {WATCH} '
                  f'unit="mmHg" creationDate="{at}" startDate="{at}" endDate="{at}" '
                  f'value="{value}"/>\n')
    out.write(" </Correlation>\n")


def run(records: int, report: Callable[[str], None] = print) -> list[Measurement]:
    from luna_tui.home import VaultLayout
    from luna_tui.services.vault_setup import create_vault
    from luna_tui.vault.kdf import floor_params

    with tempfile.TemporaryDirectory(prefix="luna-bench-") as tmp:
        home, export = Path(tmp) / "vault", Path(tmp) / "export.xml"
        create_vault(VaultLayout(home), PASSPHRASE, kdf=floor_params()).session.close()
        report(f"writing an Apple Health export of {records:,} records")
        size = write_export(export, records)
        report(f"importing it ({size / 1e6:,.0f} MB) with `luna import`")
        kdf = KdfTimer(home)()
        seconds, peak_kb, said = _timed_import(home, export)
        added = int(said.split()[1].replace(",", "")) if said.startswith("Imported") else 0
    return [
        Measurement(f"Apple Health import: {records:,} records, {size / 1e6:,.0f} MB of "
                    "export.xml, minus the KDF", seconds - kdf, None, "s"),
        Measurement("readings it added (heart rate, SpO2, weight, blood pressure, sleep)",
                    added, None, "readings"),
        Measurement("peak RSS of that import", peak_kb / 1024, 150, "MB"),
    ]


def _timed_import(home: Path, export: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in KB, first line printed) of one `luna import` process,
    measured from a tiny launcher (a child forked from this process would count this
    process's memory as its own)."""
    env = {**os.environ, "LUNA_HOME": str(home), "LUNA_PASSPHRASE": PASSPHRASE}
    launcher = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                "r = subprocess.run(sys.argv[1:], check=True, capture_output=True, "
                "text=True); print(time.perf_counter() - t); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
                "print(r.stdout.splitlines()[0])")
    args = ("import", str(export))
    out = _run([sys.executable, "-c", launcher, sys.executable, "-m", "luna_tui", *args],
               env, args, keep_output=True)
    seconds, peak, said = out.splitlines()[:3]
    return float(seconds), int(peak), said
