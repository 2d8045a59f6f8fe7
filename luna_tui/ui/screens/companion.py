"""The AI companion (key 7): the current patient's chat sessions on the left (saved ones
on top, / filters them by title), the chat of the highlighted one on the right.

Type in the field at the bottom and press Enter (or ctrl+s): the message is saved first,
then the reply streams in, Markdown rendered, as the model sends it; Escape stops it.
The model is called from a thread worker, never on the DB thread or the event loop.
With no model reachable the screen works the same (sessions, pins, the preview), and a
send says why it failed and how to connect one; the message stays in the session.

The chat shows the session's newest messages; scrolling to the top, or ↑ on the first
message shown, brings the page before (widgets/chat_log.py), so a session of thousands
of messages opens as fast as a short one.

On the chat (Tab moves there, ↑↓ pick a message): m pins the message as a semantic pin,
j saves a reply into the journal, c copies it. v shows exactly what would be sent for
what is typed. n starts a session, r renames, s saves or unsaves, x deletes it.
When a send failed (or was stopped before any words came), ctrl+r sends the same
question again without saving it twice. o lists the personas (personas.py); the other
dialogs are in companion_dialogs.py.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label

from luna_tui.errors import AiError, AiTimeout, AiUnreachable, LunaError
from luna_tui.services.ai.memory import Memory
from luna_tui.services.ai.personas import Personas
from luna_tui.services.ai.sending import Sender
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.read_models.companion import NO_MESSAGES, CompanionPlace, MessagePage
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.companion_dialogs import (
    TYPE_LABELS,
    NewSessionDialog,
    PinDialog,
    PreviewScreen,
    RenameDialog,
)
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.personas import PersonasDialog
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.chat_log import ChatLog, ChatMessage
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.ai.sending import SendResult
    from luna_tui.services.ai.sessions import MessageView, SessionView
    from luna_tui.services.ai.usage import UsagePeriod
    from luna_tui.services.vault_session import VaultSession

# What a read-only key is told each of these would do (greyed; the key says why).
WRITE_ACTIONS = {"new": "start a session", "rename": "rename a session",
                 "delete": "delete a session", "toggle_saved": "save a session",
                 "pin": "pin a message", "to_journal": "write an entry",
                 "send": "chat with the companion", "resend": "chat with the companion"}
SESSION_ACTIONS = {"rename", "delete", "toggle_saved", "preview"}
STREAM_REFRESH_SECONDS = 0.08  # at most this often the streaming reply is redrawn
CONNECT_HINT = ("To connect a model, run `luna ai config --base-url URL --model NAME` in a "
                "shell (for example Ollama: `ollama serve`, then `luna ai config --base-url "
                "http://127.0.0.1:11434 --model llama3.2`), then press ctrl+r to send it "
                "again.")
RESEND_HINT = "Press ctrl+r to send it again."


def usage_line(periods: list[UsagePeriod]) -> str:
    """Today's and this month's requests and tokens (AiUsage.periods()), as a small table."""
    today, month = periods[0], periods[1]
    rows = [("AI use", "today", "month"),
            ("requests", f"{today.requests:,}", f"{month.requests:,}")]
    if today.failed or month.failed:
        rows.append(("failed", f"{today.failed:,}", f"{month.failed:,}"))
    rows.append(("tokens", f"{today.prompt_tokens + today.completion_tokens:,}",
                 f"{month.prompt_tokens + month.completion_tokens:,}"))
    return "\n".join(f"{a:<10}{b:>8}{c:>10}" for a, b, c in rows)


def session_cell(chat: SessionView) -> Text:
    text = Text()
    if chat.saved:
        text.append("★ ", style="bold yellow")
    text.append(plain(chat.title))
    return text


def failure_text(error: Exception) -> str:
    """What the chat says when a send fails: the provider's sentence, and for a model
    that can't be reached, how to connect one."""
    if isinstance(error, AiError):
        sentence = str(error)
        if isinstance(error, AiUnreachable | AiTimeout):
            sentence += "\n\n" + CONNECT_HINT
    elif isinstance(error, LunaError):
        sentence = str(error)
    else:
        sentence = f"Sending failed ({type(error).__name__})."
    return f"{sentence}\n\nYour message is kept in this session. {RESEND_HINT}"


