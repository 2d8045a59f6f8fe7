"""Reading what a person types: dates, times, numbers, names, free text.

Each parser accepts the forms people write (dates and times in the one grammar of
services/date_phrases.py: `2026-11-22`, `yesterday`, `monday`, `3 days ago`, `today at
3pm`; `08:10`, `8am`, `8:30 pm`) and raises ValidationError with a sentence naming the field
and showing a form that works. Services call these; the UI and the CLI pass text through.

Free text holds no control characters but tabs and line breaks (`refuse_controls`): a
form field shows its text raw, so an ESC stored in a title would drive the terminal of
whoever edits it later. Direction marks (U+202E) stay: they are text in right-to-left
writing, and every place that prints vault text shows them escaped (terminal_text).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from luna_tui.errors import ValidationError
from luna_tui.services import date_phrases
from luna_tui.terminal_text import CONTROL, terminal_text

# Which phrases a date field's error sentence suggests (all fields accept every phrase of
# services/date_phrases.py): a date of birth is told of no "tomorrow", an appointment is.
_BIRTH_FIELDS = frozenset({"date_of_birth"})
_AHEAD_FIELDS = frozenset({"appointment_date", "refill_date", "end_date"})


def date_forms(field: str) -> str:
    """What a date field accepts, as its error sentence lists it."""
    if field in _BIRTH_FIELDS:
        return date_phrases.FORMS_BIRTH
    if field in _AHEAD_FIELDS:
        return date_phrases.FORMS_AHEAD
    return date_phrases.FORMS_PAST


def parse_date(value: object, field: str, today: dt.date) -> dt.date:
    """A day, in any phrase of the grammar (services/date_phrases.py)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"The {_label(field)} is missing; write it as "
                              f"{date_forms(field)}.", field)
    day = date_phrases.parse_day(text, today)
    if day is not None:
        return day
    if date_phrases.parse_span(text, today) is not None:
        raise ValidationError(f"'{value}' is a span of days; the {_label(field)} is one "
                              f"day: {date_forms(field)}.", field)
    if date_phrases.parse_moment(text, today) is not None:
        raise ValidationError(f"'{value}' has a time in it; the {_label(field)} is a day: "
                              f"{date_forms(field)}.", field)
    raise ValidationError(
        f"'{value}' is not a date; write the {_label(field)} as {date_forms(field)}.",
        field,
    )


def parse_optional_span(value: object, field: str, today: dt.date
                        ) -> tuple[dt.date, dt.date] | None:
    """The first and last day a filter's date covers (`last week`, or one day), or None
    when it is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    span = date_phrases.parse_span(str(value), today)
    if span is None:
        raise ValidationError(f"'{value}' is not a date; write the {_label(field)} as "
                              f"{date_phrases.FORMS_SPAN}.", field)
    return span


def parse_optional_date(value: object, field: str, today: dt.date) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, field, today)


def parse_time(value: object, field: str) -> str:
    """A time of day as HH:MM (24-hour)."""
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    hhmm = date_phrases.time_of_day(str(value or ""))
    if hhmm is None:
        raise ValidationError(
            f"'{value}' is not a time; write the {_label(field)} as HH:MM (e.g. 08:10) or 8am.",
            field,
        )
    return hhmm


def parse_optional_time(value: object, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_time(value, field)


def parse_local_moment(value: object, field: str, now: dt.datetime) -> str:
    """A local date and time as YYYY-MM-DDTHH:MM; a date alone means now's time."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    text = str(value or "").strip()
    if not text:
        return now.strftime("%Y-%m-%dT%H:%M")
    moment = date_phrases.parse_moment(text, now.date())
    if moment is not None:
        day, hhmm = moment
        return f"{day.isoformat()}T{hhmm or now.strftime('%H:%M')}"
    # Not a phrase: the date's or the time's own sentence says what is wrong.
    date_part, _, time_part = text.replace(" ", "T", 1).partition("T")
    day = parse_date(date_part, field, now.date())
    hhmm = parse_time(time_part, field) if time_part else now.strftime("%H:%M")
    return f"{day.isoformat()}T{hhmm}"


def parse_number(value: object, field: str, *, low: float | None = None,
                 high: float | None = None, unit: str = "") -> float:
    if isinstance(value, bool):
        raise ValidationError(f"The {_label(field)} must be a number.", field)
    try:
        number = float(value) if isinstance(value, int | float) else float(
            str(value).strip().replace(",", ".")  # "72,5" from a comma-decimal keyboard
        )
    except ValueError:
        raise ValidationError(f"'{value}' is not a number; the {_label(field)} must be one.",
                              field) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(f"The {_label(field)} must be a number.", field)
    suffix = f" {unit}" if unit else ""
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationError(
            f"{_quantity(field, unit)} of {_fmt(number)}{suffix} is not possible; "
            f"it must be between {_fmt(low)} and {_fmt(high)}{suffix}.",
            field,
        )
    return number


