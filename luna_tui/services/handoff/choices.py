"""What a person asks a hand-off to hold: whose, which days, which kinds, which records,
as files or as one archive; read from what they typed, and turned into the scope of
the health-data reader (services/health_data.py), where the privacy rule lives.

By default everything but the journal and the records: entries shared with the
therapist go only when "journal" is asked for by name, and a record only when it is
chosen (the shell's --record, the form's records chooser). Private entries never go,
whatever is asked: the scope says so and nothing here can change it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.errors import ValidationError
from luna_tui.services.health_data import INCLUDABLE, HealthScope
from luna_tui.services.validation import parse_date

DEFAULT_INCLUDE = frozenset(INCLUDABLE) - {"journal", "records"}
KIND_LABELS = {"meds": "Medications", "doses": "Doses logged", "vitals": "Vital readings",
               "mood": "Days with a mood", "sleep": "Nights with sleep hours",
               "appointments": "Upcoming appointments", "records": "Records",
               "journal": "Journal entries shared with the therapist"}


@dataclass(frozen=True)
class HandoffChoice:
    patient_id: str
    start: dt.date
    end: dt.date
    include: frozenset[str]
    record_ids: frozenset[str] = frozenset()
    attachments: bool = False  # the chosen records' files, inline in the Bundle
    archive: bool = False  # one encrypted zip instead of plain files

    def scope(self) -> HealthScope:
        """The health-data reader's scope: this patient, these days, these kinds, these
        records, and never a private entry."""
        records = "records" in self.include
        return HealthScope(
            patient_ids=(self.patient_id,), start=self.start, end=self.end,
            include=self.include, record_ids=self.record_ids if records else frozenset(),
            attachments=self.attachments and records, include_private=False)


def parse_include(typed: str | None, *, records_chosen: bool = False) -> frozenset[str]:
    """The kinds of `--include meds,vitals` (None: the default). Choosing records makes
    "records" one of them; asking for "records" without choosing any is refused, since
    a record goes only when chosen."""
    if typed is None:
        kinds = set(DEFAULT_INCLUDE)
    else:
        kinds = {word.strip().lower() for word in typed.split(",") if word.strip()}
        unknown = sorted(kinds - set(INCLUDABLE))
        if unknown or not kinds:
            what = f"'{', '.join(unknown)}' is not" if unknown else "Nothing is"
            raise ValidationError(f"{what} something a hand-off can include; choose from: "
                                  f"{', '.join(INCLUDABLE)}.", "include")
    if records_chosen:
        kinds.add("records")
    elif "records" in kinds:
        raise ValidationError("Records go into a hand-off only when chosen: name each with "
                              "--record ID (`luna records` lists them).", "include")
    return frozenset(kinds)


def parse_period(start: object, end: object, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day, in Luna's date grammar; the first not after the last."""
    first = parse_date(start, "from_date", today)
    last = parse_date(end, "to_date", today)
    if first > last:
        raise ValidationError(f"The first day ({first}) is after the last ({last}).",
                              "from_date")
    return first, last
