"""The one grammar of date phrases (services/date_phrases.py), each phrase of the README's
table, and the sentences date fields give when a phrase is not one.

Tests marked `dates` run at each of conftest's TODAYS (a month's and a year's end, both
daylight-saving nights, a leap day): they say what they expect relative to the clock's
today, never as a literal date."""

from __future__ import annotations

import datetime as dt

import pytest

from luna_tui.errors import ValidationError
from luna_tui.services import date_phrases as p
from luna_tui.services import validation as v

DAY = dt.timedelta(days=1)


def _monday(day: dt.date) -> dt.date:
    return day - day.weekday() * DAY


@pytest.mark.dates
def test_today_yesterday_tomorrow(clock):
    today = clock.today()
    assert p.parse_day("today", today) == today
    assert p.parse_day(" Yesterday ", today) == today - DAY
    assert p.parse_day("TOMORROW", today) == today + DAY


@pytest.mark.dates
@pytest.mark.parametrize("name", ["monday", "Tuesday", "wed", "thu", "thurs", "friday",
                                  "sat", "sunday"])
def test_a_weekday_is_the_latest_such_day_today_counting(clock, name):
    today = clock.today()
    day = p.parse_day(name, today)
    assert day.strftime("%a").lower() == name.lower()[:3]
    assert today - 6 * DAY <= day <= today
    last = p.parse_day(f"last {name}", today)
    assert last.strftime("%a") == day.strftime("%a") and today - 7 * DAY <= last < today
    following = p.parse_day(f"next {name}", today)
    assert following.strftime("%a") == day.strftime("%a")
    assert today < following <= today + 7 * DAY


@pytest.mark.dates
def test_todays_weekday_is_today_and_last_is_a_week_ago(clock):
    today = clock.today()
    name = today.strftime("%A")
    assert p.parse_day(name, today) == today
    assert p.parse_day(f"last {name}", today) == today - 7 * DAY
    assert p.parse_day(f"next {name}", today) == today + 7 * DAY


@pytest.mark.dates
@pytest.mark.parametrize(("phrase", "days"), [
    ("3 days ago", -3), ("1 day ago", -1), ("a day ago", -1), ("2 weeks ago", -14),
    ("a week ago", -7), ("0 days ago", 0), ("in 3 days", 3), ("in 2 weeks", 14),
])
def test_days_and_weeks_ago_and_ahead(clock, phrase, days):
    today = clock.today()
    assert p.parse_day(phrase, today) == today + days * DAY


def test_iso_dates_and_what_is_not_a_day():
    today = dt.date(2026, 11, 22)
    assert p.parse_day("2026-11-30", today) == dt.date(2026, 11, 30)
    for text in ("2026-02-30", "22/11/2026", "someday", "next week", "", "99999 days ago",
                 "monday 9am", "lastmonday"):
        assert p.parse_day(text, today) is None, text


@pytest.mark.dates
@pytest.mark.parametrize(("phrase", "days", "time"), [
    ("today at 3pm", 0, "15:00"), ("today at 3:30pm", 0, "15:30"),
    ("today at 15:00", 0, "15:00"), ("at 3pm", 0, "15:00"), ("at 9:05 a.m.", 0, "09:05"),
    ("yesterday at 12am", -1, "00:00"), ("yesterday 08:10", -1, "08:10"),
    ("3 days ago at 21.15", -3, "21:15"), ("yesterday", -1, None),
])
def test_a_day_with_a_time(clock, phrase, days, time):
    today = clock.today()
    assert p.parse_moment(phrase, today) == (today + days * DAY, time)


@pytest.mark.dates
def test_a_weekday_at_a_time(clock):
    today = clock.today()
    assert p.parse_moment("monday at 9:00", today) == (_monday(today), "09:00")
    assert p.parse_moment("Sat at 3 pm", today) == (p.parse_day("saturday", today), "15:00")


def test_iso_date_and_time():
    today = dt.date(2026, 11, 22)
    for text in ("2026-11-30 21:00", "2026-11-30T21:00", "2026-11-30 at 9pm"):
        assert p.parse_moment(text, today) == (dt.date(2026, 11, 30), "21:00"), text
    for text in ("2026-11-30 25:00", "today at noonish", "someday at 3pm", "at", "3pm"):
        assert p.parse_moment(text, today) is None, text


@pytest.mark.dates
def test_last_week_is_the_previous_calendar_week(clock):
    today = clock.today()
    start, end = p.parse_span("last week", today)
    assert start.weekday() == 0 and end == start + 6 * DAY
    assert end < today <= end + 7 * DAY
    assert p.parse_span("this week", today) == (_monday(today), today)
    first, last = p.parse_span("last month", today)
    assert first.day == 1 and last + DAY == today.replace(day=1)
    assert p.parse_span("this month", today) == (today.replace(day=1), today)
    assert p.parse_span("yesterday", today) == (today - DAY, today - DAY)
    assert p.parse_span("next year", today) is None