def parse_optional_number(value: object, field: str, **bounds: float | str | None
                          ) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_number(value, field, **bounds)  # type: ignore[arg-type]


def parse_scale(value: object, field: str, low: int, high: int) -> int | None:
    """A whole number on a scale (mood 1–10)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = parse_number(value, field)
    if number != int(number) or not low <= number <= high:
        raise ValidationError(
            f"The {_label(field)} goes from {low} to {high}; {_fmt(number)} is off the scale.",
            field,
        )
    return int(number)


def required_text(value: object, field: str, *, max_length: int = 200) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError(f"The {_label(field)} can't be blank.", field)
    if len(text) > max_length:
        raise ValidationError(
            f"The {_label(field)} is too long ({len(text)} characters; at most {max_length}).",
            field,
        )
    return text


def optional_text(value: object, *, multiline: bool = False) -> str | None:
    """Trimmed text, or None when empty. Single-line text has its spaces collapsed."""
    if value is None:
        return None
    text = str(value).strip() if multiline else " ".join(str(value).split())
    return text or None


def choice(value: object, field: str, choices: tuple[str, ...], default: str | None = None
           ) -> str:
    text = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if not text and default is not None:
        return default
    if text not in choices:
        readable = ", ".join(c.replace("_", " ") for c in choices)
        raise ValidationError(f"'{value}' is not {_a(_label(field))}; choose one of: "
                              f"{readable}.", field)
    return text


def clean_tags(values: object) -> list[str]:
    """Tags as people write them (`#Sleep`, `knee pain`, `@work`): lower case, no
    leading # or @, spaces become dashes, duplicates dropped, order kept."""
    if values is None:
        return []
    items = re.split(r"[,\s]+", values) if isinstance(values, str) else list(values)
    seen: dict[str, None] = {}
    for item in items:
        tag = str(item).strip().lstrip("#@").strip().lower()
        tag = re.sub(r"\s+", "-", tag)
        if tag:
            if len(tag) > 40:
                raise ValidationError(f"The tag '{tag[:20]}…' is too long (at most 40).", "tags")
            seen.setdefault(tag, None)
    return list(seen)


def clean_words(values: object) -> list[str]:
    """A list of short words (emotions): trimmed, lower case, duplicates dropped."""
    if values is None:
        return []
    items = re.split(r"[,;]+", values) if isinstance(values, str) else list(values)
    seen: dict[str, None] = {}
    for item in items:
        word = " ".join(str(item).split()).lower()
        if word:
            seen.setdefault(word, None)
    return list(seen)


def refuse_controls(values: Mapping[str, object], *,
                    stored: Mapping[str, object] | None = None) -> None:
    """A ValidationError naming the first field whose text (or list of texts) holds a
    control character, shown escaped. `stored`: the row's values as they are; a field
    given unchanged is not checked, so a row holding such text from before this rule
    can still be changed in its other fields."""
    for field, value in values.items():
        if stored is not None and field in stored and _same(value, stored[field]):
            continue
        for text in _texts(value):
            if found := CONTROL.search(text):
                raise ValidationError(
                    f"The {_label(field)} holds a control character "
                    f"({terminal_text(found.group())}), which could drive the terminal; "
                    "remove it (tabs and line breaks are fine).", field)


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _same(value: object, stored: object) -> bool:
    if isinstance(value, list | tuple) and isinstance(stored, list | tuple):
        return list(value) == list(stored)
    return value == stored


def _label(field: str) -> str:
    return field.replace("_", " ")


# Quantities named by what they measure, not by their field: "sleep_hours" with the unit
# "hours" would read "A sleep hours of -5 hours".
_QUANTITIES = {"sleep_hours": "A night's sleep", "duration_minutes": "A duration",
               "supply_count": "A supply"}


def _quantity(field: str, unit: str) -> str:
    """How a bounds sentence names its number: "A weight", "A night's sleep"."""
    if field in _QUANTITIES:
        return _QUANTITIES[field]
    label = _label(field)
    if unit and label.endswith(" " + unit):
        label = label[: -len(unit) - 1]
    named = _a(label)
    return named[:1].upper() + named[1:]


def _a(noun: str) -> str:
    """The noun with its article: "a status", "an appointment type"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _fmt(number: float | None) -> str:
    if number is None:
        return "?"
    return str(int(number)) if number == int(number) else f"{number:g}"
