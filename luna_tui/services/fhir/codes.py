"""The codes Luna speaks FHIR in: LOINC for what was measured, UCUM for its unit, and
Luna's own code system where no standard code says what Luna means.

Vitals. Each known kind (services/vitals.py KINDS) has its LOINC code, the one the FHIR
vital-signs profile names where there is one: body weight 29463-7, the blood pressure
panel 85354-9 with its systolic 8480-6 and diastolic 8462-4 components, heart rate
8867-4, body temperature 8310-5, oxygen saturation by pulse oximetry 59408-5, sleep
duration 93832-4.

Glucose has two codes because LOINC tells a mass concentration (2339-0, Glucose
[Mass/volume] in Blood, mg/dL) from a molar one (15074-8, Glucose [Moles/volume] in
Blood, mmol/L): the code follows the unit the person recorded in, so the number leaves
exactly as typed, never converted and rounded.

Mood. Luna's mood is a person's own 1–10 rating, not a validated instrument (PHQ-9,
a visual analogue scale), and LOINC's mood codes are for those instruments' items or
for a clinician's finding: none says "a self-rated 1–10 mood score". Putting one of
them on Luna's number would let another system read it as something it is not, so
mood goes out under Luna's own code system (MOOD_CODE) with a plain text, and its
value as a `{score}` quantity. A reader that doesn't know the code still sees the
text.

Kinds a person made up ("peak flow", "pain") go out under Luna's vital-kind code
system with the unit as typed (no UCUM code is guessed), so a Luna vault takes them
back; other tools see the text.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# Luna's own systems. `.invalid` is reserved never to resolve (RFC 2606): these name
# Luna's meanings, they are not web addresses.
LUNA_BASE = "https://luna-tui.invalid/fhir"
LUNA_OBSERVATION = f"{LUNA_BASE}/CodeSystem/observation"
LUNA_VITAL_KIND = f"{LUNA_BASE}/CodeSystem/vital-kind"
LUNA_DETAILS = f"{LUNA_BASE}/StructureDefinition/luna-details"


def luna_identifier_system(table: str) -> str:
    """The identifier system of a Luna table's ids ("…/id/vitals")."""
    return f"{LUNA_BASE}/id/{table}"


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class VitalCode:
    code: Code
    components: tuple[Code, ...] = ()  # value, then value2 (blood pressure's two)


BP_SYSTOLIC = Code(LOINC, "8480-6", "Systolic blood pressure")
BP_DIASTOLIC = Code(LOINC, "8462-4", "Diastolic blood pressure")
GLUCOSE_MASS = Code(LOINC, "2339-0", "Glucose [Mass/volume] in Blood")
GLUCOSE_MOLAR = Code(LOINC, "15074-8", "Glucose [Moles/volume] in Blood")
SLEEP_CODE = Code(LOINC, "93832-4", "Sleep duration")
MOOD_CODE = Code(LUNA_OBSERVATION, "mood-scale", "Mood, self-rated from 1 (worst) to 10 (best)")

# Luna kind → its code (glucose: see GLUCOSE_BY_UNIT).
VITAL_CODES: dict[str, VitalCode] = {
    "weight": VitalCode(Code(LOINC, "29463-7", "Body weight")),
    "blood_pressure": VitalCode(Code(LOINC, "85354-9", "Blood pressure panel with all "
                                                       "children optional"),
                                (BP_SYSTOLIC, BP_DIASTOLIC)),
    "heart_rate": VitalCode(Code(LOINC, "8867-4", "Heart rate")),
    "temperature": VitalCode(Code(LOINC, "8310-5", "Body temperature")),
    "spo2": VitalCode(Code(LOINC, "59408-5", "Oxygen saturation in Arterial blood by "
                                             "Pulse oximetry")),
    "sleep": VitalCode(SLEEP_CODE),
}
GLUCOSE_BY_UNIT = {"mg/dL": GLUCOSE_MASS, "mmol/L": GLUCOSE_MOLAR}

# Luna unit → UCUM code.
UCUM_UNITS = {"kg": "kg", "lb": "[lb_av]", "mmHg": "mm[Hg]", "bpm": "/min", "°C": "Cel",
              "°F": "[degF]", "%": "%", "mg/dL": "mg/dL", "mmol/L": "mmol/L", "h": "h"}
LUNA_UNITS = {ucum: luna for luna, ucum in UCUM_UNITS.items()}
MOOD_UNIT = "{score}"


def vital_code(kind: str, unit: str) -> VitalCode:
    """The code of a Luna reading: LOINC for a known kind, Luna's kind code otherwise."""
    if kind == "glucose" and unit in GLUCOSE_BY_UNIT:
        return VitalCode(GLUCOSE_BY_UNIT[unit])
    if kind in VITAL_CODES:
        return VITAL_CODES[kind]
    return VitalCode(Code(LUNA_VITAL_KIND, kind, kind.replace("_", " ").capitalize()))


def kind_of(system: str | None, code: str | None) -> str | None:
    """The Luna kind a coded Observation is a reading of, or None when Luna doesn't
    know the code (the importer skips it rather than guess)."""
    if system == LOINC:
        for kind, known in VITAL_CODES.items():
            if known.code.code == code:
                return kind
        if code in (GLUCOSE_MASS.code, GLUCOSE_MOLAR.code):
            return "glucose"
    return None
