"""The AI companion (key 7): the current patient's chat sessions on the left (saved ones
on top, / filters them by title), the chat of the highlighted one on the right.

Type in the field at the bottom and press Enter (or ctrl+s): the message is saved first,
then the reply streams in, Markdown rendered, as the model sends it; Escape stops it.
The model is called from a thread worker, never on the DB thread or the event loop.
With no model reachable the screen works the same (sessions, pins, the preview), and a
send says why it failed and how to connect one; the message stays in the session.

On the chat (Tab moves there, ↑↓ pick a message): m pins the message as a semantic pin,
j saves a reply into the journal, c copies it. v shows exactly what would be sent for
what is typed. n starts a session, r renames, s saves or unsaves, x deletes it.
When a send failed (or was stopped before any words came), ctrl+r sends the same
question again without saving it twice. o lists the personas: n adds one, e or Enter
edits one (its prompt, temperature, max tokens and what it may read), x deletes one of
the person's own (built-in ones can be edited, not deleted).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    Markdown,
    Select,
    Static,
)

from luna_tui.errors import AiError, AiTimeout, AiUnreachable, LunaError
from luna_tui.services.ai.memory import PIN_CATEGORIES, URGENCIES, Memory
from luna_tui.services.ai.personas import Personas
from luna_tui.services.ai.sending import Sender
from luna_tui.services.ai.sessions import SESSION_TYPES, ChatSessions
from luna_tui.services.ai.usage import AiUsage
from luna_tui.terminal_text import terminal_text
from luna_tui.ui.plain_text import field_text, plain
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.ai.personas import PersonaView
    from luna_tui.services.ai.sending import Preview, SendResult
    from luna_tui.services.ai.sessions import MessageView, SessionView
    from luna_tui.services.ai.usage import UsagePeriod
    from luna_tui.services.vault_session import VaultSession

WRITE_ACTIONS = {"new", "rename", "delete", "toggle_saved", "pin", "to_journal", "send",
                 "resend"}
SESSION_ACTIONS = {"rename", "delete", "toggle_saved", "preview"}
STREAM_REFRESH_SECONDS = 0.08  # at most this often the streaming reply is redrawn
CONNECT_HINT = ("To connect a model, run `luna ai config --base-url URL --model NAME` in a "
                "shell (for example Ollama: `ollama serve`, then `luna ai config --base-url "
                "http://127.0.0.1:11434 --model llama3.2`), then press ctrl+r to send it "
                "again.")
RESEND_HINT = "Press ctrl+r to send it again."
TYPE_LABELS = {"chat": "Chat", "check_in": "Check-in", "appointment_prep": "Appointment prep",
               "journal_reflection": "Journal reflection"}
ROLE_LABELS = {"user": "You", "assistant": "Companion", "system": "System"}


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


class ChatMessage(Vertical):
    """One message: who and when above, the text as Markdown below."""

    def __init__(self, role: str, content: str, *, message: MessageView | None = None) -> None:
        super().__init__(classes=f"chat-message {role}")
        self.role, self.content, self.message = role, content, message

    def compose(self) -> ComposeResult:
        when = self.message.created_at[11:16] if self.message else ""
        who = "Not answered" if self.role == "notice" else ROLE_LABELS.get(self.role, self.role)
        if self.message and self.message.finish_reason == "cancelled":
            who += " (stopped)"
        elif self.message and self.message.finish_reason == "length":
            who += " (cut at the length limit)"
        yield Label(plain(f"{who}  {when}".rstrip()), classes="chat-who")
        # Markdown by design (the model writes it), but never terminal controls.
        yield Markdown(terminal_text(self.content, multiline=True) or "…", classes="chat-text")

    async def show(self, content: str) -> None:
        self.content = content
        await self.query_one(Markdown).update(terminal_text(content, multiline=True) or "…")


class ChatLog(VerticalScroll, can_focus=True):
    """The messages; ↑↓ pick the one m, j and c act on."""

    BINDINGS = [
        Binding("up", "pick(-1)", "Previous message", show=False),
        Binding("down", "pick(1)", "Next message", show=False),
        Binding("home", "pick_end(0)", "First message", show=False),
        Binding("end", "pick_end(1)", "Last message", show=False),
    ]

    selected: int | None = None

    @property
    def items(self) -> list[ChatMessage]:
        return list(self.query(ChatMessage))

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
        if items:
            start = len(items) - 1 if self.selected is None else self.selected
            self.pick(start + step)

    def action_pick_end(self, last: int) -> None:
        self.pick(len(self.items) - 1 if last else 0)

    def chosen(self) -> ChatMessage | None:
        items = self.items
        if self.selected is not None and self.selected < len(items):
            return items[self.selected]
        return None


class CompanionScreen(PlaceScreen):
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
        yield Footer(compact=True)

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
    def chat_log(self) -> ChatLog:
        return self.query_one("#chat", ChatLog)

    # -- loading --------------------------------------------------------------------------

    async def refresh_data(self) -> None:
        if self.streaming is not None:
            return  # the reply is being written into the chat; it reloads when done
        patient, session, search = self.vault.patient_id, self.session, self.search
        if patient is None:
            return

        def gather() -> tuple:
            return (ChatSessions(session).list(patient, search=search),
                    AiUsage(session).periods())

        try:
            found, usage = await self.vault.call(session.run, gather)
        except ServiceFailed:
            return
        self.query_one("#ai-usage", Label).update(usage_line(usage))
        self._fill(found)
        await self._load_chat()

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
        log = self.chat_log
        title = self.query_one("#chat-title", Label)
        chat = self.sessions.get(self.session_id or "")
        await log.remove_children()
        if chat is None:
            title.update("No session yet")
            self._status("Type a question below and press Enter: a session starts with it. "
                         "n starts one with another persona.")
            return
        saved = " · saved" if chat.saved else ""
        title.update(plain(f"{chat.title}  ·  {chat.persona_name or 'no persona'} · "
                           f"{TYPE_LABELS.get(chat.session_type, chat.session_type)}{saved}"))
        try:
            messages = await self.vault.call(self.chats.messages, chat.id)
        except ServiceFailed:
            return
        await log.mount_all([ChatMessage(m.role, m.content, message=m) for m in messages
                             if m.role in ("user", "assistant")])
        failure = self.failures.get(chat.id)
        if failure and messages and messages[-1].id == failure[0]:
            await log.mount(ChatMessage("notice", failure[1]))
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
        await log.mount(ChatMessage("user", text))
        reply = ChatMessage("assistant", "")
        await log.mount(reply)
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
        await log.mount(reply)
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
                self._from_thread(session, self._show_partial, "".join(pieces))

        try:
            sender = Sender(session)
            if text is None:
                result = sender.resend_last_unanswered(session_id, on_delta=on_delta,
                                                       cancel=cancel)
            else:
                result = sender.send(session_id, text, on_delta=on_delta, cancel=cancel)
        except Exception as error:  # noqa: BLE001 - every failure is said in the chat
            self._from_thread(session, self._send_failed, session_id, error)
        else:
            self._from_thread(session, self._sent, session_id, result)

    def _from_thread(self, session: VaultSession, callback, *args) -> None:  # noqa: ANN001
        """Run `callback` on the event loop, unless the vault was locked meanwhile (the
        screen is gone then, and nothing of the vault may show)."""
        async def guarded() -> None:
            if self.vault.session is not session or not self.is_attached:
                return
            await callback(*args)

        try:
            self.app.call_from_thread(guarded)
        except RuntimeError:
            pass  # the app has stopped

    async def _show_partial(self, text: str) -> None:
        if self.streaming_into is not None and self.streaming_into.is_attached:
            await self.streaming_into.show(text)
            self.chat_log.scroll_end(animate=False)

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
        from luna_tui.ui.screens.dialogs import ConfirmDialog

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


# -- dialogs ------------------------------------------------------------------------------------

class PreviewScreen(ModalScreen[None]):
    """Exactly the text that would go to the model, scrollable. Escape closes."""

    BINDINGS = [Binding("escape,v,ctrl+o", "dismiss(None)", "Close", id="preview.close")]

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        preview = self.preview
        kinds = ", ".join(preview.context.kinds) or "nothing of your records"
        with Vertical(classes="dialog wide", id="preview-dialog"):
            yield Label(plain(f"Exactly what goes to {preview.model} at {preview.base_url}"),
                        classes="heading")
            yield Label(f"{len(preview.messages)} messages · context of about "
                        f"{preview.context.tokens:,} tokens with: {kinds}. The AI can read "
                        "this; it can't change anything.", classes="muted")
            with VerticalScroll(id="preview-scroll"):
                yield Static(plain(preview.text), id="preview-text")
            yield Label("↑↓ PgUp PgDn scroll · Escape closes", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#preview-scroll").focus()


class NewSessionDialog(ModalScreen[tuple[str, str, str | None] | None]):
    """A persona, a type and an optional title. Enter or Start; Escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="new-session.cancel")]

    def __init__(self, personas: list[PersonaView]) -> None:
        super().__init__()
        self.personas = personas

    def compose(self) -> ComposeResult:
        default = next((p.id for p in self.personas if p.id == "persona-journal-companion"),
                       self.personas[0].id if self.personas else Select.BLANK)
        with Vertical(classes="dialog"):
            yield Label("Start a session", classes="heading")
            yield Label("Who answers", classes="field-label")
            yield Select([(plain(p.name), p.id) for p in self.personas], value=default,
                         allow_blank=False, id="persona")
            yield Label("", id="persona-about", classes="muted")
            yield Label("Kind of session", classes="field-label")
            yield Select([(TYPE_LABELS[t], t) for t in SESSION_TYPES], value="chat",
                         allow_blank=False, id="session-type")
            yield Label("Title (optional: the first message names it)", classes="field-label")
            yield Input(id="title", placeholder="Enter starts the session")
            with Horizontal(classes="buttons"):
                yield Button("Start", id="go", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self._describe()
        self.query_one("#title", Input).focus()

    @on(Select.Changed, "#persona")
    def _describe(self) -> None:
        chosen = self.query_one("#persona", Select).value
        persona = next((p for p in self.personas if p.id == chosen), None)
        self.query_one("#persona-about", Label).update(
            plain((persona.description or "") if persona else ""))

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def go(self) -> None:
        title = self.query_one("#title", Input).value.strip() or None
        self.dismiss((str(self.query_one("#persona", Select).value),
                      str(self.query_one("#session-type", Select).value), title))

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)


class RenameDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="rename.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_now = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rename the session", classes="heading")
            yield Input(field_text(self.title_now), id="title", max_length=80)
            yield Label("Enter renames · Escape cancels", classes="muted")

    @on(Input.Submitted)
    def go(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class PinDialog(ModalScreen[tuple[str, str, str] | None]):
    """Pin a message: its category, importance (0 to 1) and urgency."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="pin.cancel"),
        Binding("ctrl+s", "go", "Pin", id="pin.save"),
    ]

    def __init__(self, content: str) -> None:
        super().__init__()
        self.content = content

    def compose(self) -> ComposeResult:
        flat = " ".join(self.content.split())
        with Vertical(classes="dialog"):
            yield Label("Pin this message", classes="heading")
            yield Label(plain(flat if len(flat) <= 160 else flat[:159] + "…"), classes="muted")
            yield Label("Category", classes="field-label")
            yield Select([(c, c) for c in PIN_CATEGORIES], value="other", allow_blank=False,
                         id="category")
            yield Label("Importance, 0 to 1", classes="field-label")
            yield Input("0.5", id="importance")
            yield Label("Urgency", classes="field-label")
            yield Select([(u, u) for u in URGENCIES], value="normal", allow_blank=False,
                         id="urgency")
            with Horizontal(classes="buttons"):
                yield Button("Pin (ctrl+s)", id="go", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#category", Select).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#go")
    def action_go(self) -> None:
        self.dismiss((str(self.query_one("#category", Select).value),
                      self.query_one("#importance", Input).value,
                      str(self.query_one("#urgency", Select).value)))

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)


class PersonasDialog(UsesVault, ModalScreen[None]):
    """Who can answer: each persona, what it is for and what it may read. n adds one,
    e or Enter edits the highlighted one, x deletes it; Escape closes."""

    DEFAULT_CSS = """
    #persona-list { height: auto; max-height: 12; }
    #persona-about { height: auto; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape,o", "dismiss(None)", "Close", id="personas.close"),
        Binding("n", "new", "New", id="personas.new"),
        Binding("e", "edit", "Edit", id="personas.edit"),
        Binding("x", "delete", "Delete", id="personas.delete"),
    ]

    def __init__(self, personas: list[PersonaView]) -> None:
        super().__init__()
        self.personas = personas

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Personas", classes="heading")
            yield ListTable(id="persona-list")
            yield Static("", id="persona-about")
            yield Label("n new · e or Enter edits · x deletes · Escape closes · n on the "
                        "companion screen starts a session with one", classes="muted")

    def on_mount(self) -> None:
        table = self.query_one("#persona-list", DataTable)
        table.add_column("Persona", key="name")
        table.add_column("Reads", key="reads")
        self._fill(None)
        table.focus()

    def _fill(self, keep: str | None) -> None:
        table = self.query_one("#persona-list", DataTable)
        table.clear()
        for persona in self.personas:
            name = plain(persona.name)
            if persona.builtin:
                name.append("  (built in)", style="dim")
            table.add_row(name, plain(", ".join(persona.data_access) or "nothing"),
                          key=persona.id)
        ids = [p.id for p in self.personas]
        if keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        self._describe()

    def _highlighted(self) -> PersonaView | None:
        table = self.query_one("#persona-list", DataTable)
        if not self.personas or table.cursor_row is None:
            return None
        return self.personas[min(table.cursor_row, len(self.personas) - 1)]

    @on(DataTable.RowHighlighted, "#persona-list")
    def _describe(self) -> None:
        persona = self._highlighted()
        text = Text()
        if persona is not None:
            if persona.description:
                text.append(plain(persona.description + "\n"))
            text.append(plain(f"reads: {', '.join(persona.data_access) or 'nothing'} · "
                              f"temperature {persona.temperature:g} · up to "
                              f"{persona.max_tokens} tokens", "dim"))
        self.query_one("#persona-about", Static).update(text)

    async def _reload(self, keep: str | None) -> None:
        try:
            self.personas = await self.vault.call(Personas(self.vault.session).list)
        except ServiceFailed:
            return
        self._fill(keep)

    async def action_new(self) -> None:
        await self._open_form(None)

    @on(DataTable.RowSelected, "#persona-list")
    async def action_edit(self) -> None:
        persona = self._highlighted()
        if persona is not None:
            await self._open_form(persona)

    async def _open_form(self, persona: PersonaView | None) -> None:
        from luna_tui.ui.screens.persona_form import PersonaFormScreen

        if not self.vault.writable("create a persona" if persona is None else "edit a persona"):
            return

        async def saved(made: PersonaView | None) -> None:
            if made is not None:
                await self._reload(made.id)

        await self.app.push_screen(PersonaFormScreen(persona), saved)

    async def action_delete(self) -> None:
        from luna_tui.ui.screens.dialogs import ConfirmDialog

        persona = self._highlighted()
        if persona is None or not self.vault.writable("delete a persona"):
            return
        if persona.builtin:
            self.notify(f"'{persona.name}' is built in: it can be edited but not deleted.",
                        severity="warning")
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                await self.vault.call(Personas(self.vault.session).delete, persona.id)
            except ServiceFailed:
                return
            self.notify(f"Persona '{persona.name}' deleted.")
            await self._reload(None)

        await self.app.push_screen(ConfirmDialog(
            f"Delete the persona '{persona.name}'?",
            "Sessions that used it stay, with their messages; the Journal companion "
            "answers them from now on.", "Delete", danger=True), answered)
