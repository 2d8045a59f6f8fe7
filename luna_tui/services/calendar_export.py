"""Appointments as an iCalendar file (.ics), for the calendar a person already uses.

Each appointment keeps the same UID in every export, so importing a newer file
updates the events instead of adding them twice. Times are written in the person's
own time zone, with its VTIMEZONE, so a calendar on a phone in another zone still
shows the visit at the right hour; when the zone has no name Luna can find, the
times are written in UTC, which every calendar reads too.

Like every export, the file is plaintext, and the export is audited (how many, never
what) before the file is built.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luna_tui import __version__
from luna_tui.clock import local_zone, parse_utc_timestamp
from luna_tui.services.appointments import (
    FIRST_YEAR,
    LAST_YEAR,
    AppointmentCursor,
    AppointmentPage,
    Appointments,
    AppointmentView,
)
from luna_tui.services.base import DomainService, on_db_thread

if TYPE_CHECKING:
    from icalendar import Event

PRODID = f"-//Luna//luna-tui {__version__}//EN"
UID_DOMAIN = "luna-tui"
DEFAULT_DURATION_MINUTES = 60
TYPE_LABELS = {"routine": "Routine", "follow_up": "Follow-up", "specialist": "Specialist",
               "emergency": "Emergency", "other": "Other"}
_PAGE = 200


@dataclass(frozen=True)
class CalendarFile:
    data: bytes  # the .ics, ready to write as is
    count: int  # how many appointments (events) it holds
    left_out: int = 0  # dated outside the years a calendar holds (by an older Luna)

    def left_out_sentence(self) -> str:
        if not self.left_out:
            return ""
        one = self.left_out == 1
        return (f" {self.left_out} appointment{'' if one else 's'} dated before "
                f"{FIRST_YEAR} or after {LAST_YEAR} {'was' if one else 'were'} left out: "
                f"correct {'its' if one else 'their'} date{'' if one else 's'} first.")


def appointment_title(appointment: AppointmentView) -> str:
    """A title a calendar can show: "Specialist: Dr Rivera", "Routine appointment"."""
    kind = appointment.appointment_type
    label = "Appointment" if kind == "other" else TYPE_LABELS.get(kind, "Appointment")
    subject = appointment.provider_name or _first_line(appointment.reason, 60)
    if subject:
        return f"{label}: {subject}"
    return label if label == "Appointment" else f"{label} appointment"


class CalendarExport(DomainService):
    @on_db_thread
    def upcoming(self, patient_id: str) -> CalendarFile:
        """Every appointment from today on, cancelled ones too: re-importing the file
        then tells the calendar which visits are off (their STATUS is CANCELLED)."""
        service = Appointments(self.session)
        today = self.today().isoformat()
        ahead = [a for a in _every_page(service.past, patient_id) if a.appointment_date >= today]
        appointments = sorted(ahead + _every_page(service.upcoming, patient_id),
                              key=lambda a: (a.appointment_date, a.appointment_time or "", a.id))
        return self._export(appointments, "upcoming")

    @on_db_thread
    def everything(self, patient_id: str) -> CalendarFile:
        """Every appointment of the patient, past, cancelled and upcoming, oldest first."""
        service = Appointments(self.session)
        appointments = (_every_page(service.past, patient_id)
                        + _every_page(service.upcoming, patient_id))
        appointments.sort(key=lambda a: (a.appointment_date, a.appointment_time or "", a.id))
        return self._export(appointments, "all")

    @on_db_thread
    def one(self, appointment_id: str) -> CalendarFile:
        appointment = Appointments(self.session).get(appointment_id)
        return self._export([appointment], "one", record_locator=appointment_id)

    def _export(self, appointments: list[AppointmentView], scope: str, *,
                record_locator: str | None = None) -> CalendarFile:
        kept = [a for a in appointments
                if FIRST_YEAR <= int(a.appointment_date[:4]) <= LAST_YEAR]
        self._audit(len(kept), scope, record_locator)
        data = build_calendar(kept, stamp=self.session.clock.now(), zone=local_zone())
        return CalendarFile(data, len(kept), len(appointments) - len(kept))

    def _audit(self, count: int, scope: str, record_locator: str | None) -> None:
        # A read, so read-only keys may do it; but no data leaves the vault unrecorded,
        # even if building or writing the file then fails.
        with self.session.transaction() as tx:
            tx.record("export.ics", record_locator,
                      {"rows": [None, {"appointments": count}], "scope": [None, scope]})


def build_calendar(appointments: Sequence[AppointmentView], *, stamp: dt.datetime,
                   zone: str | None) -> bytes:
    """The .ics of `appointments`; `zone` is the IANA name of their local time zone,
    or None to write their times in UTC."""

    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    tz = zoneinfo.ZoneInfo(zone) if zone else None
    for appointment in appointments:
        calendar.add_component(_event(appointment, stamp, tz))
    if tz is not None and appointments:
        # Only the years the events need: a VTIMEZONE from 1970 on is mostly noise.
        years = [int(a.appointment_date[:4]) for a in appointments]
        calendar.add_missing_timezones(first_date=dt.date(min(years) - 1, 1, 1),
                                       last_date=dt.date(max(years) + 2, 1, 1))
    return calendar.to_ical()


def _event(appointment: AppointmentView, stamp: dt.datetime,
           tz: dt.tzinfo | None) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", f"{appointment.id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    for name, stored in (("created", appointment.created_at),
                         ("last-modified", appointment.updated_at)):
        if (moment := _utc(stored)) is not None:
            event.add(name, moment)
    start, end = _span(appointment, tz)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", appointment_title(appointment))
    if appointment.location:
        event.add("location", appointment.location)
    if description := _description(appointment):
        event.add("description", description)
    event.add("categories", [TYPE_LABELS.get(appointment.appointment_type, "Other")])
    event.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")
    return event


def _span(appointment: AppointmentView, tz: dt.tzinfo | None
          ) -> tuple[dt.date, dt.date] | tuple[dt.datetime, dt.datetime]:
    """Start and end; a day without a time is an all-day event (end: the next day)."""
    day = dt.date.fromisoformat(appointment.appointment_date)
    if not appointment.appointment_time:
        return day, day + dt.timedelta(days=1)
    local = dt.datetime.combine(day, dt.time.fromisoformat(appointment.appointment_time))
    # Without a zone name, a naive time is read as this machine's local time.
    start = local.replace(tzinfo=tz) if tz is not None else local.astimezone(dt.UTC)
    minutes = appointment.duration_minutes or DEFAULT_DURATION_MINUTES
    return start, start + dt.timedelta(minutes=minutes)


def _description(appointment: AppointmentView) -> str:
    parts = []
    if appointment.reason:
        parts.append(f"Reason: {appointment.reason}")
    if appointment.preparation_notes:
        parts.append(f"Preparation: {appointment.preparation_notes}")
    return "\n\n".join(parts)


def _every_page(fetch: Callable[..., AppointmentPage], patient_id: str
                ) -> list[AppointmentView]:
    appointments: list[AppointmentView] = []
    cursor: AppointmentCursor | None = None
    while True:
        page = fetch(patient_id, limit=_PAGE, after=cursor)
        appointments.extend(page.appointments)
        if page.next_cursor is None:
            return appointments
        cursor = page.next_cursor


def _utc(stored: str) -> dt.datetime | None:
    try:
        return parse_utc_timestamp(stored)
    except ValueError:  # a row from an older import, say: leave the property out
        return None


def _first_line(text: str | None, width: int) -> str:
    line = (text or "").strip().split("\n", 1)[0].strip()
    return line if len(line) <= width else line[: width - 1] + "…"
