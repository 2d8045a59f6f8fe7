"""Chat sessions and their messages: started, listed, renamed, saved, deleted, read.

A session belongs to a patient and is answered by a persona (the default one when
none is chosen, or when its persona was deleted). A reply can be saved into the
journal, through the Journal service, so it is checked and audited like any entry:
the AI itself never writes patient data, only the person's actions do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import JOIN, ModelSelect

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.ai.context import DEFAULT_PERSONA_ID
from luna_tui.services.base import DomainService, new_id, on_db_thread
from luna_tui.services.journal import Entry, EntryDraft, Journal
from luna_tui.services.validation import refuse_controls
from luna_tui.store.models.ai import ChatSession, Message, Persona
from luna_tui.store.models.patients import Patient

SESSION_TYPES = ("chat", "check_in", "appointment_prep", "journal_reflection")
MAX_TITLE = 80
DEFAULT_TITLE = "New session"


@dataclass(frozen=True)
class SessionView:
    id: str
    patient_id: str
    persona_id: str | None
    persona_name: str | None
    title: str
    session_type: str
    saved: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class MessageView:
    id: int
    session_id: str
    role: str
    content: str
    token_count: int | None
    finish_reason: str | None
    created_at: str


class ChatSessions(DomainService):
    @on_db_thread
    def create(self, patient_id: str, persona_id: str | None = None, *,
               session_type: str = "chat", title: str | None = None) -> SessionView:
        """A new session, answered by `persona_id` (else the default persona)."""
        if session_type not in SESSION_TYPES:
            raise ValidationError(
                f"A session is one of: {', '.join(SESSION_TYPES)}.", "session_type")
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")
        refuse_controls({"title": title})
        if persona_id is None:
            persona_id = DEFAULT_PERSONA_ID
        if not Persona.select().where(Persona.id == persona_id).exists():
            raise NotFound("That persona no longer exists.")
        title = session_title(title) if title else DEFAULT_TITLE
        stamp = self.stamp()
        with self.session.writing("start an AI session") as tx:
            row = ChatSession.create(id=new_id(), patient=patient_id, persona=persona_id,
                                     title=title, session_type=session_type, saved=0,
                                     created_at=stamp, updated_at=stamp)
            tx.record("ai.session.create", row.id,
                      {"persona_id": [None, persona_id], "session_type": [None, session_type]})
        return self.get(row.id)

    @on_db_thread
    def get(self, session_id: str) -> SessionView:
        row = _with_persona_names().where(ChatSession.id == session_id).first()
        if row is None:
            raise NotFound("There is no AI session with that id.")
        return _session_view(row)

    @on_db_thread
    def list(self, patient_id: str, *, search: str | None = None,
             limit: int = 200) -> list[SessionView]:
        """Saved sessions first, then the most recently used; `search` finds words in
        their titles."""
        query = _with_persona_names().where(ChatSession.patient == patient_id)
        if search and search.strip():
            words = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(ChatSession.title ** f"%{words}%")
        query = query.order_by(ChatSession.saved.desc(), ChatSession.updated_at.desc())
        return [_session_view(r) for r in query.limit(limit)]

    @on_db_thread
    def rename(self, session_id: str, title: str) -> SessionView:
        refuse_controls({"title": title})
        return self._change(session_id, "rename an AI session", title=session_title(title))

    @on_db_thread
    def set_saved(self, session_id: str, saved: bool) -> SessionView:
        return self._change(session_id, "save an AI session", saved=int(bool(saved)))

    @on_db_thread
    def delete(self, session_id: str) -> None:
        """Delete a session with its messages, summaries and pins; journal entries made
        from it stay, with their link cleared (the foreign key's ON DELETE SET NULL)."""
        self.get(session_id)
        with self.session.writing("delete an AI session") as tx:
            ChatSession.delete().where(ChatSession.id == session_id).execute()
            tx.record("ai.session.delete", session_id)

    def _change(self, session_id: str, action: str, **changes: Any) -> SessionView:
        before = self.get(session_id)
        with self.session.writing(action) as tx:
            ChatSession.update(updated_at=self.stamp(), **changes).where(
                ChatSession.id == session_id).execute()
            diff = {name: ["<title>" if name == "title" else getattr(before, name),
                           "<title>" if name == "title" else value]
                    for name, value in changes.items()}
            tx.record("ai.session.update", session_id, diff)
        return self.get(session_id)

    # -- messages ---------------------------------------------------------------------

    @on_db_thread
    def messages(self, session_id: str, *, limit: int | None = None,
                 before: int | None = None) -> list[MessageView]:
        """Oldest first; with `limit`, the newest `limit` of them; with `before`, only
        those written before that message (a page further back). Read down the index
        (session_id, id), so a page costs the same in any length of session."""
        query = Message.select().where(Message.session == session_id)
        if before is not None:
            query = query.where(Message.id < before)
        query = query.order_by(Message.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [message_view(r) for r in reversed(list(query))]

    @on_db_thread
    def save_reply_to_journal(self, message_id: int, *,
                              privacy_level: str | None = None) -> Entry:
        """A journal entry with the reply's text, linked to its session; through the
        Journal service, so it is checked and audited like any entry."""
        message = Message.get_or_none(Message.id == message_id)
        if message is None:
            raise NotFound("That message no longer exists.")
        if message.role != "assistant":
            raise ValidationError("Only the companion's replies can be saved this way.")
        chat = ChatSession.get_by_id(message.session_id)
        draft = EntryDraft(content=message.content, title=session_title(f"AI: {chat.title}"),
                           tags=["ai"], session_id=chat.id, privacy_level=privacy_level)
        return Journal(self.session).create(chat.patient_id, draft)


def message_view(row: Message) -> MessageView:
    return MessageView(row.id, row.session_id, row.role, row.content, row.token_count,
                       row.finish_reason, row.created_at)


def session_title(text: str) -> str:
    """A title on one line, cut to MAX_TITLE characters."""
    flat = " ".join(str(text).split())
    if not flat:
        raise ValidationError("A session needs a title.", "title")
    return flat if len(flat) <= MAX_TITLE else flat[:MAX_TITLE - 1].rstrip() + "…"


def _with_persona_names() -> ModelSelect:
    """Sessions, each with its persona's name (None once the persona is deleted)."""
    return (ChatSession.select(ChatSession, Persona.name.alias("persona_name"))
            .join(Persona, JOIN.LEFT_OUTER, on=(ChatSession.persona == Persona.id)).objects())


def _session_view(row: Any) -> SessionView:
    return SessionView(row.id, row.patient_id, row.persona_id,
                       getattr(row, "persona_name", None), row.title, row.session_type,
                       bool(row.saved), row.created_at, row.updated_at)
