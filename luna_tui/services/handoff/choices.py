"""What a person asks a hand-off to hold: whose, which days, which kinds, which records,
as files or as one archive; read from what they typed, and turned into the scope of
the health-data reader (services/health_data.py), where the privacy rule lives.

By default everything but the journal and the records: entries shared with the
therapist go only when "journal" is asked for by name, and a record only when it is
chosen (the shell's --record, the form's records chooser). Private entries never go,
whatever is asked: the scope says so and nothing here can change it.

"insights" is a page of the PDF, not data of its own: how mood, sleep and the vitals
moved after each medication change of the period. It weighs only what the hand-off
holds, so it needs "meds" and at least one of "mood", "sleep" and "vitals"; it is no
part of the health-data scope (the FHIR Bundle has no insights).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from luna_tui.errors import ValidationError
from luna_tui.services.health_data import INCLUDABLE, HealthScope
from luna_tui.services.validation import parse_date

INSIGHTS = "insights"
HANDOFF_KINDS = (*INCLUDABLE, INSIGHTS)
INSIGHT_SOURCES = ("mood", "sleep", "vitals")  # what the insights page may weigh
DEFAULT_INCLUDE = frozenset(HANDOFF_KINDS) - {"journal", "records"}
KIND_LABELS = {"meds": "Medications", "doses": "Doses logged", "vitals": "Vital readings",
               "mood": "Days with a mood", "sleep": "Nights with sleep hours",
               "appointments": "Upcoming appointments", "records": "Records",
               "journal": "Journal entries shared with the therapist",
               INSIGHTS: "Medication changes on the insights page"}


@dataclass(frozen=True)
class HandoffChoice:
    patient_id: str
    start: dt.date
    end: dt.date
    include: frozenset[str]
    record_ids: frozenset[str] = frozenset()
    attachments: bool = False  # the chosen records' files, inline in the Bundle
    archive: bool = False  # one encrypted zip instead of plain files

    def __post_init__(self) -> None:
        check_insights(self.include)

    def scope(self) -> HealthScope:
        """The health-data reader's scope: this patient, these days, these kinds, these
        records, and never a private entry."""
        records = "records" in self.include
        return HealthScope(
            patient_ids=(self.patient_id,), start=self.start, end=self.end,
            include=self.include - {INSIGHTS},
            record_ids=self.record_ids if records else frozenset(),
            attachments=self.attachments and records, include_private=False)

    @property
    def insight_sources(self) -> tuple[str, ...]:
        """The measures' kinds the insights page weighs: those included."""
        return tuple(k for k in INSIGHT_SOURCES if k in self.include)


def insights_possible(kinds: Collection[str]) -> bool:
    """Whether `kinds` hold what the insights page weighs: the medications, and mood,
    sleep or vitals."""
    return "meds" in kinds and any(k in kinds for k in INSIGHT_SOURCES)


def check_insights(kinds: Collection[str]) -> None:
    """ValidationError when the insights page is asked for without what it weighs."""
    if INSIGHTS in kinds and not insights_possible(kinds):
        raise ValidationError("The insights page weighs medication changes against mood, "
                              "sleep or vitals: include meds and at least one of them too.",
                              "include")


def parse_include(typed: str | None, *, records_chosen: bool = False) -> frozenset[str]:
    """The kinds of `--include meds,vitals` (None: the default). Choosing records makes
    "records" one of them; asking for "records" without choosing any is refused, since
    a record goes only when chosen."""
    if typed is None:
        kinds = set(DEFAULT_INCLUDE)
    else:
        kinds = {word.strip().lower() for word in typed.split(",") if word.strip()}
        unknown = sorted(kinds - set(HANDOFF_KINDS))
        if unknown or not kinds:
            what = f"'{', '.join(unknown)}' is not" if unknown else "Nothing is"
            raise ValidationError(f"{what} something a hand-off can include; choose from: "
                                  f"{', '.join(HANDOFF_KINDS)}.", "include")
    if records_chosen:
        kinds.add("records")
    elif "records" in kinds:
        raise ValidationError("Records go into a hand-off only when chosen: name each with "
                              "--record ID (`luna records` lists them).", "include")
    check_insights(kinds)
    return frozenset(kinds)


def parse_period(start: object, end: object, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day, in Luna's date grammar; the first not after the last."""
    first = parse_date(start, "from_date", today)
    last = parse_date(end, "to_date", today)
    if first > last:
        raise ValidationError(f"The first day ({first}) is after the last ({last}).",
                              "from_date")
    return first, last
