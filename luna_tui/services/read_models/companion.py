"""The companion place: one person's chat sessions and AI use (the sidebar), and the
chosen session's newest page of messages; then, as the person scrolls up, the page of
messages before the oldest one shown.

A page is read down the index (session_id, id), so a session of 4,000 messages opens
as fast as one of 4: the screen never holds more of it than the person has scrolled
through.
"""

from __future__ import annotations

from dataclasses import dataclass

from luna_tui.services.ai.sessions import ChatSessions, MessageView, SessionView
from luna_tui.services.ai.usage import AiUsage, UsagePeriod
from luna_tui.services.base import DomainService, on_db_thread

PAGE_SIZE = 20  # messages a page holds: more than a terminal shows at once


@dataclass(frozen=True)
class MessagePage:
    messages: list[MessageView]  # oldest first
    has_older: bool  # the session has messages before the first of these


NO_MESSAGES = MessagePage([], False)


@dataclass(frozen=True)
class CompanionView:
    sessions: list[SessionView]  # saved ones first, then the most recently used
    usage: list[UsagePeriod]  # today, this month, last month
    chosen: SessionView | None  # the one asked for if it is listed, else the first
    page: MessagePage  # the chosen session's newest messages


class CompanionPlace(DomainService):
    @on_db_thread
    def overview(self, patient_id: str, *, search: str = "", chosen_id: str | None = None,
                 page_size: int = PAGE_SIZE) -> CompanionView:
        sessions = ChatSessions(self.session).list(patient_id, search=search)
        chosen = next((s for s in sessions if s.id == chosen_id),
                      sessions[0] if sessions else None)
        page = self.page(chosen.id, page_size=page_size) if chosen else NO_MESSAGES
        return CompanionView(sessions, AiUsage(self.session).periods(), chosen, page)

    @on_db_thread
    def page(self, session_id: str, *, before: int | None = None,
             page_size: int = PAGE_SIZE) -> MessagePage:
        """The newest `page_size` messages of the session, or of those written before
        the message `before` (the oldest one shown)."""
        if page_size < 1:
            raise ValueError("a page holds at least one message")
        found = ChatSessions(self.session).messages(session_id, limit=page_size + 1,
                                                    before=before)
        return MessagePage(found[-page_size:], len(found) > page_size)
