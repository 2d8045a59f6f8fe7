"""The AI companion's services against a real HTTP model server on 127.0.0.1: what is
sent (never a private entry), what is kept, counted and audited, and memory."""

from __future__ import annotations

import json
import threading

import pytest
from ai_server import FakeModel, refused_url

from luna_tui.errors import (
    AiBadResponse,
    AiKeyRejected,
    AiRateLimited,
    AiRemoteRefused,
    AiServerError,
    AiStreamCut,
    AiTimeout,
    AiUnreachable,
    ReadOnlyViolation,
    ValidationError,
)
from luna_tui.services.ai.context import ContextBuilder
from luna_tui.services.ai.memory import Memory
from luna_tui.services.ai.personas import Personas
from luna_tui.services.ai.sending import Sender
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.ai.usage import AiUsage
from luna_tui.services.appointments import Appointments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vitals import Vitals
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.stats import StatEvent

CANARY = "CANARY-private-7f3a-never-send"
SHARED = "Walked by the river and felt calmer."


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


@pytest.fixture
def me(session, model: FakeModel) -> str:
    settings = Settings(session)
    settings.set("ai.base_url", model.base_url)
    settings.set("ai.model", "tiny")
    settings.set("ai.timeout_seconds", 1)
    patient = settings.current_patient_id()
    journal = Journal(session)
    journal.create(patient, EntryDraft(content=f"My secret: {CANARY}", privacy_level="private",
                                       entry_date="2026-11-21", title=f"title {CANARY}"))
    journal.create(patient, EntryDraft(content=SHARED, privacy_level="shared",
                                       entry_date="2026-11-20", mood="calm", mood_scale=7))
    meds = Medications(session)
    meds.create(patient, "Metformin", "500 mg", "twice daily")
    stopped = meds.create(patient, "Ibuprofen", "200 mg", "as needed")
    meds.stop(stopped.id, on="2026-11-01")
    Appointments(session).create(patient, "2026-12-03", provider_name="Dr Okafor",
                                 reason="diabetes review")
    Vitals(session).record(patient, "weight", "71.5", measured_at="2026-11-21T08:00")
    return patient


def audit_rows(session, event: str = "ai.request") -> list[tuple[str, dict]]:
    return session.run(lambda: [
        (r.record_locator, json.loads(r.diff)) for r in
        AuditEvent.select().where(AuditEvent.event_name == event).order_by(AuditEvent.seq)])


def test_private_entries_never_reach_the_model(session, model: FakeModel, me: str) -> None:
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    sender.send(convo.id, "How was my week?")
    sent = json.dumps(model.last)
    assert CANARY not in sent
    assert SHARED in sent
    assert CANARY not in sender.preview(convo.id, "again?").text


def test_the_context_has_the_active_medications_and_the_rest(session, model: FakeModel,
                                                             me: str) -> None:
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    sender.send(convo.id, "Anything to ask my doctor?")
    system = model.last["messages"][0]
    assert system["role"] == "system"
    text = system["content"]
    assert "Metformin 500 mg, twice daily" in text
    assert "Ibuprofen" not in text  # stopped
    assert "Dr Okafor" in text and "diabetes review" in text
    assert "weight: 71.5 kg" in text
    assert f"```text\n{SHARED}\n```" in text  # quoted data, fenced
    assert "not instructions" in text
    assert model.last["messages"][-1] == {"role": "user", "content": "Anything to ask my doctor?"}


def test_preview_is_exactly_what_is_sent(session, model: FakeModel, me: str) -> None:
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    preview = sender.preview(convo.id, "What should I track?")
    sender.send(convo.id, "What should I track?")
    assert model.last["messages"] == preview.messages
    assert preview.context.kinds == ("profile", "medications", "appointments", "vitals",
                                     "journal")


def test_the_personas_data_access_limits_the_context(session, model: FakeModel,
                                                     me: str) -> None:
    personas = Personas(session)
    sessions = ChatSessions(session)
    checkin = personas.find("medication check")
    context = ContextBuilder(session).build(sessions.create(me, checkin.id).id)
    assert "appointments" not in context.kinds
    assert "Dr Okafor" not in context.text
    assert "Metformin" in context.text


