"""Appointments in the app: add one, record how it went and book the follow-up it
asked for, move between upcoming and past, export to .ics and read the file back.

Dates are days from `clock.today()`, which the app's clock and the reopened vault's
share; the test marked `dates` runs at each "today" of the date matrix.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    screen_text,
    settle,
    table_rows,
    type_text,
    unlock,
    widget_text,
)
from conftest import PASSPHRASE
from luna_tui.services.appointments import Appointments
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


def in_days(clock, days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=days)


def table_day(day: dt.date) -> str:
    return day.strftime("%a %d %b %Y")


@pytest.fixture
def booked(session, clock):
    """A visit to Dr Rivera in two days, with the vault closed again."""
    me = Settings(session).current_patient_id()
    visit = Appointments(session).create(me, in_days(clock, 2), appointment_time="09:30",
                                         duration_minutes=30, provider_name="Dr Rivera",
                                         location="City Clinic", appointment_type="specialist",
                                         reason="Knee pain")
    session.close()
    return visit


async def open_appointments(pilot) -> None:
    await unlock(pilot)
    await pilot.press("4")
    await settle(pilot)


@pytest.mark.dates
async def test_add_an_appointment(layout, session, clock):
    session.close()
    tomorrow = in_days(clock, 1)
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_appointments(pilot)
        assert widget_text(pilot, "#appointments-status").startswith(
            "No upcoming appointments. Press n to add one")
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "tomorrow")
        await pilot.press("tab")
        await type_text(pilot, "2:30pm")
        await pilot.press("tab", "tab", "tab", "tab")  # minutes, type, status → provider
        await type_text(pilot, "Physio")
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = table_rows(pilot, "#appointments")
        assert [r[:4] for r in rows] == [[table_day(tomorrow), "14:30", "routine", "Physio"]]
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        me = Settings(reopened).current_patient_id()
        [saved] = Appointments(reopened).upcoming(me).appointments
        assert (saved.appointment_date, saved.appointment_time) == (tomorrow.isoformat(),
                                                                    "14:30")


async def test_a_date_that_is_not_a_date_is_refused_under_its_field(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_appointments(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "next week")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'next week' is not a date" in field_error(pilot, "appointment_date")
        assert app.screen.focused.id == "appointment_date"


async def test_record_how_it_went_and_book_the_follow_up(layout, booked, clock):
    follow_up_day = in_days(clock, 16)
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_appointments(pilot)
        assert "Reason: Knee pain" in widget_text(pilot, "#appointment-body")
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.focused.id == "outcome_summary"
        await type_text(pilot, "Physio for six weeks")
        await pilot.press("shift+tab", "shift+tab", "shift+tab")  # → the follow-up box
        await pilot.press("space", "ctrl+s")
        await settle(pilot)
        assert "Book the follow-up now?" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#provider_name").value == "Dr Rivera"
        await type_text(pilot, follow_up_day.isoformat())
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = table_rows(pilot, "#appointments")
        assert [(r[0], r[2], r[3]) for r in rows] == [(table_day(follow_up_day), "follow-up",
                                                       "Dr Rivera")]
        await pilot.press("u")
        await settle(pilot)
        assert table_rows(pilot, "#appointments")[0][5] == "completed"
        details = widget_text(pilot, "#appointment-body")
        assert "Outcome: Physio for six weeks" in details
        assert f"Follow-up booked: {follow_up_day}" in details
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        service = Appointments(reopened)
        original = service.get(booked.id)
        assert original.status == "completed" and not original.follow_up_required
        [follow_up] = service.follow_ups(booked.id)
        assert follow_up.appointment_type == "follow_up"


async def test_export_one_appointment_to_a_calendar_file(layout, booked, tmp_path, clock):
    from icalendar import Calendar

    target = tmp_path / "visit.ics"
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_appointments(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert "NOT encrypted" in screen_text(pilot)
        path = app.screen.query_one("#path")
        path.value = ""
        await type_text(pilot, str(target))
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.startswith("Wrote 1 appointment to") for n in notifications(pilot))
    calendar = Calendar.from_ical(target.read_bytes())
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{booked.id}@luna-tui"
    assert event.decoded("DTSTART") == dt.datetime.combine(
        in_days(clock, 2), dt.time(9, 30), tzinfo=event.decoded("DTSTART").tzinfo)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=30)
    assert str(event["LOCATION"]) == "City Clinic"
    assert oct(target.stat().st_mode & 0o777) == "0o600"


async def test_delete_asks_first(layout, booked, clock):
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_appointments(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert f"Delete Dr Rivera on {booked.appointment_date}?" in screen_text(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert len(table_rows(pilot, "#appointments")) == 1
        await pilot.press("x", "y")
        await settle(pilot)
        assert table_rows(pilot, "#appointments") == []
