"""Each place's read model gathers what its screen shows in one trip to the DB thread."""

from __future__ import annotations

import datetime as dt

import pytest

from luna_tui.services.appointments import Appointments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.read_models.dashboard import Dashboard
from luna_tui.services.read_models.medications import MedicationsPlace
from luna_tui.services.read_models.records import RecordsPlace
from luna_tui.services.read_models.vitals import VitalsPlace
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


def test_the_dashboard_holds_today_for_one_patient(session, me, clock):
    today = clock.today()
    meds = Medications(session)
    meds.create(me, "Metformin", "500 mg", "once daily", start_date=today.isoformat())
    stopped = meds.create(me, "Ibuprofen", "200 mg", "once daily",
                          start_date=(today - dt.timedelta(days=9)).isoformat())
    meds.stop(stopped.id, on=(today - dt.timedelta(days=2)).isoformat())
    Appointments(session).create(me, today + dt.timedelta(days=3), provider_name="Dr Rivera")
    Journal(session).create(me, EntryDraft(content="A calm day", mood_scale=7))
    Journal(session).create(me, EntryDraft(
        content="Long ago", mood_scale=2,
        entry_date=(today - dt.timedelta(days=40)).isoformat()))
    Vitals(session).record(me, "weight", 72.5)

    view = Dashboard(session).today(me, today)

    assert [slot.medication.name for slot in view.doses] == ["Metformin"]
    assert [a.provider_name for a in view.appointments] == ["Dr Rivera"]
    assert view.moods == [(today.isoformat(), 7.0)]  # the last 30 days only
    assert [e.content for e in view.entries] == ["A calm day", "Long ago"]
    assert list(view.vitals) == ["weight"]


def test_the_medications_place_lists_and_schedules(session, me, clock):
    today = clock.today()
    meds = Medications(session)
    taking = meds.create(me, "Metformin", "500 mg", "twice daily",
                         start_date=today.isoformat())
    stopped = meds.create(me, "Ibuprofen", "200 mg", "once daily",
                          start_date=(today - dt.timedelta(days=9)).isoformat())
    meds.stop(stopped.id, on=(today - dt.timedelta(days=2)).isoformat())

    view = MedicationsPlace(session).overview(me, today)
    assert [m.id for m in view.medications] == [taking.id]
    assert {slot.medication.id for slot in view.doses} == {taking.id}
    assert len(view.doses) == 2
    everything = MedicationsPlace(session).overview(me, today, include_stopped=True)
    assert {m.id for m in everything.medications} == {taking.id, stopped.id}


def test_the_vitals_place_shows_the_chosen_kind(session, me):
    vitals = Vitals(session)
    vitals.record(me, "weight", 72.5)
    vitals.record(me, "heart_rate", 64)

    view = VitalsPlace(session).overview(me, "weight", "30d", page_size=10)
    assert set(view.latest) == {"weight", "heart_rate"}
    assert set(view.kinds_in_use) == {"weight", "heart_rate"}
    assert [r.kind for r in view.shown.page.vitals] == ["weight"]
    assert [p.value for p in view.shown.chart.points] == [72.5]
    other = VitalsPlace(session).kind(me, "heart_rate", "30d", page_size=10)
    assert [r.kind for r in other.page.vitals] == ["heart_rate"]


def test_the_records_place_lists_or_searches_within_a_type_in_use(session, me):
    records = Records(session)
    records.create(me, title="Blood test", record_type="lab")
    records.create(me, title="Knee scan", record_type="imaging")

    listed = RecordsPlace(session).shown(me, words="", record_type="lab", tag=None,
                                         list_limit=50, search_limit=50)
    assert listed.types_in_use == ["lab", "imaging"]
    assert [r.title for r in listed.records] == ["Blood test"] and listed.hits == []
    assert listed.record_type == "lab"

    gone = RecordsPlace(session).shown(me, words="", record_type="visit", tag=None,
                                       list_limit=50, search_limit=50)
    assert gone.record_type is None and len(gone.records) == 2  # no visit: the filter drops

    found = RecordsPlace(session).shown(me, words="kne", record_type=None, tag=None,
                                        list_limit=50, search_limit=50)
    assert [h.record.title for h in found.hits] == ["Knee scan"] and found.records == []