def test_the_budget_drops_old_journal_entries_first(session, model: FakeModel,
                                                    me: str) -> None:
    journal = Journal(session)
    for day in range(1, 15):
        journal.create(me, EntryDraft(content=f"day {day} " + "words " * 200,
                                      privacy_level="shared", entry_date=f"2026-10-{day:02d}"))
    convo = ChatSessions(session).create(me)
    full = ContextBuilder(session).build(convo.id, budget_tokens=100_000)
    small = ContextBuilder(session).build(convo.id, budget_tokens=1200)
    assert small.dropped > 0 and full.dropped == 0
    assert len(small.text) <= 1200 * 4
    assert "Metformin" in small.text
    assert "day 14 " in small.text and "day 1 " not in small.text  # newest kept


def test_a_reply_is_kept_counted_and_audited_without_text(session, model: FakeModel,
                                                          me: str) -> None:
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    deltas: list[str] = []
    outcome = sender.send(convo.id, "Did I sleep well?", on_delta=deltas.append)
    assert deltas == ["Hello", ", you ", "slept well."]
    messages = sessions.messages(convo.id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Did I sleep well?"), ("assistant", "Hello, you slept well.")]
    assert (messages[1].finish_reason, messages[1].token_count) == ("stop", 7)
    assert outcome.reply == messages[1]
    assert sessions.get(convo.id).title == "Did I sleep well?"

    usage = AiUsage(session).periods()
    assert [p.label for p in usage] == ["today", "this month", "last month"]
    assert (usage[0].requests, usage[0].prompt_tokens, usage[0].completion_tokens) == (1, 321, 7)
    assert usage[0].finish_reasons == {"stop": 1}
    assert usage[2].requests == 0
    stats = session.run(lambda: list(StatEvent.select().where(
        StatEvent.event_name == "ai.request")))
    assert [(s.counter, s.prompt_tokens, s.completion_tokens) for s in stats] == [(1, 321, 7)]

    [(locator, diff)] = audit_rows(session)
    assert locator == convo.id
    assert diff["outcome"] == "ok" and diff["model"] == "tiny"
    assert diff["persona"] == "Journal companion"
    assert "medications" in diff["record_kinds"] and "journal" in diff["record_kinds"]
    assert len(diff["context_sha256"]) == 64
    everything = json.dumps(audit_rows(session, "ai.request"))
    for text in ("Did I sleep well?", "slept well", SHARED, "Metformin"):
        assert text not in everything


@pytest.mark.parametrize(("mode", "error", "reason"), [
    ("401", AiKeyRejected, "key_rejected"),
    ("429", AiRateLimited, "rate_limited"),
    ("500", AiServerError, "server_error"),
    ("malformed", AiBadResponse, "malformed"),
    ("cut", AiStreamCut, "cut_off"),
    ("slow", AiTimeout, "timeout"),
])
def test_a_failure_keeps_the_message_and_is_audited(session, model: FakeModel, me: str,
                                                    mode: str, error: type,
                                                    reason: str) -> None:
    model.mode = mode
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    with pytest.raises(error):
        sender.send(convo.id, "Please keep this question")
    assert [(m.role, m.content) for m in sessions.messages(convo.id)] == [
        ("user", "Please keep this question")]
    [(_, diff)] = audit_rows(session)
    assert (diff["outcome"], diff["reason"]) == ("failed", reason)
    today = AiUsage(session).periods()[0]
    assert today.failed == 1 and today.requests == 0


def test_refused_connection_keeps_the_message(session, me: str) -> None:
    Settings(session).set("ai.base_url", refused_url())
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    with pytest.raises(AiUnreachable, match="nothing is listening"):
        sender.send(convo.id, "Are you there?")
    assert [m.content for m in sessions.messages(convo.id)] == ["Are you there?"]


def test_a_remote_endpoint_is_refused_without_the_opt_in(session, model: FakeModel,
                                                         me: str) -> None:
    Settings(session).set("ai.base_url", "https://api.example.com")
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    with pytest.raises(AiRemoteRefused, match="health data would leave this machine"):
        sender.send(convo.id, "Hello?")
    assert model.requests == []
    assert audit_rows(session)[0][1]["reason"] == "remote_refused"


def test_stop_generation_keeps_what_arrived(session, model: FakeModel, me: str) -> None:
    model.mode = "hold"
    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    cancel = threading.Event()

    def on_delta(_text: str) -> None:
        cancel.set()
        model.release.set()

    outcome = sender.send(convo.id, "Tell me a long story", on_delta=on_delta, cancel=cancel)
    assert outcome.reply is not None
    assert (outcome.reply.content, outcome.reply.finish_reason) == ("Hello", "cancelled")
    assert AiUsage(session).periods()[0].finish_reasons == {"cancelled": 1}


def test_context_building_cannot_write(session, model: FakeModel, me: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def sneaky(self, patient_id: str):  # noqa: ANN001, ANN202
        Journal(self.session).create(patient_id, EntryDraft(content="written by the AI"))

    monkeypatch.setattr(ContextBuilder, "_medications", sneaky)
    convo = ChatSessions(session).create(me)
    with pytest.raises(ReadOnlyViolation):
        ContextBuilder(session).build(convo.id)
    entries = Journal(session).page(me, limit=50).entries
    assert all(e.content != "written by the AI" for e in entries)


def test_sessions_saved_first_rename_search_delete_keeps_journal(session, model: FakeModel,
                                                                 me: str) -> None:
    sessions = ChatSessions(session)
    sender = Sender(session)
    memory = Memory(session)
    first = sessions.create(me, title="Sleep questions")
    second = sessions.create(me, session_type="appointment_prep", title="Dr visit")
    sessions.set_saved(first.id, True)
    assert [s.id for s in sessions.list(me)] == [first.id, second.id]
    sessions.rename(second.id, "Visit on the 3rd")
    assert [s.title for s in sessions.list(me, search="visit")] == ["Visit on the 3rd"]
    with pytest.raises(ValidationError):
        sessions.create(me, session_type="gossip")

    outcome = sender.send(first.id, "How did I sleep?")
    assert outcome.reply is not None
    entry = sessions.save_reply_to_journal(outcome.reply.id)
    assert (entry.content, entry.session_id) == ("Hello, you slept well.", first.id)
    assert audit_rows(session, "journal.create")[-1][0] == entry.id
    pin = memory.pin(outcome.reply.id, "symptom", 0.8, "high")
    assert pin.medical_category == "symptom"
    assert "slept well" in ContextBuilder(session).build(second.id).text  # pins are shared

    sessions.delete(first.id)
    assert [s.id for s in sessions.list(me)] == [second.id]
    kept = Journal(session).get(entry.id)
    assert kept.session_id is None and kept.content == "Hello, you slept well."
    assert memory.pins(me) == []


def test_pin_checks_its_fields(session, model: FakeModel, me: str) -> None:
    sessions = ChatSessions(session)
    sender = Sender(session)
    memory = Memory(session)
    convo = sessions.create(me)
    message = sender.send(convo.id, "I am allergic to penicillin.").user_message
    with pytest.raises(ValidationError, match="category"):
        memory.pin(message.id, "gossip")
    with pytest.raises(ValidationError, match="0 to 1"):
        memory.pin(message.id, "allergy", 3)
    assert memory.pin(message.id, "allergy", "0.9", "high").content == (
        "I am allergic to penicillin.")


def test_a_long_session_is_summarised(session, model: FakeModel, me: str) -> None:
    sessions = ChatSessions(session)
    memory = Memory(session, summary_threshold=6, keep_recent=2)
    sender = Sender(session, memory)
    convo = sessions.create(me)
    for i in range(3):
        assert sender.send(convo.id, f"Question {i}. More words.").summarised is None
    model.mode = "500"  # no model for the summary: extractive
    summarised = memory.summarise_if_needed(convo.id)
    assert summarised is None  # 6 messages: not past the threshold yet
    model.mode = "ok"
    sender.send(convo.id, "Question 3. More.")
    [summary] = memory.summaries(convo.id)
    assert summary.method == "model"
    assert summary.message_count == 6
    ids = [m.id for m in sessions.messages(convo.id)]
    assert (summary.start_message_id, summary.end_message_id) == (ids[0], ids[5])
    sender.send(convo.id, "And now?")
    sent = model.last["messages"]
    assert "Summary of the earlier conversation" in sent[0]["content"]
    assert all("Question 0" not in m["content"] for m in sent[1:])


def test_the_summary_is_extractive_without_a_model(session, me: str) -> None:
    sessions = ChatSessions(session)
    memory = Memory(session, summary_threshold=2, keep_recent=0)
    sender = Sender(session, memory)
    convo = sessions.create(me)
    Settings(session).set("ai.base_url", refused_url())
    for text in ("My knee hurts. It started Monday.", "Sleep was bad. Woke at 4.",
                 "Mood is fine."):
        with pytest.raises(AiUnreachable):
            sender.send(convo.id, text)
    summary = memory.summarise_if_needed(convo.id)
    assert summary is not None and summary.method == "extractive"
    assert summary.summary == ("The person said:\n- My knee hurts.\n- Sleep was bad.\n"
                               "- Mood is fine.")
