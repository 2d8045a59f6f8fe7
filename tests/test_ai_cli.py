"""`luna ask`, `luna ai config` and `luna stats` end to end, against a real model server."""

from __future__ import annotations

import io
import json

import pytest
from ai_server import FakeModel

from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent

CANARY = "CANARY-cli-private-91c"


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


@pytest.fixture
def vault(session, layout, model: FakeModel, monkeypatch: pytest.MonkeyPatch):
    settings = Settings(session)
    settings.set("ai.base_url", model.base_url)
    me = settings.current_patient_id()
    Medications(session).create(me, "Sertraline", "50 mg", "once daily")
    Journal(session).create(me, EntryDraft(content=CANARY, privacy_level="private"))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def session_id_from(err: str) -> str:
    line = next(line for line in err.splitlines() if line.startswith("luna: session "))
    return line.split()[2]


def test_ask_streams_the_answer_and_keeps_the_session(capsys, vault, model: FakeModel) -> None:
    result = run_cli(capsys, "ask", "How", "am", "I", "doing?")
    assert result.code == 0, result.err
    assert result.out == "Hello, you slept well.\n"
    session_id = session_id_from(result.err)
    sent = json.dumps(model.last)
    assert "Sertraline 50 mg, once daily" in sent and CANARY not in sent
    assert model.last["messages"][-1]["content"] == "How am I doing?"

    again = run_cli(capsys, "ask", "--session", session_id, "--no-stream", "And now?")
    assert again.code == 0, again.err
    assert again.out == "Hello, you slept well.\n"
    assert [m["role"] for m in model.last["messages"]] == [
        "system", "user", "assistant", "user"]

    with VaultSession.open(vault, PASSPHRASE) as session:
        messages = ChatSessions(session).messages(session_id)
        assert [m.content for m in messages] == [
            "How am I doing?", "Hello, you slept well.", "And now?", "Hello, you slept well."]
        audits = session.run(lambda: [json.loads(r.diff) for r in AuditEvent.select().where(
            AuditEvent.event_name == "ai.request")])
    assert [a["outcome"] for a in audits] == ["ok", "ok"]
    assert "How am I doing" not in json.dumps(audits)


def test_ask_reads_the_question_from_stdin_and_picks_a_persona(capsys, vault, model,
                                                               monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Piped question?\n"))
    result = run_cli(capsys, "ask", "--persona", "appointment")
    assert result.code == 0, result.err
    assert model.last["messages"][-1]["content"] == "Piped question?"
    assert "prepare for an upcoming medical appointment" in model.last["messages"][0]["content"]


def test_ask_failure_says_why_and_keeps_the_question(capsys, vault, model) -> None:
    model.mode = "429"
    result = run_cli(capsys, "ask", "Keep me")
    assert result.code == 1
    assert "limiting requests (HTTP 429" in result.err
    session_id = session_id_from(result.err)
    with VaultSession.open(vault, PASSPHRASE) as session:
        assert [m.content for m in ChatSessions(session).messages(session_id)] == ["Keep me"]


def test_ask_without_a_question_is_a_usage_error(capsys, vault, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = run_cli(capsys, "ask")
    assert result.code == 2 and "Ask something" in result.err


def test_ai_config_shows_and_sets_with_the_key_masked(capsys, vault, monkeypatch) -> None:
    monkeypatch.setenv("LUNA_AI_KEY", "sk-very-secret-123")
    result = run_cli(capsys, "ai", "config", "--model", "qwen2.5", "--key")
    assert result.code == 0, result.err
    assert "ai.model = qwen2.5" in result.out
    assert "ai.api_key = (set)" in result.out
    assert "sk-very-secret" not in result.out + result.err
    with VaultSession.open(vault, PASSPHRASE) as session:
        assert Settings(session).get("ai.api_key") == "sk-very-secret-123"
        diffs = session.run(lambda: [r.diff for r in AuditEvent.select()])
    assert all("sk-very-secret" not in (d or "") for d in diffs)

    remote = run_cli(capsys, "ai", "config", "--base-url", "https://api.example.com")
    assert remote.code == 0 and "will not send it anything" in remote.err
    refused = run_cli(capsys, "ask", "hello?")
    assert refused.code == 1 and "would leave this machine" in refused.err
    allowed = run_cli(capsys, "ai", "config", "--allow-remote")
    assert "ai.allow_remote = on" in allowed.out and "leaves this machine" in allowed.err


def test_the_key_is_never_an_argument_value(capsys, vault) -> None:
    result = run_cli(capsys, "ai", "config", "--key", "sk-on-the-command-line")
    assert result.code == 2


def test_stats_shows_usage(capsys, vault, model) -> None:
    assert run_cli(capsys, "ask", "one").code == 0
    model.mode = "500"
    assert run_cli(capsys, "ask", "two").code == 1
    result = run_cli(capsys, "stats", "--json")
    assert result.code == 0, result.err
    today = json.loads(result.out)[0]
    assert today["period"] == "today"
    assert (today["requests"], today["failed"]) == (1, 1)
    assert (today["prompt_tokens"], today["completion_tokens"]) == (321, 7)
    assert today["finish_reasons"] == {"stop": 1}
    table = run_cli(capsys, "stats")
    assert table.code == 0 and "today" in table.out and "stop 1" in table.out
