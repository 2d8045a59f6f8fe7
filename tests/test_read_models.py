"""Each place's read model gathers what its screen shows in one trip to the DB thread."""

from __future__ import annotations

import datetime as dt

import pytest

from luna_tui.clock import utc_timestamp
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.appointments import Appointments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.read_models.companion import CompanionPlace
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


def a_long_session(session, patient_id: str, count: int, title: str = "A long talk") -> str:
    """A session of `count` messages, questions and replies in turn, numbered from 000,
    all stamped with the same moment (as the fake clock does): put in with one insert, as
    an import would, since sending each one through a model takes 60 ms."""
    from luna_tui.store.models.ai import Message

    made = ChatSessions(session).create(patient_id, title=title)
    stamp = utc_timestamp(session.clock.now())

    def insert() -> None:
        with session.writing("talk at length"):
            Message.insert_many([
                {"session": made.id, "role": "user" if number % 2 == 0 else "assistant",
                 "content": f"Message {number:03d}", "created_at": stamp,
                 "updated_at": stamp} for number in range(count)]).execute()

    session.run(insert)
    return made.id


def test_the_companion_place_shows_the_chosen_sessions_newest_page(session, me):
    chats = ChatSessions(session)
    talk = a_long_session(session, me, 12)
    saved = chats.create(me, title="Kept on top")
    chats.set_saved(saved.id, True)

    view = CompanionPlace(session).overview(me, chosen_id=talk, page_size=5)
    assert [s.title for s in view.sessions] == ["Kept on top", "A long talk"]
    assert view.chosen is not None and view.chosen.id == talk
    assert [m.content for m in view.page.messages] == [
        "Message 007", "Message 008", "Message 009", "Message 010", "Message 011"]
    assert view.page.has_older
    assert [p.label for p in view.usage] == ["today", "this month", "last month"]

    for chosen_id in (None, "a session deleted meanwhile"):  # the first listed, then
        first = CompanionPlace(session).overview(me, chosen_id=chosen_id, page_size=5)
        assert first.chosen == view.sessions[0]
        assert first.page.messages == [] and not first.page.has_older

    found = CompanionPlace(session).overview(me, search="long", chosen_id=saved.id)
    assert [s.id for s in found.sessions] == [talk] and found.chosen.id == talk


def test_the_companion_place_pages_back_to_the_first_message_in_order(session, me):
    talk = a_long_session(session, me, 12)
    place = CompanionPlace(session)
    pages = [place.page(talk, page_size=5)]
    while pages[-1].has_older:
        pages.append(place.page(talk, before=pages[-1].messages[0].id, page_size=5))
    assert [[m.content[-3:] for m in page.messages] for page in pages] == [
        ["007", "008", "009", "010", "011"], ["002", "003", "004", "005", "006"],
        ["000", "001"]]
    everything = [m for page in reversed(pages) for m in page.messages]
    assert everything == ChatSessions(session).messages(talk)  # the same messages, in order
    exactly = place.page(talk, before=pages[1].messages[0].id, page_size=2)
    assert [m.content for m in exactly.messages] == ["Message 000", "Message 001"]
    assert not exactly.has_older  # two left, two asked for: nothing before them
    assert place.page(talk, before=pages[-1].messages[0].id) == place.page("none at all")
    with pytest.raises(ValueError):
        place.page(talk, page_size=0)


def test_the_companion_place_with_no_session_yet(session, me):
    view = CompanionPlace(session).overview(me)
    assert view.sessions == [] and view.chosen is None
    assert view.page.messages == [] and not view.page.has_older