@pytest.mark.dates
@pytest.mark.parametrize(("text", "phrase", "days", "time", "rest"), [
    ("yesterday: Went to the pharmacy @errands", "yesterday", -1, None,
     "Went to the pharmacy @errands"),
    ("today at 3pm: Pharmacy", "today at 3pm", 0, "15:00", "Pharmacy"),
    ("Today at 3:30pm:\nline one\nline two", "Today at 3:30pm", 0, "15:30",
     "line one\nline two"),
    ("3 days ago: knee", "3 days ago", -3, None, "knee"),
    ("  at 21:00: late", "at 21:00", 0, "21:00", "late"),
    ("yesterday:", "yesterday", -1, None, ""),
])
def test_a_leading_phrase_with_a_colon_sets_the_moment(clock, text, phrase, days, time,
                                                      rest):
    today = clock.today()
    assert p.leading_moment(text, today) == ((today + days * DAY, time), phrase, rest)


def test_leading_phrases_in_other_forms():
    today = dt.date(2026, 11, 22)
    assert p.leading_moment("2026-11-30 21:00: late dose", today) == (
        (dt.date(2026, 11, 30), "21:00"), "2026-11-30 21:00", "late dose")
    assert p.leading_moment("monday: tired", today)[0] == (dt.date(2026, 11, 16), None)
    for text in ("Note: call the clinic", "Knee: sore", "monday:tired", "at 8:30 I woke",
                 "Dinner\ntoday: fine", "", "12: dozen"):
        assert p.leading_moment(text, today) is None, text


def test_inline_tags_are_found_but_not_email_addresses():
    assert p.inline_tags("Went to @pharmacy, wrote a@b.com about @knee-pain. @3pm @Sleep_") == [
        "pharmacy", "knee-pain", "Sleep"]
    assert p.inline_tags("no tags here") == []


@pytest.mark.dates
def test_future_is_a_later_day_or_a_later_minute_today(clock):
    now = clock.now().astimezone().replace(tzinfo=None)
    today = now.date()
    assert p.is_future((today + DAY).isoformat(), "", now)
    assert not p.is_future(today.isoformat(), "", now)
    assert not p.is_future(today.isoformat(), now.strftime("%H:%M"), now)
    assert not p.is_future((today - DAY).isoformat(), "23:59", now)
    later = now + dt.timedelta(minutes=1)
    if later.date() == today:
        assert p.is_future(today.isoformat(), later.strftime("%H:%M"), now)


# -- every date field reads the grammar ----------------------------------------------------


@pytest.mark.dates
def test_every_date_field_reads_the_phrases(clock):
    today = clock.today()
    assert v.parse_date("3 days ago", "entry_date", today) == today - 3 * DAY
    assert v.parse_date("monday", "event_date", today) == _monday(today)
    assert v.parse_date("next friday", "appointment_date", today) > today
    now = clock.now().astimezone().replace(tzinfo=None)
    assert v.parse_local_moment("yesterday at 8pm", "measured_at", now) == (
        f"{(today - DAY).isoformat()}T20:00")
    assert v.parse_local_moment("monday", "dose time", now) == (
        f"{_monday(today).isoformat()}T{now:%H:%M}")
    assert v.parse_optional_span("last week", "from date", today)[0].weekday() == 0


def test_a_date_of_birth_is_not_told_of_tomorrow():
    with pytest.raises(ValidationError) as error:
        v.parse_date("the ninth", "date_of_birth", dt.date(2026, 11, 22))
    assert "YYYY-MM-DD" in str(error.value)
    assert "tomorrow" not in str(error.value) and "yesterday" not in str(error.value)
    assert error.value.field == "date_of_birth"


@pytest.mark.parametrize(("field", "told", "not_told"), [
    ("entry_date", ["yesterday", "3 days ago", "monday"], ["tomorrow", "last week"]),
    ("appointment_date", ["tomorrow", "next monday", "in 3 days"], ["last week"]),
    ("from date", ["last week", "yesterday"], []),
])
def test_each_field_lists_what_it_accepts(field, told, not_told):
    today = dt.date(2026, 11, 22)
    with pytest.raises(ValidationError) as error:
        if field == "from date":
            v.parse_optional_span("soonish", field, today)
        else:
            v.parse_date("soonish", field, today)
    sentence = str(error.value)
    assert "'soonish' is not a date" in sentence
    assert all(form in sentence for form in told), sentence
    assert not any(form in sentence for form in not_told), sentence


def test_a_span_or_a_time_in_a_day_field_says_so():
    today = dt.date(2026, 11, 22)
    with pytest.raises(ValidationError, match="is a span of days"):
        v.parse_date("last week", "entry_date", today)
    with pytest.raises(ValidationError, match="has a time in it"):
        v.parse_date("today at 3pm", "entry_date", today)


def test_the_grammar_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, luna_tui.services.date_phrases; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('peewee', 'textual', 'rich', 'dateutil', 'dateparser')))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert shown == "[]"
