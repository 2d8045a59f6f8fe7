"""Appointments exported as .ics, read back with icalendar as a calendar app would.

Visits are days from `clock.today()`; the tests marked `dates` run at each "today" of
the date matrix (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from contextlib import ExitStack

import pytest
from icalendar import Calendar

from conftest import OTHER_PASSPHRASE, local_timezone
from luna_tui import __version__
from luna_tui.clock import local_zone, parse_utc_timestamp
from luna_tui.errors import NotFound
from luna_tui.services.appointments import Appointments
from luna_tui.services.calendar_export import CalendarExport, appointment_title
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def local_tz():
    """Set TZ for this process (tzset, so naive local times follow it too), then restore."""
    with ExitStack() as stack:
        yield lambda value: stack.enter_context(local_timezone(value))


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


def days_from_today(clock, days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=days)


@pytest.fixture
def visits(session, me, clock):
    """Two upcoming (in 2 and 9 days), one cancelled (in 18), one past (52 days ago)."""
    appts = Appointments(session)
    return {
        "specialist": appts.create(
            me, days_from_today(clock, 2), appointment_time="09:30", duration_minutes=45,
            appointment_type="specialist", provider_name="Dr Rivera", location="Clinic 3",
            reason="Knee pain\nsince October", preparation_notes="Bring the MRI"),
        "all_day": appts.create(me, days_from_today(clock, 9), reason="Blood test"),
        "cancelled": appts.create(me, days_from_today(clock, 18), appointment_time="14:00",
                                  provider_name="Physio", status="cancelled"),
        "past": appts.create(me, days_from_today(clock, -52), appointment_time="10:00",
                             appointment_type="other", provider_name="Dentist"),
    }


def day_of(appointment) -> dt.date:
    return dt.date.fromisoformat(appointment.appointment_date)


def events_by_uid(data: bytes) -> tuple[Calendar, dict[str, object]]:
    calendar = Calendar.from_ical(data)
    return calendar, {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def uid(appointment) -> str:
    return f"{appointment.id}@luna-tui"


@pytest.mark.dates
def test_every_field_of_an_upcoming_export(session, me, visits, clock, local_tz):
    local_tz("Europe/Berlin")
    exported = CalendarExport(session).upcoming(me)
    assert exported.count == 3  # with the cancelled one, so calendars drop it
    calendar, events = events_by_uid(exported.data)
    assert (str(calendar["PRODID"]), str(calendar["VERSION"]), str(calendar["CALSCALE"]),
            str(calendar["METHOD"])) == (f"-//Luna//luna-tui {__version__}//EN", "2.0",
                                         "GREGORIAN", "PUBLISH")
    assert set(events) == {uid(visits["specialist"]), uid(visits["all_day"]),
                           uid(visits["cancelled"])}
    assert str(events[uid(visits["cancelled"])]["STATUS"]) == "CANCELLED"

    visit = events[uid(visits["specialist"])]
    start, end = visit["DTSTART"], visit["DTEND"]
    assert start.dt == dt.datetime.combine(day_of(visits["specialist"]), dt.time(9, 30),
                                           tzinfo=BERLIN)
    assert start.params["TZID"] == end.params["TZID"] == "Europe/Berlin"
    assert end.dt - start.dt == dt.timedelta(minutes=45)
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert visit["DTSTAMP"].dt == clock.now()
    updated = parse_utc_timestamp(visits["specialist"].updated_at).replace(microsecond=0)
    assert visit["LAST-MODIFIED"].dt == updated
    assert str(visit["SUMMARY"]) == "Specialist: Dr Rivera"
    assert str(visit["LOCATION"]) == "Clinic 3"
    description = str(visit["DESCRIPTION"])
    assert "Reason: Knee pain\nsince October" in description
    assert "Preparation: Bring the MRI" in description
    assert [str(c) for c in visit["CATEGORIES"].cats] == ["Specialist"]
    assert str(visit["STATUS"]) == "CONFIRMED"


@pytest.mark.dates
def test_a_day_without_a_time_is_an_all_day_event(session, me, visits, local_tz):
    local_tz("Europe/Berlin")
    _, events = events_by_uid(CalendarExport(session).upcoming(me).data)
    day = events[uid(visits["all_day"])]
    assert day["DTSTART"].dt == day_of(visits["all_day"])
    assert day["DTEND"].dt == day_of(visits["all_day"]) + dt.timedelta(days=1)
    assert day["DTSTART"].params["VALUE"] == "DATE"
    assert str(day["SUMMARY"]) == "Routine: Blood test"
    assert "LOCATION" not in day


@pytest.mark.dates
def test_everything_holds_past_and_cancelled_visits(session, me, visits, local_tz):
    local_tz("Europe/Berlin")
    exported = CalendarExport(session).everything(me)
    assert exported.count == 4
    _, events = events_by_uid(exported.data)
    assert set(events) == {uid(v) for v in visits.values()}
    cancelled = events[uid(visits["cancelled"])]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    # No duration given: an hour.
    assert cancelled["DTEND"].dt - cancelled["DTSTART"].dt == dt.timedelta(minutes=60)
    assert str(events[uid(visits["past"])]["SUMMARY"]) == "Appointment: Dentist"
    assert [str(c) for c in events[uid(visits["past"])]["CATEGORIES"].cats] == ["Other"]


@pytest.mark.dates
def test_uids_stay_the_same_so_a_new_import_updates(session, me, visits, clock):
    before = events_by_uid(CalendarExport(session).upcoming(me).data)[1]
    clock.advance(hours=2)
    Appointments(session).update(visits["specialist"].id, appointment_time="11:00")
    after = events_by_uid(CalendarExport(session).upcoming(me).data)[1]
    assert set(before) == set(after)
    key = uid(visits["specialist"])
    assert after[key]["LAST-MODIFIED"].dt > before[key]["LAST-MODIFIED"].dt
    assert after[key]["DTSTAMP"].dt == before[key]["DTSTAMP"].dt + dt.timedelta(hours=2)


def test_without_a_zone_name_times_are_utc_from_the_local_offset(session, me, visits,
                                                                   local_tz):
    local_tz("CET-1CEST")  # a POSIX rule: the offset is known, the zone has no name
    assert local_zone() is None
    calendar, events = events_by_uid(CalendarExport(session).upcoming(me).data)
    start = events[uid(visits["specialist"])]["DTSTART"]
    day = day_of(visits["specialist"])  # in November: standard time, +01:00
    assert start.dt == dt.datetime.combine(day, dt.time(8, 30), tzinfo=dt.UTC)  # 09:30 local
    assert "TZID" not in start.params and not calendar.walk("VTIMEZONE")
    assert f"DTSTART:{day:%Y%m%d}T083000Z".encode() in CalendarExport(session).upcoming(me).data


def test_an_empty_tz_means_utc(session, me, visits, local_tz):
    local_tz("")
    data = CalendarExport(session).upcoming(me).data
    _, events = events_by_uid(data)
    assert events[uid(visits["specialist"])]["DTSTART"].dt == dt.datetime.combine(
        day_of(visits["specialist"]), dt.time(9, 30), tzinfo=dt.UTC)
    assert b"VTIMEZONE" not in data


def test_one_appointment(session, visits, local_tz):
    local_tz("Europe/Berlin")
    exported = CalendarExport(session).one(visits["cancelled"].id)
    assert exported.count == 1
    _, events = events_by_uid(exported.data)
    assert list(events) == [uid(visits["cancelled"])]
    with pytest.raises(NotFound):
        CalendarExport(session).one("no-such-id")


@pytest.mark.dates
def test_upcoming_reads_every_page(session, me, monkeypatch, clock):
    monkeypatch.setattr("luna_tui.services.calendar_export._PAGE", 2)
    for days in range(1, 6):
        Appointments(session).create(me, days_from_today(clock, days), appointment_time="10:00")
    assert CalendarExport(session).upcoming(me).count == 5


def test_the_file_is_what_calendar_apps_expect(session, me, visits, local_tz):
    local_tz("Europe/Berlin")
    data = CalendarExport(session).everything(me).data
    lines = data.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-2] == b"END:VCALENDAR"
    assert all(len(line) <= 75 for line in lines)  # folded, as RFC 5545 asks
    # Time zones come before the events that use them.
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    for event in Calendar.from_ical(data).walk("VEVENT"):
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(event)


def audit_rows(session, event="export.ics"):
    return session.run(lambda: [
        (r.record_locator, json.loads(r.diff), r.key_locator_hash)
        for r in AuditEvent.select().where(AuditEvent.event_name == event)])


def test_every_export_is_audited_without_its_text(session, me, visits):
    CalendarExport(session).upcoming(me)
    CalendarExport(session).one(visits["past"].id)
    rows = audit_rows(session)
    assert rows[0][:2] == (None, {"rows": [None, {"appointments": 3}],
                                  "scope": [None, "upcoming"]})
    assert rows[1][:2] == (visits["past"].id, {"rows": [None, {"appointments": 1}],
                                               "scope": [None, "one"]})
    assert "Rivera" not in json.dumps([r[1] for r in rows])


def test_the_audit_row_comes_before_the_file(session, me, visits, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the calendar could not be built")

    monkeypatch.setattr("luna_tui.services.calendar_export.build_calendar", broken)
    with pytest.raises(RuntimeError):
        CalendarExport(session).everything(me)
    assert len(audit_rows(session)) == 1


@pytest.mark.dates
def test_a_read_only_key_can_export_and_is_audited(session, me, visits, layout, clock):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE, clock=clock) as caregiver:
        assert caregiver.read_only
        assert CalendarExport(caregiver).upcoming(me).count == 3
        rows = audit_rows(caregiver)
        assert len(rows) == 1 and rows[0][2] == caregiver.key.locator


def test_titles_read_well():
    from luna_tui.services.appointments import AppointmentView

    def view(**fields):
        base = dict(id="x", patient_id="p", appointment_date="2026-12-01",
                    appointment_time=None, duration_minutes=None, appointment_type="routine",
                    provider_name=None, location=None, reason=None, preparation_notes=None,
                    status="scheduled", outcome_summary=None, follow_up_required=False,
                    follow_up_of=None, created_at="", updated_at="")
        return AppointmentView(**{**base, **fields})

    assert appointment_title(view(appointment_type="follow_up", provider_name="Dr R")) == (
        "Follow-up: Dr R")
    assert appointment_title(view()) == "Routine appointment"
    assert appointment_title(view(appointment_type="other")) == "Appointment"
    assert appointment_title(view(reason="x" * 80)).endswith("…")


# -- the local time zone ------------------------------------------------------------------


@pytest.mark.parametrize(("tz", "zone"), [
    ("Europe/Berlin", "Europe/Berlin"),
    (":Europe/Paris", "Europe/Paris"),
    ("", None),
    ("CET-1CEST", None),
    ("Not/A_Zone", None),
    ("Europe", None),  # a folder of the zone database, not a zone
])
def test_local_zone_from_tz(monkeypatch, tz, zone):
    monkeypatch.setenv("TZ", tz)
    assert local_zone() == zone


def test_local_zone_from_the_system_files(monkeypatch, tmp_path):
    monkeypatch.delenv("TZ", raising=False)
    link = tmp_path / "localtime"
    link.symlink_to(tmp_path / "usr/share/zoneinfo/America/New_York")
    named = tmp_path / "timezone"
    named.write_text("Asia/Kolkata\n")
    monkeypatch.setattr("luna_tui.clock.LOCALTIME_LINK", link)
    monkeypatch.setattr("luna_tui.clock.TIMEZONE_FILE", named)
    assert local_zone() == "America/New_York"
    link.unlink()
    assert local_zone() == "Asia/Kolkata"
    named.write_text("nonsense\n")
    assert local_zone() is None


@pytest.mark.parametrize("typo", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_an_appointment_dated_outside_any_calendar_is_refused(session, me, typo):
    """A year a calendar can't hold is a typo: said, and nothing is saved (exporting one
    ended in 'something went wrong inside Luna')."""
    from luna_tui.errors import ValidationError

    with pytest.raises(ValidationError) as error:
        Appointments(session).create(me, typo, provider_name="Dr Rivera")
    assert error.value.field == "appointment_date"
    assert Appointments(session).upcoming(me).appointments == []


def test_one_saved_by_an_older_luna_is_left_out_of_the_calendar_and_said(session, me, clock,
                                                                         local_tz):
    from luna_tui.store.models.appointments import Appointment

    kept = Appointments(session).create(me, days_from_today(clock, 3), provider_name="Dr Kim")
    typo = Appointments(session).create(me, days_from_today(clock, 4), provider_name="Dr X")
    session.run(lambda: Appointment.update(appointment_date="9999-12-31")
                .where(Appointment.id == typo.id).execute())

    calendar = CalendarExport(session).everything(me)
    _, events = events_by_uid(calendar.data)
    assert list(events) == [uid(kept)]
    assert (calendar.count, calendar.left_out) == (1, 1)
    assert "1 appointment dated before 1900 or after 2199 was left out" in (
        calendar.left_out_sentence())