class CompanionScreen(PlaceScreen):
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="companion.send"),
        Binding("ctrl+r", "resend", "Send again", id="companion.resend", show=False),
        Binding("escape", "stop", "Stop", id="companion.stop"),
        Binding("escape", "leave_field", "Leave the field", id="companion.leave"),
        Binding("n", "new", "New", id="companion.new"),
        Binding("v", "preview", "Preview", id="companion.preview"),
        # The same while typing: a letter would go into the message.
        Binding("ctrl+o", "preview", "Preview", id="companion.preview_typing", show=False),
        Binding("m", "pin", "Pin", id="companion.pin"),
        Binding("j", "to_journal", "To journal", id="companion.journal"),
        Binding("c", "copy", "Copy", id="companion.copy"),
        Binding("slash", "filter", "Find", id="companion.filter"),
        Binding("s", "toggle_saved", "Save/unsave", id="companion.save", show=False),
        Binding("r", "rename", "Rename", id="companion.rename", show=False),
        Binding("x", "delete", "Delete", id="companion.delete", show=False),
        Binding("o", "personas", "Personas", id="companion.personas", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, SessionView] = {}
        self.session_id: str | None = None
        self.search = ""
        self.streaming: threading.Event | None = None  # the cancel of the send under way
        self.streaming_into: ChatMessage | None = None
        # Why the last send of a session failed, by session: (its message id, the text),
        # shown under that message while it is still the last one.
        self.failures: dict[str, tuple[int, str]] = {}

    def compose(self) -> ComposeResult:
        yield TopBar("Companion")
        with Horizontal(id="companion-body"):
            with Vertical(id="companion-side"):
                yield Input(placeholder="Find a session by title", id="session-filter")
                yield ListTable(id="sessions")
                yield Label("", id="ai-usage", classes="muted")
            with Vertical(id="companion-main"):
                yield Label("", id="chat-title", classes="heading")
                yield ChatLog(id="chat")
                yield Label("", id="chat-status", classes="muted")
                yield Input(
                    placeholder="Ask the companion · Enter sends · ctrl+o: what it will see",
                    id="message", max_length=20_000)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#sessions", DataTable).add_column("Sessions", key="title")
        self.query_one("#session-filter").display = False
        self.query_one("#message", Input).focus()

    def on_unmount(self) -> None:
        if self.streaming is not None:
            self.streaming.set()  # the vault is locking or the app ends: stop the model

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.streaming is not None
        if action == "leave_field":
            return isinstance(self.focused, Input)
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None  # shown, greyed: the key's rights forbid it
        return True

    @property
    def chats(self) -> ChatSessions:
        return ChatSessions(self.session)

    @property
    def place(self) -> CompanionPlace:
        return CompanionPlace(self.session)

    @property
    def chat_log(self) -> ChatLog:
        return self.query_one("#chat", ChatLog)

    # -- loading --------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        if self.streaming is not None:
            return  # the reply is being written into the chat; it reloads when done
        patient = self.vault.patient_id
        if patient is None:
            return
        try:
            view = await self.vault.call(self.place.overview, patient, search=self.search,
                                         chosen_id=self.session_id)
        except ServiceFailed:
            return
        self.query_one("#ai-usage", Label).update(usage_line(view.usage))
        self._fill(view.sessions)
        chosen = self.sessions.get(self.session_id or "")
        if chosen is not None and (view.chosen is None or view.chosen.id != chosen.id):
            await self._load_chat()  # another session was chosen while this was read
        else:
            await self._show_chat(chosen, view.page)

    def _fill(self, found: list[SessionView]) -> None:
        table = self.query_one("#sessions", DataTable)
        keep = self.session_id
        self.sessions = {chat.id: chat for chat in found}
        with self.prevent(DataTable.RowHighlighted):
            table.clear()
            for chat in found:
                table.add_row(session_cell(chat), key=chat.id)
            keys = list(self.sessions)
            if keep in keys:
                table.move_cursor(row=keys.index(keep), animate=False)
        if keep not in self.sessions:
            self.session_id = next(iter(self.sessions), None)

    async def _load_chat(self) -> None:
        """Show the chosen session's newest page of messages."""
        chat = self.sessions.get(self.session_id or "")
        page = NO_MESSAGES
        if chat is not None:
            try:
                page = await self.vault.call(self.place.page, chat.id)
            except ServiceFailed:
                return
            if chat.id != self.session_id:
                return  # another session was chosen meanwhile; its own load shows it
        await self._show_chat(chat, page)

    async def _show_chat(self, chat: SessionView | None, page: MessagePage) -> None:
        log = self.chat_log
        title = self.query_one("#chat-title", Label)
        if chat is None:
            await log.show([], has_older=False)
            title.update("No session yet")
            self._status("Type a question below and press Enter: a session starts with it. "
                         "n starts one with another persona.")
            return
        saved = " · saved" if chat.saved else ""
        title.update(plain(f"{chat.title}  ·  {chat.persona_name or 'no persona'} · "
                           f"{TYPE_LABELS.get(chat.session_type, chat.session_type)}{saved}"))
        messages = page.messages
        await log.show(messages, has_older=page.has_older)
        failure = self.failures.get(chat.id)
        if failure and messages and messages[-1].id == failure[0]:
            await log.add(ChatMessage("notice", failure[1]))
        log.pick(self._last_reply_index())
        log.scroll_end(animate=False)
        if not messages:
            self._status("No messages yet: type below and press Enter.")
        elif failure and messages[-1].id == failure[0]:
            self._status("Not answered (see above); your message is kept in this session. "
                         + RESEND_HINT)
        elif messages[-1].role == "user":
            self._status("The last message has no answer yet: the model could not be "
                         "reached, or it was stopped. " + RESEND_HINT)
        else:
            self._status("")

    @on(ChatLog.OlderWanted)
    async def older_wanted(self, event: ChatLog.OlderWanted) -> None:
        """The person reached the top of the chat: the page before, above it."""
        log, session_id = self.chat_log, self.session_id
        if session_id is None:
            return
        try:
            page = await self.vault.call(self.place.page, session_id, before=event.before)
        except ServiceFailed:
            log.older_failed()
            return
        if session_id == self.session_id:  # else another session is shown by now
            await log.prepend(page.messages, before=event.before, has_older=page.has_older,
                              pick_last=event.pick_last)

    def _last_reply_index(self) -> int | None:
        items = self.chat_log.items
        for index in range(len(items) - 1, -1, -1):
            if items[index].role == "assistant":
                return index
        return len(items) - 1 if items else None

    def _status(self, text: str) -> None:
        self.query_one("#chat-status", Label).update(plain(text))

    @on(DataTable.RowHighlighted, "#sessions")
    async def session_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        if key and key != self.session_id and self.streaming is None:
            self.session_id = key
            await self._load_chat()

    # -- filtering ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#session-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#session-filter")
    async def filter_changed(self, event: Input.Changed) -> None:
        self.search = event.value
        await self.refresh_data()

    @on(Input.Submitted, "#session-filter")
    def filter_done(self) -> None:
        self.query_one("#sessions", DataTable).focus()

    def action_leave_field(self) -> None:
        field = self.focused
        if isinstance(field, Input) and field.id == "session-filter":
            if not field.value:
                field.display = False
            self.query_one("#sessions", DataTable).focus()
        else:
            self.chat_log.focus()

    # -- sending -----------------------------------------------------------------------------

    @on(Input.Submitted, "#message")
    async def message_submitted(self) -> None:
        await self.action_send()

    async def action_send(self) -> None:
        if not self.vault.writable("chat with the companion"):
            return
        if self.streaming is not None:
            self.notify("The companion is still answering; Escape stops it.")
            return
        field = self.query_one("#message", Input)
        text = field.value.strip()
        if not text:
            self.notify("Type a message first.", severity="warning")
            field.focus()
            return
        if self.session_id is None or self.session_id not in self.sessions:
            if not await self._create_session(None, "chat", None):
                return
        session_id, session = self.session_id, self.session
        assert session_id is not None
        field.value = ""
        log = self.chat_log
        reply = ChatMessage("assistant", "")
        await log.add(ChatMessage("user", text), reply)
        log.pick(len(log.items) - 1)
        log.scroll_end(animate=False)
        self.streaming, self.streaming_into = threading.Event(), reply
        self._status("The companion is answering… Escape stops it.")
        self.refresh_bindings()
        self._send(session, session_id, text, self.streaming)

    async def action_resend(self) -> None:
        """Send the session's unanswered question again (after a failure or a stop)."""
        if not self.vault.writable("chat with the companion"):
            return
        if self.streaming is not None:
            self.notify("The companion is still answering; Escape stops it.")
            return
        chat = self._current()
        if chat is None:
            return
        try:
            question = await self.vault.call(Sender(self.session).last_unanswered, chat.id)
        except ServiceFailed:
            return
        if question is None:
            self.notify("Every message in this session has an answer: there is nothing to "
                        "send again.")
            return
        self.failures.pop(chat.id, None)
        await self._load_chat()
        log = self.chat_log
        reply = ChatMessage("assistant", "")
        await log.add(reply)
        log.pick(len(log.items) - 1)
        log.scroll_end(animate=False)
        self.streaming, self.streaming_into = threading.Event(), reply
        self._status("Sending your question again… Escape stops it.")
        self.refresh_bindings()
        self._send(self.session, chat.id, None, self.streaming)

    @work(thread=True, group="companion-send", exit_on_error=False)
    def _send(self, session: VaultSession, session_id: str, text: str | None,
              cancel: threading.Event) -> None:
        """Send `text`, or with None the session's unanswered question again."""
        pieces: list[str] = []
        shown = [0.0]

        def on_delta(piece: str) -> None:
            pieces.append(piece)
            now = time.monotonic()
            if now - shown[0] >= STREAM_REFRESH_SECONDS:
                shown[0] = now
                self._tell(self.ReplyGrew(session, "".join(pieces)))

        try:
            sender = Sender(session)
            if text is None:
                result = sender.resend_last_unanswered(session_id, on_delta=on_delta,
                                                       cancel=cancel)
            else:
                result = sender.send(session_id, text, on_delta=on_delta, cancel=cancel)
        except Exception as error:  # noqa: BLE001 - every failure is said in the chat
            self._tell(self.ReplyEnded(session, session_id, None, error))
        else:
            self._tell(self.ReplyEnded(session, session_id, result, None))

    class ReplyGrew(Message):
        """From the send worker: the words of the reply so far."""

        def __init__(self, session: VaultSession, text: str) -> None:
            super().__init__()
            self.session = session
            self.text = text

    class ReplyEnded(Message):
        """From the send worker: the send ended with `result`, or failed with `error`.
        Like ReplyGrew, shown only while the vault it ran on is the open one: after a
        lock nothing of the vault may show."""

        def __init__(self, session: VaultSession, session_id: str,
                     result: SendResult | None, error: Exception | None) -> None:
            super().__init__()
            self.session = session
            self.session_id = session_id
            self.result = result
            self.error = error

    def _tell(self, message: Message) -> None:
        """From the worker thread: tell the screen, on the event loop."""
        try:
            self.post_message(message)
        except RuntimeError:
            pass  # the app has stopped

    def on_companion_screen_reply_grew(self, message: ReplyGrew) -> None:
        into = self.streaming_into
        if message.session is self.vault.session and into is not None and into.is_attached:
            into.show(message.text)
            self.chat_log.scroll_end(animate=False)

    async def on_companion_screen_reply_ended(self, message: ReplyEnded) -> None:
        if message.session is not self.vault.session:
            return
        if message.result is not None:
            await self._sent(message.session_id, message.result)
        else:
            await self._send_failed(message.session_id, message.error or RuntimeError())

    async def _sent(self, session_id: str, result: SendResult) -> None:
        self._done_streaming()
        await self.refresh_data()
        if result.result.finish_reason == "cancelled":
            self._status("Stopped. " + ("The words so far are kept." if result.reply
                                        else "No words had come yet."))
        elif result.summarised is not None:
            self._status("Older messages were summarised, so the companion keeps them in mind.")
        else:
            self._status("")

    async def _send_failed(self, session_id: str, error: Exception) -> None:
        self._done_streaming()
        try:  # the message was saved before the model was asked
            kept = await self.vault.call(self.chats.messages, session_id, limit=1)
        except ServiceFailed:
            kept = []
        if kept and kept[-1].role == "user":
            self.failures[session_id] = (kept[-1].id, failure_text(error))
        await self.refresh_data()
        if self.session_id != session_id or not kept:  # not shown in the chat: say it here
            self.notify(str(error) if isinstance(error, LunaError) else
                        f"Sending failed ({type(error).__name__}).", severity="error",
                        timeout=10)

    def _done_streaming(self) -> None:
        self.streaming, self.streaming_into = None, None
        self.refresh_bindings()

    def action_stop(self) -> None:
        if self.streaming is not None:
            self.streaming.set()
            self._status("Stopping…")

    # -- sessions ----------------------------------------------------------------------------

    async def _create_session(self, persona_id: str | None, session_type: str,
                              title: str | None) -> bool:
        patient = self.vault.patient_id
        if patient is None:
            return False
        try:
            made = await self.vault.call(self.chats.create, patient, persona_id,
                                        session_type=session_type, title=title)
        except ServiceFailed:
            return False
        self.session_id = made.id
        self.search = ""
        self.query_one("#session-filter", Input).value = ""
        await self.refresh_data()
        return True

    async def action_new(self) -> None:
        if not self.vault.writable("start a session"):
            return
        try:
            personas = await self.vault.call(Personas(self.session).list)
        except ServiceFailed:
            return

        async def made(answer: tuple[str, str, str | None] | None) -> None:
            if answer and await self._create_session(*answer):
                self.query_one("#message", Input).focus()

        await self.app.push_screen(NewSessionDialog(personas), made)

    def _current(self) -> SessionView | None:
        chat = self.sessions.get(self.session_id or "")
        if chat is None:
            self.notify("There is no session yet: n starts one.")
        return chat

    async def action_rename(self) -> None:
        chat = self._current()
        if chat is None or not self.vault.writable("rename a session"):
            return

        async def renamed(title: str | None) -> None:
            if title:
                try:
                    await self.vault.call(self.chats.rename, chat.id, title)
                except ServiceFailed:
                    return
                await self.refresh_data()

        await self.app.push_screen(RenameDialog(chat.title), renamed)

    async def action_toggle_saved(self) -> None:
        chat = self._current()
        if chat is None or not self.vault.writable("save a session"):
            return
        try:
            await self.vault.call(self.chats.set_saved, chat.id, not chat.saved)
        except ServiceFailed:
            return
        self.notify("Saved: it stays at the top of the list." if not chat.saved
                    else "No longer saved.")
        await self.refresh_data()

    async def action_delete(self) -> None:
        chat = self._current()
        if chat is None or not self.vault.writable("delete a session"):
            return
        if self.streaming is not None:
            self.notify("The companion is still answering; Escape stops it first.")
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(self.chats.delete, chat.id)
            except ServiceFailed:
                return
            self.session_id = None
            self.notify(f"Session '{chat.title}' deleted.")
            await self.refresh_data()

        await self.app.push_screen(ConfirmDialog(
            f"Delete the session '{chat.title}'?",
            "Its messages, summaries and pins are deleted. Journal entries saved from it "
            "stay in the journal, no longer linked to it.", "Delete", danger=True), answered)

    async def action_personas(self) -> None:
        try:
            personas = await self.vault.call(Personas(self.session).list)
        except ServiceFailed:
            return
        await self.app.push_screen(PersonasDialog(personas), self._after_personas)

    async def _after_personas(self, _: None) -> None:
        await self.refresh_data()  # a persona renamed or deleted shows in the title

    # -- messages ----------------------------------------------------------------------------

    def _chosen(self, what: str, *, reply_only: bool = False) -> MessageView | None:
        item = self.chat_log.chosen()
        if item is None or item.message is None:
            if self.streaming is not None and item is not None and item.message is None:
                self.notify(f"Wait for the answer to finish to {what} it.")
            else:
                self.notify(f"There is no message to {what}: Tab to the chat, ↑↓ picks one.")
            return None
        if reply_only and item.role != "assistant":
            self.notify(f"Only the companion's replies can be {what}d this way; ↑↓ picks "
                        "another message.")
            return None
        return item.message

    async def action_pin(self) -> None:
        message = self._chosen("pin")
        if message is None or not self.vault.writable("pin a message"):
            return

        async def pinned(answer: tuple[str, str, str] | None) -> None:
            if not answer:
                return
            category, importance, urgency = answer
            try:
                await self.vault.call(Memory(self.session).pin, message.id, category,
                                      importance, urgency)
            except ServiceFailed:
                return
            self.notify(f"Pinned as {category}: the companion keeps it in mind in every "
                        "session.")

        await self.app.push_screen(PinDialog(message.content), pinned)

    async def action_to_journal(self) -> None:
        message = self._chosen("save", reply_only=True)
        if message is None or not self.vault.writable("write an entry"):
            return
        try:
            entry = await self.vault.call(self.chats.save_reply_to_journal, message.id)
        except ServiceFailed:
            return
        self.notify(f"Saved to the journal as '{entry.title}', linked to this session.")

    def action_copy(self) -> None:
        item = self.chat_log.chosen()
        if item is None or not item.content:
            self.notify("There is no message to copy: Tab to the chat, ↑↓ picks one.")
            return
        self.app.copy_to_clipboard(item.content)
        self.notify(f"Copied the message ({len(item.content):,} characters).")

    async def action_preview(self) -> None:
        chat = self.sessions.get(self.session_id or "")
        question = self.query_one("#message", Input).value
        if chat is None:
            self.notify("Start a session first (n, or type a question and press Enter).")
            return
        try:
            preview = await self.vault.call(Sender(self.session).preview, chat.id, question)
        except ServiceFailed:
            return
        await self.app.push_screen(PreviewScreen(preview))
