"""Reading what people type: each bad value is a sentence naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from luna_tui.errors import ValidationError
from luna_tui.services import validation as v

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20", dt.date(2026, 11, 20)), ("today", TODAY), ("Yesterday", dt.date(2026, 11, 21)),
    (" tomorrow ", dt.date(2026, 11, 23)),
])
def test_dates_people_write(text, expected):
    assert v.parse_date(text, "appointment_date", TODAY) == expected


@pytest.mark.parametrize("text", ["2026-13-01", "22/11/2026", "next week", "2026-02-30"])
def test_a_date_that_is_not_a_date_names_the_field_and_the_form(text):
    with pytest.raises(ValidationError) as error:
        v.parse_date(text, "appointment_date", TODAY)
    assert "not a date" in str(error.value) and "appointment date" in str(error.value)
    assert "YYYY-MM-DD" in str(error.value)
    assert error.value.field == "appointment_date"


@pytest.mark.parametrize(("text", "expected"), [
    ("08:10", "08:10"), ("8:10", "08:10"), ("8am", "08:00"), ("8:30 pm", "20:30"),
    ("12am", "00:00"), ("12pm", "12:00"), ("23.59", "23:59"), ("7", "07:00"),
])
def test_times_people_write(text, expected):
    assert v.parse_time(text, "time") == expected


@pytest.mark.parametrize("text", ["25:00", "8:61", "13pm", "noonish", ""])
def test_bad_times_are_refused(text):
    with pytest.raises(ValidationError, match="not a time"):
        v.parse_time(text, "time")


def test_numbers_accept_a_decimal_comma_and_refuse_the_impossible():
    assert v.parse_number("72,5", "weight") == 72.5
    with pytest.raises(ValidationError, match="not possible"):
        v.parse_number("0", "pulse", low=25, high=250, unit="bpm")
    with pytest.raises(ValidationError, match="not a number"):
        v.parse_number("lots", "weight")
    with pytest.raises(ValidationError):
        v.parse_number("nan", "weight")


def test_a_mood_of_11_is_off_the_scale():
    assert v.parse_scale("7", "mood_scale", 1, 10) == 7
    for bad in ("11", "0", "6.5"):
        with pytest.raises(ValidationError, match="goes from 1 to 10"):
            v.parse_scale(bad, "mood_scale", 1, 10)


def test_tags_are_cleaned_and_deduplicated():
    assert v.clean_tags("#Sleep, knee  @work sleep") == ["sleep", "knee", "work"]
    assert v.clean_tags(["Knee Pain", "#knee pain"]) == ["knee-pain"]
    assert v.clean_tags(None) == []


def test_blank_required_text_is_refused():
    with pytest.raises(ValidationError, match="medication name can't be blank"):
        v.required_text("   ", "medication name")


def test_choices_list_what_is_allowed():
    assert v.choice("Follow-up", "type", ("routine", "follow_up")) == "follow_up"
    with pytest.raises(ValidationError, match="choose one of: routine, follow up"):
        v.choice("urgent", "type", ("routine", "follow_up"))
