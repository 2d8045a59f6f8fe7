"""Personas of the person's own (issue 7): created, edited and deleted through Personas,
checked field by field, audited without their prompt's words, and what they may read is
what the context holds. And sending again a question nothing answered."""

from __future__ import annotations

import json

import pytest
from ai_server import FakeModel

from conftest import OTHER_PASSPHRASE
from luna_tui.errors import NotFound, ReadOnlyKey, ValidationError
from luna_tui.services.ai.context import ContextBuilder
from luna_tui.services.ai.personas import Personas
from luna_tui.services.ai.sending import Sender
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent

SHARED = "Walked by the river and felt calmer."
PROMPT = "You are a terse sleep coach. SECRET-PROMPT-WORDS-41c"


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
    settings.set("ai.timeout_seconds", 2)
    patient = settings.current_patient_id()
    Journal(session).create(patient, EntryDraft(content=SHARED, privacy_level="shared",
                                                entry_date="2026-11-20"))
    Medications(session).create(patient, "Metformin", "500 mg", "twice daily")
    return patient


def audit_rows(session, event: str) -> list[tuple[str, dict]]:
    return session.run(lambda: [
        (r.record_locator, json.loads(r.diff) if r.diff else None) for r in
        AuditEvent.select().where(AuditEvent.event_name == event).order_by(AuditEvent.seq)])


def test_create_edit_and_delete_a_persona_audited_without_the_prompt(session) -> None:
    personas = Personas(session)
    made = personas.create("  Sleep   coach ", PROMPT, description="Short answers",
                           temperature="0.3", max_tokens="400",
                           data_access=["journal", "profile"])
    assert (made.name, made.description, made.system_prompt, made.temperature,
            made.max_tokens, made.data_access, made.builtin) == (
        "Sleep coach", "Short answers", PROMPT, 0.3, 400, ("profile", "journal"), False)
    assert made in personas.list()
    [(locator, diff)] = audit_rows(session, "ai.persona.create")
    assert locator == made.id
    assert diff["name"] == [None, "Sleep coach"]
    assert diff["system_prompt"] == [None, f"<{len(PROMPT)} characters>"]
    assert diff["temperature"] == [None, 0.3] and diff["data_access"] == [
        None, ["profile", "journal"]]

    edited = personas.update(made.id, temperature=1.5, data_access=["vitals"],
                             system_prompt="Be kind.")
    assert (edited.temperature, edited.data_access, edited.system_prompt) == (
        1.5, ("vitals",), "Be kind.")
    assert edited.name == "Sleep coach" and edited.max_tokens == 400  # untouched
    [(_, diff)] = audit_rows(session, "ai.persona.update")
    assert diff == {"temperature": [0.3, 1.5],
                    "data_access": [["profile", "journal"], ["vitals"]],
                    "system_prompt": [f"<{len(PROMPT)} characters>", "<8 characters>"]}
    assert personas.update(made.id, temperature=1.5) == edited  # nothing changed
    assert len(audit_rows(session, "ai.persona.update")) == 1  # ... and nothing audited

    personas.delete(made.id)
    assert made.id not in [p.id for p in personas.list()]
    assert audit_rows(session, "ai.persona.delete") == [(made.id, {"name": ["Sleep coach",
                                                                            None]})]
    everything = json.dumps([audit_rows(session, e) for e in
                             ("ai.persona.create", "ai.persona.update", "ai.persona.delete")])
    assert "SECRET-PROMPT-WORDS" not in everything and "Be kind" not in everything
    with pytest.raises(NotFound):
        personas.update(made.id, name="Back")


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": "  "}, "name", "A persona needs a name."),
    ({"name": "journal COMPANION"}, "name", "There is already a persona called"),
    ({"system_prompt": " \n"}, "system_prompt", "A persona needs a system prompt"),
    ({"temperature": "2.5"}, "temperature", "Temperature is a number from 0 to 2."),
    ({"temperature": "warm"}, "temperature", "Temperature is a number from 0 to 2."),
    ({"temperature": -0.1}, "temperature", "Temperature is a number from 0 to 2."),
    ({"max_tokens": 15}, "max_tokens", "Max tokens is a whole number from 16 to 32,000."),
    ({"max_tokens": "32001"}, "max_tokens", "Max tokens is a whole number from 16"),
    ({"max_tokens": "1.5"}, "max_tokens", "Max tokens is a whole number from 16"),
    ({"data_access": ["journal", "passwords"]}, "data_access",
     "A persona can read only: profile, medications"),
])
def test_invalid_values_are_refused_with_a_sentence_and_the_field(session, changes, field,
                                                                   words) -> None:
    personas = Personas(session)
    values = {"name": "Coach", "system_prompt": "Be kind.", **changes}
    with pytest.raises(ValidationError) as raised:
        personas.create(values.pop("name"), values.pop("system_prompt"), **values)
    assert raised.value.field == field
    assert words in str(raised.value)
    mine = personas.create("Mine", "Be kind.")
    with pytest.raises(ValidationError) as raised:
        personas.update(mine.id, **changes)
    assert raised.value.field == field
    assert [p.name for p in personas.list() if not p.builtin] == ["Mine"]


def test_renaming_to_its_own_name_in_other_case_is_fine(session) -> None:
    personas = Personas(session)
    mine = personas.create("Coach", "Be kind.")
    assert personas.update(mine.id, name="COACH").name == "COACH"


