"""Appointments: upcoming and past, their status and outcome, and follow-ups.

Upcoming means today or later and still scheduled (or rescheduled); everything else
is past. Both lists are keyset pages: upcoming soonest first, past latest first.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import SQL

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.validation import (
    choice,
    optional_text,
    parse_date,
    parse_optional_number,
    parse_optional_time,
    refuse_controls,
)
from luna_tui.store.models.appointments import Appointment
from luna_tui.store.models.patients import Patient

TYPES = ("routine", "follow_up", "specialist", "emergency", "other")
STATUSES = ("scheduled", "completed", "cancelled", "rescheduled")
OPEN_STATUSES = ("scheduled", "rescheduled")
# An appointment's year: anything outside is a typo (9999-12-31), and calendars can't
# hold it (an all-day event ends the next day; a time zone needs the years around it).
FIRST_YEAR, LAST_YEAR = 1900, 2199
FIELDS = ("appointment_date", "appointment_time", "duration_minutes", "appointment_type",
          "provider_name", "location", "reason", "preparation_notes", "status",
          "outcome_summary", "follow_up_required")
FREE_TEXT = frozenset({"reason", "preparation_notes", "outcome_summary"})


@dataclass(frozen=True)
class AppointmentView:
    id: str
    patient_id: str
    appointment_date: str
    appointment_time: str | None
    duration_minutes: int | None
    appointment_type: str
    provider_name: str | None
    location: str | None
    reason: str | None
    preparation_notes: str | None
    status: str
    outcome_summary: str | None
    follow_up_required: bool
    follow_up_of: str | None
    created_at: str
    updated_at: str


def _view(row: Appointment) -> AppointmentView:
    return AppointmentView(
        id=row.id, patient_id=row.patient_id, appointment_date=row.appointment_date,
        appointment_time=row.appointment_time, duration_minutes=row.duration_minutes,
        appointment_type=row.appointment_type, provider_name=row.provider_name,
        location=row.location, reason=row.reason, preparation_notes=row.preparation_notes,
        status=row.status, outcome_summary=row.outcome_summary,
        follow_up_required=bool(row.follow_up_required), follow_up_of=row.follow_up_of_id,
        created_at=row.created_at, updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class AppointmentCursor:
    appointment_date: str
    appointment_time: str
    id: str


@dataclass(frozen=True)
class AppointmentPage:
    appointments: list[AppointmentView]
    next_cursor: AppointmentCursor | None


class Appointments(DomainService):
    @on_db_thread
    def upcoming(self, patient_id: str, *, limit: int = 50,
                 after: AppointmentCursor | None = None) -> AppointmentPage:
        query = Appointment.select().where(
            Appointment.patient == patient_id,
            Appointment.appointment_date >= self.today().isoformat(),
            Appointment.status.in_(OPEN_STATUSES))
        return self._page(query, limit, after, newest_first=False)

    @on_db_thread
    def past(self, patient_id: str, *, limit: int = 50,
             after: AppointmentCursor | None = None) -> AppointmentPage:
        query = Appointment.select().where(
            Appointment.patient == patient_id,
            (Appointment.appointment_date < self.today().isoformat())
            | Appointment.status.not_in(OPEN_STATUSES))
        return self._page(query, limit, after, newest_first=True)

    def _page(self, query, limit: int, after: AppointmentCursor | None,  # noqa: ANN001
              *, newest_first: bool) -> AppointmentPage:
        key = "(appointment_date, coalesce(appointment_time, ''), id)"
        if after is not None:
            query = query.where(SQL(f"{key} {'<' if newest_first else '>'} (?, ?, ?)",
                                    (after.appointment_date, after.appointment_time, after.id)))
        direction = "DESC" if newest_first else "ASC"
        order = [SQL(f"{column} {direction}") for column in
                 ("appointment_date", "coalesce(appointment_time, '')", "id")]
        rows = [_view(r) for r in query.order_by(*order).limit(limit + 1)]
        cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            cursor = AppointmentCursor(last.appointment_date, last.appointment_time or "",
                                       last.id)
        return AppointmentPage(rows[:limit], cursor)

    @on_db_thread
    def get(self, appointment_id: str) -> AppointmentView:
        return _view(self._row(appointment_id))

    @on_db_thread
    def create(self, patient_id: str, appointment_date: object, **details: object
               ) -> AppointmentView:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")
        refuse_controls(details)
        values = self._validated({"appointment_date": appointment_date, **details})
        stamp = self.stamp()
        follow_up_of = details.get("follow_up_of")
        if follow_up_of:
            self._row(str(follow_up_of))
        with self.session.writing("add an appointment") as tx:
            row = Appointment.create(id=new_id(), patient=patient_id, created_at=stamp,
                                     updated_at=stamp, follow_up_of=follow_up_of or None,
                                     **values)
            tx.record("appointment.create", row.id, audit_diff(None, values, FREE_TEXT))
        return _view(row)

    @on_db_thread
    def update(self, appointment_id: str, **changes: object) -> AppointmentView:
        row = self._row(appointment_id)
        before = {f: getattr(row, f) for f in FIELDS}
        refuse_controls(changes, stored=before)
        values = self._validated({**before, **changes})
        changed = {k: v for k, v in values.items() if v != before[k]}
        if not changed:
            return _view(row)
        with self.session.writing("change an appointment") as tx:
            Appointment.update(updated_at=self.stamp(), **changed).where(
                Appointment.id == appointment_id).execute()
            tx.record("appointment.update", appointment_id, audit_diff(before, values, FREE_TEXT))
        return _view(self._row(appointment_id))

    @on_db_thread
    def set_status(self, appointment_id: str, status: str, *,
                   outcome_summary: str | None = None) -> AppointmentView:
        changes: dict[str, object] = {"status": status}
        if outcome_summary is not None:
            changes["outcome_summary"] = outcome_summary
        return self.update(appointment_id, **changes)

    @on_db_thread
    def create_follow_up(self, appointment_id: str, appointment_date: object,
                         **details: object) -> AppointmentView:
        """A follow-up visit: same provider and place unless told otherwise, linked back."""
        original = self._row(appointment_id)
        defaults = {"provider_name": original.provider_name, "location": original.location,
                    "appointment_type": "follow_up",
                    "reason": f"Follow-up of {original.appointment_date}"
                    + (f": {original.reason}" if original.reason else "")}
        with self.session.writing("add a follow-up"):
            follow_up = self.create(original.patient_id, appointment_date,
                                    follow_up_of=appointment_id, **{**defaults, **details})
            if original.follow_up_required:
                self.update(appointment_id, follow_up_required=False)
        return follow_up

    @on_db_thread
    def follow_ups(self, appointment_id: str) -> list[AppointmentView]:
        query = Appointment.select().where(Appointment.follow_up_of == appointment_id)
        return [_view(r) for r in query.order_by(Appointment.appointment_date)]

    @on_db_thread
    def delete(self, appointment_id: str) -> None:
        row = self._row(appointment_id)
        with self.session.writing("delete an appointment") as tx:
            Appointment.delete().where(Appointment.id == appointment_id).execute()
            tx.record("appointment.delete", appointment_id,
                      audit_diff({f: getattr(row, f) for f in FIELDS}, None, FREE_TEXT))

    def _row(self, appointment_id: str) -> Appointment:
        row = Appointment.get_or_none(Appointment.id == appointment_id)
        if row is None:
            raise NotFound("That appointment no longer exists.")
        return row

    def _validated(self, values: dict[str, object]) -> dict[str, object]:
        unknown = set(values) - set(FIELDS) - {"follow_up_of"}
        if unknown:
            raise ValidationError(f"Appointments have no field {', '.join(sorted(unknown))}.")
        day = parse_date(values.get("appointment_date"), "appointment_date", self.today())
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValidationError(
                f"An appointment on {day.isoformat()} can't be right: its date must fall "
                f"between {FIRST_YEAR} and {LAST_YEAR}.", "appointment_date")
        duration = parse_optional_number(values.get("duration_minutes"), "duration_minutes",
                                         low=1, high=24 * 60, unit="minutes")
        return {
            "appointment_date": day.isoformat(),
            "appointment_time": parse_optional_time(values.get("appointment_time"),
                                                    "appointment_time"),
            "duration_minutes": int(duration) if duration is not None else None,
            "appointment_type": choice(values.get("appointment_type"), "appointment_type",
                                       TYPES, "routine"),
            "provider_name": optional_text(values.get("provider_name")),
            "location": optional_text(values.get("location")),
            "reason": optional_text(values.get("reason"), multiline=True),
            "preparation_notes": optional_text(values.get("preparation_notes"), multiline=True),
            "status": choice(values.get("status"), "status", STATUSES, "scheduled"),
            "outcome_summary": optional_text(values.get("outcome_summary"), multiline=True),
            "follow_up_required": 1 if values.get("follow_up_required") else 0,
        }
