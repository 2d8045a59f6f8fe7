"""Plain adult reference ranges, shaded behind the hand-off's charts.

A band for the eye, not a diagnosis: each is the range a general adult reference calls
normal, at rest, for a person without a condition that changes it. A clinician reads
the person's own values against their own targets. Weight has none (it depends on
height), nor has mood (a scale of the person's own).

Sources:
- Blood pressure: systolic 90-119 mmHg, diastolic 60-79 mmHg. Below 120/80 is "normal"
  in the 2017 ACC/AHA guideline (Whelton et al., Hypertension 2018;71:e13-e115); below
  90/60 is low blood pressure (NHLBI, "Low Blood Pressure").
- Heart rate at rest: 60-100 beats per minute (American Heart Association, "All About
  Heart Rate").
- Oxygen saturation (SpO2): 95-100 % (MedlinePlus, "Pulse oximetry").
- Body temperature: 36.1-37.2 °C, 97.0-99.0 °F (MedlinePlus, "Body temperature norms").
- Glucose, fasting: 3.9-5.5 mmol/L, 70-99 mg/dL (American Diabetes Association,
  Standards of Care in Diabetes, "Diagnosis and Classification": fasting glucose below
  100 mg/dL is normal; below 70 mg/dL is hypoglycaemia).
- Sleep: 7-9 hours a night (Hirshkowitz et al., "National Sleep Foundation's sleep time
  duration recommendations", Sleep Health 2015;1:40-43).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceRange:
    low: float
    high: float
    unit: str
    what: str  # "systolic", "at rest", …: what the band is the range of


# (vital kind, unit) → its ranges; blood pressure has two (value, then value2).
RANGES: dict[tuple[str, str], tuple[ReferenceRange, ...]] = {
    ("blood_pressure", "mmHg"): (ReferenceRange(90, 119, "mmHg", "systolic"),
                                 ReferenceRange(60, 79, "mmHg", "diastolic")),
    ("heart_rate", "bpm"): (ReferenceRange(60, 100, "bpm", "at rest"),),
    ("spo2", "%"): (ReferenceRange(95, 100, "%", "oxygen saturation"),),
    ("temperature", "°C"): (ReferenceRange(36.1, 37.2, "°C", "body temperature"),),
    ("temperature", "°F"): (ReferenceRange(97.0, 99.0, "°F", "body temperature"),),
    ("glucose", "mmol/L"): (ReferenceRange(3.9, 5.5, "mmol/L", "fasting"),),
    ("glucose", "mg/dL"): (ReferenceRange(70, 99, "mg/dL", "fasting"),),
    ("sleep", "h"): (ReferenceRange(7, 9, "h", "a night"),),
}
SLEEP_HOURS = RANGES[("sleep", "h")][0]  # the journal's sleep, charted beside mood


def reference_ranges(kind: str, unit: str) -> tuple[ReferenceRange, ...]:
    """The adult ranges of a vital kind in `unit`; none when there is no plain one."""
    return RANGES.get((kind, unit), ())
