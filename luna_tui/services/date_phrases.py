"""The one grammar of dates and times that every date field of the app and the shell
reads (through services/validation.py), and `luna add`'s leading `yesterday:`.

Standard library only and no I/O: the shell imports it on every `luna add`.

Days (`parse_day`), relative to the local today given:
- `2026-11-30` (ISO);
- `today`, `yesterday`, `tomorrow`;
- a weekday, `monday` or `mon`: the latest such day, today counts (on a Monday,
  `monday` is today); `last monday`: the one before today (on a Monday, a week ago);
  `next monday`: the first after today;
- `3 days ago`, `2 weeks ago` (also `a day ago`, `a week ago`); `in 3 days`, `in 2 weeks`.

Moments (`parse_moment`): a day, then a time of day with or without `at` (`today at
3pm`, `monday at 9:00`, `yesterday 08:10`, `2026-11-30 21:00`, `2026-11-30T21:00`), or
a time alone after `at` (`at 3pm`: today). Times: `15:00`, `15.00`, `3pm`, `3:30pm`,
`3:30 p.m.`, `12am` (midnight), `12pm` (noon).

Spans (`parse_span`), for filters: any day (that day alone), or `last week` (the
previous calendar week, Monday to Sunday), `this week` (Monday to today), `last month`
(the previous calendar month), `this month` (its 1st to today).
"""

from __future__ import annotations

import datetime as dt
import re

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = {name: index for index, name in enumerate(WEEKDAYS)}
_WEEKDAY_NAMES.update({name[:3]: index for index, name in enumerate(WEEKDAYS)})
_WEEKDAY_NAMES.update({"tues": 1, "thur": 3, "thurs": 3})
_RELATIVE_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_AGO = re.compile(r"^(\d{1,5}|an?|one) (day|week)s? ago$")
_IN = re.compile(r"^in (\d{1,5}|an?|one) (day|week)s?$")
_WEEKDAY = re.compile(r"^(?:(last|next) )?([a-z]+)$")
_ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[t ](\S.*)$")
_TIME_12H = re.compile(r"^(\d{1,2})(?::(\d{2}))?([ap])\.?m\.?$")
_TIME_24H = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_AT = re.compile(r"^(.*?)\s*\bat\s+(\S.*)$")
# How far back or ahead "N days ago" may reach: a century, past which it is a typo.
_MOST_DAYS = 36_600


def _words(text: str) -> str:
    return " ".join(str(text).strip().lower().split())


def time_of_day(text: str) -> str | None:
    """`15:00`, `3pm`, `3:30 p.m.`, `8` → `HH:MM` (24-hour); None if not a time."""
    text = _words(text).replace(" ", "")
    hour = minute = None
    if match := _TIME_24H.match(text):
        hour, minute = int(match.group(1)), int(match.group(2))
    elif match := _TIME_12H.match(text):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group(3) == "p" else 0)
    elif text.isdigit() and len(text) <= 2:
        hour, minute = int(text), 0
    if hour is None or minute is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """The day a phrase names, or None if it names none."""
    words = _words(text)
    if words in _RELATIVE_DAYS:
        return today + dt.timedelta(days=_RELATIVE_DAYS[words])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", words):
        try:
            return dt.date.fromisoformat(words)
        except ValueError:
            return None
    for pattern, sign in ((_AGO, -1), (_IN, 1)):
        if match := pattern.match(words):
            count = 1 if match.group(1) in ("a", "an", "one") else int(match.group(1))
            days = count * (7 if match.group(2) == "week" else 1)
            if days > _MOST_DAYS:
                return None
            return today + dt.timedelta(days=sign * days)
    if (match := _WEEKDAY.match(words)) and match.group(2) in _WEEKDAY_NAMES:
        back = (today.weekday() - _WEEKDAY_NAMES[match.group(2)]) % 7
        if match.group(1) == "next":
            return today + dt.timedelta(days=(7 - back) if back else 7)
        if match.group(1) == "last" and back == 0:
            back = 7
        return today - dt.timedelta(days=back)
    return None


def parse_moment(text: str, today: dt.date) -> tuple[dt.date, str | None] | None:
    """(day, `HH:MM` or None when no time is said), or None if the phrase is neither."""
    words = _words(text)
    if not words:
        return None
    if (day := parse_day(words, today)) is not None:
        return day, None
    if match := _AT.match(words):
        day_words, time_words = match.groups()
        day = parse_day(day_words, today) if day_words else today
        hhmm = time_of_day(time_words)
        return (day, hhmm) if day is not None and hhmm is not None else None
    if match := _ISO_MOMENT.match(words):
        day, hhmm = parse_day(match.group(1), today), time_of_day(match.group(2))
        return (day, hhmm) if day is not None and hhmm is not None else None
    # "yesterday 8am", "monday 09:00": the time is the last word.
    day_words, _, time_words = words.rpartition(" ")
    if day_words and (day := parse_day(day_words, today)) is not None:
        hhmm = time_of_day(time_words)
        if hhmm is not None:
            return day, hhmm
    return None


def parse_span(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last day a filter phrase covers, or None."""
    words = _words(text)
    monday = today - dt.timedelta(days=today.weekday())
    if words == "last week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if words == "this week":
        return monday, today
    first = today.replace(day=1)
    if words == "last month":
        last = first - dt.timedelta(days=1)
        return last.replace(day=1), last
    if words == "this month":
        return first, today
    day = parse_day(words, today)
    return (day, day) if day is not None else None


def leading_moment(text: str, today: dt.date
                   ) -> tuple[tuple[dt.date, str | None], str, str] | None:
    """A date phrase that starts the text and ends with a colon (`yesterday: …`,
    `today at 3:30pm: …`): (the moment, the phrase as typed, the rest of the text), or
    None. A colon counts only before a space, a line break or the end, so the colons
    inside `3:30pm` and `21:00` are the time's own."""
    stripped = text.lstrip()
    for found in re.finditer(r":(?=\s|$)", stripped[:60]):
        phrase = stripped[: found.start()]
        if "\n" in phrase:
            return None
        moment = parse_moment(phrase, today)
        if moment is not None:
            return moment, phrase.strip(), stripped[found.end():].lstrip()
    return None


def inline_tags(text: str) -> list[str]:
    """The `@tags` written in a text, in order, without the @ (`@errands`, `@knee-pain`).
    An @ inside a word (an e-mail address) is no tag; a tag starts with a letter."""
    return [tag.rstrip("-_") for tag in re.findall(r"(?<![\w@])@([^\W\d_][\w-]*)", text)]


# What each kind of date field accepts, for its error sentence: a date of birth is told
# of no "tomorrow", an appointment is, and a filter of "last week".
FORMS_BIRTH = "YYYY-MM-DD (e.g. 1984-03-09)"
FORMS_PAST = "YYYY-MM-DD, today, yesterday, a weekday (monday) or 3 days ago"
FORMS_AHEAD = "YYYY-MM-DD, today, tomorrow, next monday or in 3 days"
FORMS_SPAN = "YYYY-MM-DD, today, yesterday, monday, 3 days ago, last week or last month"


def is_future(day: str, time: str, now: dt.datetime) -> bool:
    """Whether a local day (`YYYY-MM-DD`) and time (`HH:MM`, or "" for none) come after
    `now` (local, naive): a later day, or today at a later minute. A day without a time
    is not in the future today."""
    today = now.date().isoformat()
    return day > today or (day == today and bool(time) and time > now.strftime("%H:%M"))