def test_built_in_personas_can_be_edited_but_not_deleted(session) -> None:
    personas = Personas(session)
    builtin = personas.find("journal companion")
    assert builtin.builtin
    edited = personas.update(builtin.id, temperature=0.2)
    assert edited.temperature == 0.2 and edited.builtin
    with pytest.raises(ValidationError, match="built in: it can be edited but not deleted"):
        personas.delete(builtin.id)
    assert personas.get(builtin.id).temperature == 0.2


def test_a_persona_without_journal_access_gets_no_journal_entries(session, model, me) -> None:
    personas = Personas(session)
    sessions = ChatSessions(session)
    sender = Sender(session)
    no_journal = personas.create("Meds only", "Talk about medicines.",
                                 data_access=["medications"])
    convo = sessions.create(me, no_journal.id)
    preview = sender.preview(convo.id, "How am I?")
    assert preview.context.kinds == ("medications",)
    assert SHARED not in preview.text and "Metformin" in preview.text
    assert preview.text.startswith("[system]\nTalk about medicines.")
    # Given journal access, the same session's context has the entry.
    personas.update(no_journal.id, data_access=["medications", "journal"])
    assert SHARED in sender.preview(convo.id, "How am I?").text
    # The persona's temperature and max tokens are what is asked of the model.
    personas.update(no_journal.id, temperature=0.1, max_tokens=64)
    sender.send(convo.id, "How am I?")
    assert model.last["temperature"] == 0.1 and model.last["max_tokens"] == 64


def test_sessions_of_a_deleted_persona_keep_working_with_the_default(session, model,
                                                                      me) -> None:
    personas = Personas(session)
    sessions = ChatSessions(session)
    sender = Sender(session)
    mine = personas.create("Meds only", "Talk about medicines.",
                           data_access=["medications"])
    convo = sessions.create(me, mine.id)
    personas.delete(mine.id)
    kept = sessions.get(convo.id)
    assert kept.persona_id is None and kept.persona_name is None
    context = ContextBuilder(session).build(convo.id)
    assert context.persona_name == "Journal companion"
    sender.send(convo.id, "Still there?")
    assert [m.role for m in sessions.messages(convo.id)] == ["user", "assistant"]
    assert model.last["messages"][0]["content"] == context.text


def test_resend_sends_the_unanswered_question_again_without_saving_it_twice(
        session, model: FakeModel, me: str) -> None:
    from luna_tui.errors import AiServerError

    sessions = ChatSessions(session)
    sender = Sender(session)
    convo = sessions.create(me)
    with pytest.raises(ValidationError, match="nothing to send again"):
        sender.resend_last_unanswered(convo.id)  # an empty session
    model.mode = "500"
    with pytest.raises(AiServerError):
        sender.send(convo.id, "Did I sleep?")
    assert sender.last_unanswered(convo.id).content == "Did I sleep?"
    model.mode = "ok"
    pieces: list[str] = []
    result = sender.resend_last_unanswered(convo.id, on_delta=pieces.append)
    assert "".join(pieces) == "Hello, you slept well."
    assert result.user_message.content == "Did I sleep?"
    assert [(m.role, m.content) for m in sessions.messages(convo.id)] == [
        ("user", "Did I sleep?"), ("assistant", "Hello, you slept well.")]
    assert model.last["messages"][-1] == {"role": "user", "content": "Did I sleep?"}
    assert [m["role"] for m in model.last["messages"]] == ["system", "user"]
    outcomes = [d["outcome"] for _, d in audit_rows(session, "ai.request")]
    assert outcomes == ["failed", "ok"]
    assert sender.last_unanswered(convo.id) is None
    with pytest.raises(ValidationError, match="Every message in this session has an answer"):
        sender.resend_last_unanswered(convo.id)
    assert len(model.requests) == 2


def test_a_read_only_key_cannot_change_personas(layout, session) -> None:
    mine = Personas(session).create("Mine", "Be kind.")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE) as reader:
        personas = Personas(reader)
        with pytest.raises(ReadOnlyKey):
            personas.create("Other", "Hi.")
        with pytest.raises(ReadOnlyKey):
            personas.update(mine.id, temperature=1)
        with pytest.raises(ReadOnlyKey):
            personas.delete(mine.id)
        assert [p.name for p in personas.list() if not p.builtin] == ["Mine"]


def test_records_reach_the_model_only_for_a_persona_that_may_read_them(session, model, me,
                                                                       tmp_path) -> None:
    from luna_tui.bench.sample_pdf import text_pdf
    from luna_tui.services.attachments import Attachments
    from luna_tui.services.records import Records

    record = Records(session).create(me, title="Blood test", record_type="lab",
                                     event_date="2026-11-20", text="Dr said: iron tablets")
    (tmp_path / "labs.pdf").write_bytes(text_pdf("Ferritin 12 ug/L low"))
    Attachments(session).add(record.id, tmp_path / "labs.pdf")
    personas = Personas(session)
    sessions = ChatSessions(session)
    sender = Sender(session)
    default = sessions.create(me)  # a built-in persona, made before records existed
    assert "Blood test" not in sender.preview(default.id, "How am I?").text
    reader = personas.create("Records reader", "Explain my results.")  # all kinds
    text = sender.preview(sessions.create(me, reader.id).id, "How am I?").text
    assert "Lab result: \"Blood test\"" in text and "files: labs.pdf" in text
    assert "iron tablets" in text and "Ferritin 12 ug/L low" in text
    assert "records" in sender.preview(sessions.create(me, reader.id).id, "?").context.kinds
