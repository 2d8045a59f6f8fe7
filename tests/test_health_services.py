"""Patients, medications, appointments and vitals through their services: the happy
paths, the bad input each must refuse in a sentence, and the cascades.

Tests marked `dates` run at each "today" of the date matrix (tests/conftest.py): their
dates are days before or after `clock.today()`.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.appointments import Appointments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications, schedule_from_frequency
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals
from luna_tui.store.models.audit import AuditEvent


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


def days_from(day: dt.date, count: int) -> dt.date:
    return day + dt.timedelta(days=count)


# -- patients ------------------------------------------------------------------------------


def test_a_new_vault_has_its_owner_as_patient(session, me):
    patients = Patients(session).list()
    assert [(p.name, p.relationship, p.id) for p in patients] == [("Me", "self", me)]
    assert patients[0].is_owner


def test_patients_are_added_renamed_archived_and_found(session, me, clock):
    patients = Patients(session)
    mum = patients.create("Mum", date_of_birth="1950-03-04", primary_doctor="Dr Rivera",
                          notes="Hard of hearing")
    assert mum.age(dt.date(2026, 11, 22)) == 76
    assert patients.find("mum").id == mum.id and patients.find("Mu").id == mum.id
    with pytest.raises(ValidationError, match="More than one patient matches 'M'"):
        patients.find("M")
    renamed = patients.update(me, name="Alex")
    assert renamed.name == "Alex" and patients.get(me).name == "Alex"
    patients.set_archived(mum.id, True)
    assert [p.name for p in patients.list()] == ["Alex"]
    assert [p.name for p in patients.list(include_archived=True)] == ["Alex", "Mum"]
    with pytest.raises(NotFound, match="no patient called 'Dad'"):
        patients.find("Dad")


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": "  "}, "name can't be blank"),
    ({"name": "Kid", "date_of_birth": "2030-01-01"}, "in the future"),
    ({"name": "Kid", "date_of_birth": "01/02/2010"}, "not a date"),
    ({"name": "Kid", "shoe_size": 40}, "no field shoe_size"),
])
def test_bad_patient_input(session, fields, message):
    with pytest.raises(ValidationError, match=message):
        Patients(session).create(**fields)


def test_the_current_patient_is_a_setting_that_survives_archiving(session, me):
    patients, settings = Patients(session), Settings(session)
    dad = patients.create("Dad")
    settings.set("current_patient", dad.id)
    assert settings.current_patient_id() == dad.id
    patients.set_archived(dad.id, True)
    assert settings.current_patient_id() == me  # falls back to the owner
    with pytest.raises(ValidationError, match="no setting called"):
        settings.set("colour", "blue")
    with pytest.raises(ValidationError, match="auto_lock_minutes must be a whole number"):
        settings.set("auto_lock_minutes", 0)


def test_deleting_a_patient_removes_everything_of_theirs(session, me):
    patients = Patients(session)
    dad = patients.create("Dad")
    Journal(session).create(dad.id, EntryDraft(content="Dad's day", tags=["visit"]))
    med = Medications(session).create(dad.id, "Aspirin", "75 mg", "once daily")
    Medications(session).log_dose(med.id, "taken")
    Appointments(session).create(dad.id, "2026-12-01", provider_name="Dr Who")
    Vitals(session).record(dad.id, "heart_rate", 70)
    impact = patients.deletion_impact(dad.id)
    assert (impact.journal_entries, impact.medications, impact.doses, impact.appointments,
            impact.vitals) == (1, 1, 1, 1, 1)
    assert impact.sentence() == ("1 journal entries, 1 medications, 1 dose logs, "
                                 "1 appointments, 1 vital readings")
    patients.delete(dad.id)
    assert patients.deletion_impact(me).sentence() == "no other data"
    assert Journal(session).search(dad.id, "day") == []
    assert Journal(session).tag_counts(dad.id) == []
    with pytest.raises(ValidationError, match="only patient"):
        patients.delete(me)


def test_deleting_a_chat_session_keeps_its_journal_entries(session, me):
    from luna_tui.store.models.ai import ChatSession, ConversationSummary, Message, SemanticPin

    def make_session():
        with session.writing("test"):
            ChatSession.create(id="s1", patient=me, title="Chat", created_at="t",
                               updated_at="t")
            msg = Message.create(session="s1", role="user", content="hello", created_at="t",
                                 updated_at="t")
            SemanticPin.create(id="p1", session="s1", patient=me, message=msg.id,
                               content="allergic to penicillin", created_at="t",
                               updated_at="t")
            ConversationSummary.create(id="c1", session="s1", patient=me, summary="hi",
                                       created_at="t", updated_at="t")

    session.run(make_session)
    entry = Journal(session).create(me, EntryDraft(content="From the chat", session_id="s1"))

    def delete_session():
        with session.writing("test"):
            ChatSession.delete().where(ChatSession.id == "s1").execute()
        return (Message.select().count(), SemanticPin.select().count(),
                ConversationSummary.select().count())

    assert session.run(delete_session) == (0, 0, 0)
    kept = Journal(session).get(entry.id)
    assert kept.content == "From the chat" and kept.session_id is None


# -- medications ----------------------------------------------------------------------------


@pytest.mark.parametrize(("frequency", "slots"), [
    ("twice daily", ["08:00", "20:00"]), ("once a day", ["08:00"]), ("BID", ["08:00", "20:00"]),
    ("3 times a day", ["08:00", "14:00", "20:00"]), ("every 8 hours", ["00:00", "08:00", "16:00"]),
    ("at bedtime", ["22:00"]), ("as needed", []), ("weekly", []),
    ("take one tablet twice daily with food", ["08:00", "20:00"]),
])
def test_a_schedule_is_derived_from_the_frequency(frequency, slots):
    assert schedule_from_frequency(frequency) == slots


@pytest.mark.parametrize(("args", "message"), [
    (("", "500 mg", "daily"), "medication name can't be blank"),
    (("Metformin", "500", "daily"), "needs an amount and a unit"),
    (("Metformin", "some", "daily"), "needs an amount and a unit"),
    (("Metformin", "500 mg", "  "), "frequency can't be blank"),
])
def test_bad_medication_input(session, me, args, message):
    with pytest.raises(ValidationError, match=message):
        Medications(session).create(me, *args)


@pytest.mark.dates
def test_doses_are_logged_per_slot_and_adherence_follows(session, me, clock):
    meds = Medications(session)
    today = clock.today()
    start = days_from(today, -6)
    med = meds.create(me, "Metformin", "500 mg", "twice daily", start_date=start.isoformat())
    assert med.schedule == ("08:00", "20:00")
    clock.set_local(today, "21:00")
    for offset in range(7):
        day = days_from(start, offset)
        meds.log_dose(med.id, "taken", slot=f"{day}T08:00", taken_at=f"{day}T08:10")
        meds.log_dose(med.id, "missed" if offset % 2 else "late", slot=f"{day}T20:00")
    week = meds.adherence(med.id, start, today)
    assert (week.expected, week.taken, week.late, week.missed) == (14, 7, 4, 3)
    assert week.percent == pytest.approx(100 * 11 / 14)
    meds.log_dose(med.id, "taken", slot=f"{today}T20:00")  # logged again: changed, not added
    assert meds.adherence(med.id, start, today).late == 3
    slots = meds.day_slots(me, today)
    assert [(s.scheduled_at, s.dose.status) for s in slots] == [(f"{today}T08:00", "taken"),
                                                                (f"{today}T20:00", "taken")]


@pytest.mark.dates
def test_unlogged_past_slots_count_against_adherence(session, me, clock):
    meds = Medications(session)
    today = clock.today()
    start = days_from(today, -9)
    med = meds.create(me, "Vitamin D", "1000 IU", "once daily", start_date=start.isoformat())
    clock.set_local(today, "09:30")  # inside the 08:00 dose's window
    meds.log_dose(med.id, "taken", slot=f"{today}T08:00")
    result = meds.adherence(med.id, start, today)
    assert (result.expected, result.taken, result.unlogged) == (10, 1, 9)


@pytest.mark.dates
def test_a_dose_change_and_a_stop_are_events_not_overwrites(session, me, clock):
    meds = Medications(session)
    started, changed, stopped, resumed = (days_from(clock.today(), n).isoformat()
                                          for n in (-52, -21, -2, -1))
    med = meds.create(me, "Sertraline", "50 mg", "once daily", start_date=started)
    meds.update(med.id, dosage="100 mg", effective=changed)
    meds.stop(med.id, on=stopped, reason="side effects")
    meds.resume(med.id, on=resumed)
    events = [(e.event_type, e.event_date, e.old_value, e.new_value)
              for e in meds.events(me, medication_id=med.id)]
    assert events == [("started", started, None, "50 mg"),
                      ("dose_changed", changed, "50 mg", "100 mg"),
                      ("stopped", stopped, "100 mg", None),
                      ("resumed", resumed, None, "100 mg")]
    assert [m.name for m in meds.list(me)] == ["Sertraline"]
    meds.stop(med.id)
    assert meds.list(me) == [] and len(meds.list(me, include_stopped=True)) == 1
    assert meds.events(me, medication_id=med.id)[-1].event_date == clock.today().isoformat()
    with pytest.raises(ValidationError, match="already stopped"):
        meds.stop(med.id)


@pytest.mark.dates
def test_stopped_days_do_not_count_in_adherence(session, me, clock):
    meds = Medications(session)
    today = clock.today()
    start = days_from(today, -21)
    med = meds.create(me, "Ibuprofen", "200 mg", "once daily", start_date=start.isoformat())
    meds.stop(med.id, on=days_from(start, 4).isoformat())
    clock.set_local(today, "12:00")
    assert meds.adherence(med.id, start, today).expected == 5


@pytest.mark.dates
def test_days_of_supply_counts_down_with_doses(session, me, clock):
    meds = Medications(session)
    med = meds.create(me, "Metformin", "500 mg", "twice daily", supply_count=20)
    assert meds.days_of_supply(med.id) == 10
    meds.log_dose(med.id, "taken", slot=f"{clock.today()}T08:00",
                  taken_at=f"{clock.today()}T08:00")
    meds.log_dose(med.id, "missed", slot=f"{clock.today()}T20:00")
    assert meds.days_of_supply(med.id) == 9.5


def test_medication_changes_are_audited(session, me):
    med = Medications(session).create(me, "Aspirin", "75 mg", "once daily")
    Medications(session).update(med.id, dosage="150 mg")
    diffs = session.run(lambda: [json.loads(r.diff) for r in AuditEvent.select().where(
        AuditEvent.event_name == "medication.update")])
    assert diffs == [{"dosage": ["75 mg", "150 mg"]}]


# -- appointments ----------------------------------------------------------------------------


def test_an_appointment_date_that_is_not_a_date_is_refused(session, me):
    with pytest.raises(ValidationError, match="not a date"):
        Appointments(session).create(me, "the Tuesday after next")  # "next tuesday" is one
    with pytest.raises(ValidationError, match="not a time"):
        Appointments(session).create(me, "2026-12-01", appointment_time="half past")
    with pytest.raises(ValidationError, match="not an appointment type"):
        Appointments(session).create(me, "2026-12-01", appointment_type="spa day")


@pytest.mark.dates
def test_upcoming_and_past_lists(session, me, clock):
    appts = Appointments(session)
    today = clock.today()
    soon = appts.create(me, days_from(today, 2).isoformat(), appointment_time="9:30",
                        provider_name="Dr Rivera")
    later = appts.create(me, days_from(today, 12).isoformat(), appointment_time="14:00",
                         provider_name="Physio")
    old = appts.create(me, days_from(today, -52).isoformat(), provider_name="Dentist")
    cancelled = appts.create(me, days_from(today, 18).isoformat(), status="cancelled")
    yesterday = appts.create(me, days_from(today, -1).isoformat(), provider_name="Dr Who")
    this_morning = appts.create(me, today.isoformat(), appointment_time="00:00")
    assert [a.id for a in appts.upcoming(me).appointments] == [this_morning.id, soon.id,
                                                              later.id]
    assert [a.id for a in appts.past(me).appointments] == [cancelled.id, yesterday.id, old.id]
    page = appts.upcoming(me, limit=2)
    assert [a.id for a in page.appointments] == [this_morning.id, soon.id]
    assert [a.id for a in appts.upcoming(me, limit=2, after=page.next_cursor).appointments] == [
        later.id]


@pytest.mark.dates
def test_completing_with_a_follow_up(session, me, clock):
    appts = Appointments(session)
    visit = appts.create(me, days_from(clock.today(), -2).isoformat(), provider_name="Dr Rivera",
                         location="Clinic 3", reason="knee", follow_up_required=True)
    done = appts.set_status(visit.id, "completed", outcome_summary="Physio for 6 weeks")
    assert done.status == "completed" and done.outcome_summary == "Physio for 6 weeks"
    follow = appts.create_follow_up(visit.id, days_from(clock.today(), 47).isoformat(),
                                    appointment_time="10:00")
    assert (follow.provider_name, follow.location, follow.appointment_type,
            follow.follow_up_of) == ("Dr Rivera", "Clinic 3", "follow_up", visit.id)
    assert [a.id for a in appts.follow_ups(visit.id)] == [follow.id]
    assert not appts.get(visit.id).follow_up_required
    appts.delete(visit.id)
    assert appts.get(follow.id).follow_up_of is None  # SET NULL, the follow-up stays


# -- vitals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (("heart_rate", 0), "heart rate of 0 bpm is not possible"),
    (("blood_pressure", 300, 20), "between 50 and 260"),
    (("blood_pressure", 120, 130), "must be higher"),
    (("blood_pressure", 120), "two numbers"),
    (("spo2", 101), "not possible"),
    (("weight", 70, None, "stone"), "recorded in kg or lb"),
    (("peak flow", 400), "Give the unit"),
    (("", 1), "what kind"),
])
def test_impossible_readings_are_refused(session, me, args, message):
    kind, value, *rest = args
    value2 = rest[0] if rest else None
    unit = rest[1] if len(rest) > 1 else None
    with pytest.raises(ValidationError, match=message):
        Vitals(session).record(me, kind, value, value2, unit=unit)


@pytest.mark.dates
def test_vitals_series_latest_and_custom_kinds(session, me, clock):
    vitals = Vitals(session)
    today = clock.today()
    first = days_from(today, -21)
    vitals.record(me, "bp", 120, 80, measured_at=f"{first}T08:00")
    vitals.record(me, "blood pressure", 135, 85, measured_at=f"{days_from(today, -2)}T08:00")
    vitals.record(me, "weight", "72,5", unit="kg", measured_at=days_from(today, -1).isoformat())
    vitals.record(me, "peak flow", 420, unit="L/min")
    series = vitals.series(me, "blood_pressure", first, days_from(today, 8))
    assert [v.display_value for v in series] == ["120/80 mmHg", "135/85 mmHg"]
    assert vitals.series(me, "bp", days_from(first, 1)) == series[1:]
    latest = vitals.latest(me)
    assert latest["blood_pressure"].value == 135 and latest["weight"].value == 72.5
    assert latest["peak_flow"].measured_at == clock.now().astimezone().strftime(
        "%Y-%m-%dT%H:%M")  # now, in local time
    assert vitals.kinds_in_use(me) == ["blood_pressure", "peak_flow", "weight"]
    with pytest.raises(ValidationError, match="in the future"):
        vitals.record(me, "weight", 70, measured_at=f"{days_from(today, 1)}T01:00")
