"""The companion's chat: the messages of one session, a page at a time.

A session can hold thousands of messages; the log shows its newest page and mounts the
page before only when the person reaches the top — by scrolling there (the wheel,
PgUp, the scroll bar) or by pressing ↑ on the first message shown — and says so in a
line above the messages. Each message is one widget drawing who and when, then its
text as Markdown rendered by Rich. (A Textual Markdown widget per message, a tree of
widgets each, for a whole history took seconds and hundreds of MB at 400 messages.)

The text is Markdown by design, the model writes it; Rich's Markdown never reads
console markup in it, so `[red]x[/red]` shows as typed, and terminal controls are
escaped first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label

from luna_tui.terminal_text import terminal_text
from luna_tui.ui.plain_text import plain

if TYPE_CHECKING:
    from luna_tui.services.ai.sessions import MessageView

ROLE_LABELS = {"user": "You", "assistant": "Companion", "system": "System"}
SHOWN_ROLES = ("user", "assistant")  # what the chat shows of a session's messages
OLDER_HINT = "Earlier messages: ↑ on the first one below, or scroll up, shows them."
OLDER_LOADING = "Loading earlier messages…"


def rendered(content: str) -> Markdown:
    """A message's text as Markdown, its terminal controls shown escaped."""
    return Markdown(terminal_text(content, multiline=True) or "…")


class ChatMessage(Widget):
    """One message, one widget: who and when, then the text as Markdown."""

    COMPONENT_CLASSES = {"chat-message--who"}

    def __init__(self, role: str, content: str, *, message: MessageView | None = None) -> None:
        super().__init__(classes=f"chat-message {role}")
        self.role, self.content, self.message = role, content, message
        self._text = rendered(content)

    @classmethod
    def of(cls, message: MessageView) -> ChatMessage:
        return cls(message.role, message.content, message=message)

    @property
    def who(self) -> str:
        when = self.message.created_at[11:16] if self.message else ""
        who = "Not answered" if self.role == "notice" else ROLE_LABELS.get(self.role, self.role)
        if self.message and self.message.finish_reason == "cancelled":
            who += " (stopped)"
        elif self.message and self.message.finish_reason == "length":
            who += " (cut at the length limit)"
        return f"{who}  {when}".rstrip()

    def render(self) -> RenderableType:
        who = plain(self.who)
        who.stylize(self.get_component_rich_style("chat-message--who"))
        return Group(who, self._text)

    def show(self, content: str) -> None:
        """Show `content` instead (a reply as it streams in)."""
        self.content, self._text = content, rendered(content)
        self.refresh(layout=True)


class ChatLog(VerticalScroll, can_focus=True):
    """The messages shown; ↑↓ pick the one m, j and c act on."""

    class OlderWanted(Message):
        """The person reached the top: show the page of messages before `before` (the
        oldest message shown), and with `pick_last` pick the newest of them."""

        def __init__(self, before: int, pick_last: bool) -> None:
            super().__init__()
            self.before = before
            self.pick_last = pick_last

    BINDINGS = [
        Binding("up", "pick(-1)", "Previous message (at the first, the ones before)",
                show=False),
        Binding("down", "pick(1)", "Next message", show=False),
        Binding("home", "pick_end(0)", "First message", show=False),
        Binding("end", "pick_end(1)", "Last message", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.selected: int | None = None
        self.has_older = False  # the session has messages before the oldest shown
        self.oldest_id: int | None = None  # the oldest message read (shown or not)
        self.asked: int | None = None  # the `before` of the page being fetched

    def compose(self) -> ComposeResult:
        yield Label(OLDER_HINT, id="chat-older", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#chat-older").display = False
        # Kept at the bottom while text is added or re-wraps (a scroll bar appearing
        # narrows it), until the person scrolls or picks a message; scroll_end anchors
        # it again.
        self.anchor()

    @property
    def items(self) -> list[ChatMessage]:
        return list(self.query_children(ChatMessage))

    # -- what is shown ------------------------------------------------------------------

    async def show(self, messages: Sequence[MessageView], *, has_older: bool) -> None:
        """Show these messages (a session's newest page) in place of any shown."""
        self.asked = None  # a page fetched for what was shown is not wanted any more
        self._older(False, None)  # emptying the log scrolls it to the top: no page wanted
        self.selected = None
        await self.remove_children(ChatMessage)
        await self.mount_all([ChatMessage.of(m) for m in messages if m.role in SHOWN_ROLES])
        self._older(has_older, messages[0].id if messages else None)

    async def add(self, *items: ChatMessage) -> None:
        """Put these after the last message (what is being sent, a notice)."""
        await self.mount_all(items)

    async def prepend(self, messages: Sequence[MessageView], *, before: int,
                      has_older: bool, pick_last: bool) -> bool:
        """Put the page of messages before `before` above those shown, keeping in view
        what was in view; False if the log shows another page by now (it was reloaded)."""
        if self.asked != before or self.oldest_id != before:
            return False
        self.asked = None
        items = self.items
        anchor = items[0] if items else None
        top = anchor.virtual_region.y if anchor else 0
        older = [ChatMessage.of(m) for m in messages if m.role in SHOWN_ROLES]
        if older:
            if anchor is not None:
                await self.mount_all(older, before=anchor)
            else:
                await self.mount_all(older)
            if self.selected is not None:
                self.selected += len(older)
        self._older(has_older, messages[0].id if messages else None)

        def keep_in_view() -> None:
            if pick_last and older:
                self.pick(len(older) - 1)
            elif anchor is not None and anchor.is_attached:
                self.scroll_to(y=self.scroll_y + anchor.virtual_region.y - top,
                               animate=False, immediate=True)

        self.call_after_refresh(keep_in_view)
        return True

    def older_failed(self) -> None:
        """The page could not be read (the person has been told why): ask again later."""
        self.asked = None
        self._older(self.has_older, self.oldest_id)

    def _older(self, has_older: bool, oldest_id: int | None) -> None:
        self.has_older = has_older and oldest_id is not None
        self.oldest_id = oldest_id
        line = self.query_one("#chat-older", Label)
        line.display = self.has_older
        line.update(OLDER_LOADING if self.asked is not None else OLDER_HINT)

    def _want_older(self, *, pick_last: bool) -> bool:
        if not self.has_older or self.asked is not None or self.oldest_id is None:
            return False
        self.asked = self.oldest_id
        self.query_one("#chat-older", Label).update(OLDER_LOADING)
        self.post_message(self.OlderWanted(self.oldest_id, pick_last))
        return True

    # -- reaching the top ---------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self._want_older(pick_last=False)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0:  # already at the top (or all of it fits): the wheel asks
            self._want_older(pick_last=False)

    # -- picking ------------------------------------------------------------------------

    def pick(self, index: int | None) -> None:
        items = self.items
        for item in items:
            item.remove_class("-selected")
        if not items or index is None:
            self.selected = None
            return
        index = max(0, min(index, len(items) - 1))
        self.selected = index
        items[index].add_class("-selected")
        self.scroll_to_widget(items[index], animate=False, top=len(items[index].content) > 400)

    def action_pick(self, step: int) -> None:
        items = self.items
        if not items:
            return
        start = len(items) - 1 if self.selected is None else self.selected
        if start + step < 0 and self._want_older(pick_last=True):
            return  # the page before comes, and its newest message is picked
        self.pick(start + step)

    def action_pick_end(self, last: int) -> None:
        self.pick(len(self.items) - 1 if last else 0)

    def chosen(self) -> ChatMessage | None:
        items = self.items
        if self.selected is not None and self.selected < len(items):
            return items[self.selected]
        return None
