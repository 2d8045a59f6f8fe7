"""Sending a message to the companion and keeping its reply.

Sending saves the person's message first, so nothing typed is lost if the model fails;
builds the context under the read-only guard (context.py); talks to the model off the
DB thread, streaming its words to `on_delta`; then saves the reply, its finish reason
and token count, counts the usage in stats.db and audits the request (persona, model,
the record kinds included and a hash of the context — never the text). A failure is
audited with its reason and raised as its typed `AiError`. A question nothing answered
(the model failed, or was stopped first) can be sent again with
`resend_last_unanswered`, without being saved twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luna_tui.ai.provider import ChatResult, complete
from luna_tui.errors import AiError, ValidationError
from luna_tui.services.ai.context import Context, ContextBuilder
from luna_tui.services.ai.memory import Memory, SummaryView
from luna_tui.services.ai.model_settings import ModelSettings
from luna_tui.services.ai.sessions import (
    DEFAULT_TITLE,
    ChatSessions,
    MessageView,
    message_view,
    session_title,
)
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.validation import refuse_controls
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.ai import ChatSession, Message
from luna_tui.store.stats_counter import count_event
from luna_tui.terminal_text import controls_escaped

MAX_MESSAGE_CHARS = 20_000


@dataclass(frozen=True)
class Preview:
    """Exactly what would be sent: the messages, and the context they start with."""

    messages: list[dict[str, str]]
    context: Context
    model: str
    base_url: str

    @property
    def text(self) -> str:
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages)


@dataclass(frozen=True)
class SendResult:
    user_message: MessageView
    reply: MessageView | None  # None when stopped before any words came
    result: ChatResult
    summarised: SummaryView | None


class Sender(DomainService):
    def __init__(self, session: VaultSession, memory: Memory | None = None) -> None:
        super().__init__(session)
        self.memory = memory if memory is not None else Memory(session)

    @on_db_thread
    def preview(self, session_id: str, question: str = "") -> Preview:
        """Exactly what `send(session_id, question)` would send now."""
        question = question.strip()
        history = _turns(self.memory.verbatim(session_id))
        if question:
            history.append({"role": "user", "content": question})
        return self._preview(session_id, history)

    def send(self, session_id: str, text: str, *,
             on_delta: Callable[[str], None] | None = None,
             cancel: threading.Event | None = None) -> SendResult:
        """Send the person's message and stream the reply (not on the DB thread)."""
        if self.session._thread.is_current():  # noqa: SLF001 - the model call would block
            raise RuntimeError("send talks to the model; call it off the DB thread")
        user_message = self.session.run(self._save_user_message, session_id, text)
        return self._ask(session_id, user_message, on_delta=on_delta, cancel=cancel)

    def resend_last_unanswered(self, session_id: str, *,
                               on_delta: Callable[[str], None] | None = None,
                               cancel: threading.Event | None = None) -> SendResult:
        """Send again the person's newest message when nothing answered it (the model
        failed, or was stopped before any words came), without saving it twice (not on
        the DB thread)."""
        if self.session._thread.is_current():  # noqa: SLF001 - the model call would block
            raise RuntimeError("resend talks to the model; call it off the DB thread")
        self.session.require_writable("chat with the AI companion")
        user_message = self.session.run(self.last_unanswered, session_id)
        if user_message is None:
            raise ValidationError("Every message in this session has an answer: there is "
                                  "nothing to send again.", "message")
        return self._ask(session_id, user_message, on_delta=on_delta, cancel=cancel)

    @on_db_thread
    def last_unanswered(self, session_id: str) -> MessageView | None:
        """The newest message of the session if it is the person's (no reply after it)."""
        ChatSessions(self.session).get(session_id)
        row = (Message.select().where(Message.session == session_id,
                                      Message.role.in_(("user", "assistant")))
               .order_by(Message.id.desc()).first())
        return message_view(row) if row is not None and row.role == "user" else None

    def _ask(self, session_id: str, user_message: MessageView, *,
             on_delta: Callable[[str], None] | None,
             cancel: threading.Event | None) -> SendResult:
        """Ask the model about the session as it is (its last message `user_message`),
        then keep, count and audit the answer or the failure."""
        preview = self.session.run(self._prepared, session_id)
        config = self.session.run(ModelSettings(self.session).provider_config)
        try:
            result = complete(config, preview.messages, on_delta=on_delta, cancel=cancel,
                              temperature=preview.context.temperature,
                              max_tokens=preview.context.max_tokens)
        except AiError as error:
            self.session.run(self._record_failure, session_id, preview, error, user_message)
            raise
        reply = self.session.run(self._save_reply, session_id, preview, result, user_message)
        summarised = self.memory.summarise_if_needed(session_id)
        return SendResult(user_message, reply, result, summarised)

    def _prepared(self, session_id: str) -> Preview:
        return self._preview(session_id, _turns(self.memory.verbatim(session_id)))

    def _preview(self, session_id: str, history: list[dict[str, str]]) -> Preview:
        context = ContextBuilder(self.session).build(session_id)
        config = ModelSettings(self.session).provider_config()
        messages = [{"role": "system", "content": context.text}, *history]
        return Preview(messages, context, config.model, config.base_url)

    # -- keeping what was said (DB thread) --------------------------------------------

    def _save_user_message(self, session_id: str, text: str) -> MessageView:
        refuse_controls({"message": text})
        text = text.strip()
        if not text:
            raise ValidationError("Type a message first.", "message")
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValidationError(
                f"A message can be at most {MAX_MESSAGE_CHARS:,} characters.", "message")
        chat = ChatSessions(self.session).get(session_id)
        stamp = self.stamp()
        with self.session.writing("chat with the AI companion"):
            row = Message.create(session=session_id, role="user", content=text,
                                 token_count=None, created_at=stamp, updated_at=stamp)
            changes: dict[str, Any] = {"updated_at": stamp}
            if chat.title == DEFAULT_TITLE:
                changes["title"] = session_title(text)
            ChatSession.update(**changes).where(ChatSession.id == session_id).execute()
        return message_view(row)

    def _save_reply(self, session_id: str, preview: Preview, result: ChatResult,
                    user_message: MessageView) -> MessageView | None:
        stamp = self.stamp()
        reply = None
        with self.session.transaction() as tx:
            if result.text:
                # A model may answer with terminal controls (quoting an imported file,
                # say): kept escaped, as a person could never have typed them.
                row = Message.create(session=session_id, role="assistant",
                                     content=controls_escaped(result.text),
                                     token_count=result.completion_tokens,
                                     finish_reason=result.finish_reason, created_at=stamp,
                                     updated_at=stamp)
                reply = message_view(row)
                ChatSession.update(updated_at=stamp).where(
                    ChatSession.id == session_id).execute()
            tx.record("ai.request", session_id, {
                **_request_facts(preview, user_message),
                "outcome": "ok", "finish_reason": result.finish_reason,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "usage_estimated": result.usage_estimated,
                "reply_message_id": reply.id if reply else None,
            })
            count_event(self.session.clock, "ai.request", prompt_tokens=result.prompt_tokens,
                        completion_tokens=result.completion_tokens,
                        finish_reason=result.finish_reason)
        return reply

    def _record_failure(self, session_id: str, preview: Preview, error: AiError,
                        user_message: MessageView) -> None:
        with self.session.transaction() as tx:
            tx.record("ai.request", session_id, {
                **_request_facts(preview, user_message),
                "outcome": "failed", "reason": error.reason,
            })
            count_event(self.session.clock, "ai.failed", finish_reason=error.reason)


def _turns(messages: list[MessageView]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def _request_facts(preview: Preview, user_message: MessageView) -> dict[str, Any]:
    """What the audit log keeps of a request: who, to what, with what kinds — never text."""
    return {
        "persona": preview.context.persona_name, "persona_id": preview.context.persona_id,
        "model": preview.model, "record_kinds": list(preview.context.kinds),
        "context_sha256": preview.context.sha256, "context_tokens": preview.context.tokens,
        "messages_sent": len(preview.messages), "user_message_id": user_message.id,
    }
