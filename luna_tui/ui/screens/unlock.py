"""The unlock screen: a passphrase (or the recovery key, or an access key) opens the vault.

The key derivation runs in a thread worker while the screen says "Unlocking…" and the
field holds still; a wrong passphrase says so and lets the person try again. While the
screen waits for typing, another thread imports the places (ui/places.py), so the
dashboard appears right after the KDF and a place's first visit seldom waits for an
import.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from rich.cells import cell_len
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from luna_tui import agent_link
from luna_tui.errors import LunaError
from luna_tui.ui.fast_focus import FOCUS_AT_ONCE
from luna_tui.ui.messages import VaultOpened
from luna_tui.ui.places import WARM_FIRST, warm
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import UsesVault
from luna_tui.ui.widgets.footer import KeysFooter


class PassphraseField(Input):
    """The passphrase field, which holds still while the vault unlocks (`holding`): keys
    and pastes are ignored, and its actions (Enter among them) are off.

    Disabling it instead took the focus away, which put "? Keys" in the footer: the
    footer was rebuilt and the screen restyled and laid out again, 25-35 ms of the app's
    thread in the middle of the key derivation, whose lanes share the machine's cores
    with it (luna bench: the derivation took 120-135 ms in the app, 103 ms alone)."""

    holding = False

    async def _on_key(self, event: events.Key) -> None:
        if self.holding:
            event.prevent_default()
            event.stop()
            return
        await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        if self.holding:
            event.stop()
            return
        super()._on_paste(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not self.holding and super().check_action(action, parameters)


class UnlockScreen(UsesVault, Screen):
    # The app's quit key, shown here: in the places the footer keeps its room.
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", id="app.quit"), *FOCUS_AT_ONCE]

    def __init__(self, message: str = "", *, error: bool = False,
                 waiting: bool = False, from_agent: bool = False) -> None:
        """`waiting`: the vault is still closing (a backup is finishing); `ready` opens
        the field once it is. `from_agent`: at the app's start, a running Luna agent may
        open the vault if its setting `agent.unlocks_app` is on (never after a lock)."""
        super().__init__()
        self.message = message
        self.error = error
        self.waiting = waiting
        self.from_agent = from_agent

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="unlock-box", classes="card"):
            yield Static("Luna", id="app-name")
            yield Label("Unlock your vault", classes="heading")
            yield Label(plain(self.vault.layout.home), id="vault-path", classes="muted")
            yield PassphraseField(password=True, id="passphrase",
                                  placeholder="Passphrase or recovery key, then Enter")
            yield Label(plain(self.message), id="status", classes="error" if self.error else "")
            if self.vault.layout.crisis_card.exists():
                # The card the person chose to keep readable without the passphrase.
                yield Label("f1: your crisis card", id="card-hint", classes="muted")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        field = self.query_one("#passphrase", Input)
        field.disabled = self.waiting
        field.focus()
        # After the first paint: imports hold the GIL and would delay it. Then a full
        # garbage collection, while the passphrase is typed: the imports leave one due,
        # and it fell on the vault's opening (10-20 ms of it).
        self.call_after_refresh(warm, WARM_FIRST, gc.collect)
        if self.from_agent and not self.waiting and os.path.exists(
                agent_link.socket_path(self.vault.layout.home)):
            # Only when an agent may run (its socket is there), after the first paint:
            # asking imports the vault's session code, which held the GIL during the
            # unlock screen's first paint at every start (start-up 1.23× → 1.37×).
            self.call_after_refresh(self.open_from_agent)

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def open_from_agent(self) -> None:
        """Opened by the agent's unlock when it may (services/agent_handoff.py); else
        nothing happens and the person types the passphrase as always."""
        from luna_tui.services.agent_handoff import open_from_agent

        try:
            session = open_from_agent(self.vault.layout, self.vault.clock)
        except LunaError:
            return
        if session is None:
            return
        opened = VaultOpened(session, unlocked=True, if_unreadable=(
            "The vault opened but could not be read; see the message above."))
        if not self.post_message(opened):
            session.close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        secret = event.value
        if not secret:
            self._say("Type your passphrase (or recovery key), then Enter.")
            return
        # The derivation first; the field keeps its dots (and the focus) until the
        # answer: nothing on the screen moves but the status line while it runs.
        self.unlock(secret)
        self.query_one(PassphraseField).holding = True
        self._say("Unlocking…")

    class Failed(Message):
        """From the unlocking thread: the vault did not open, and why."""

        def __init__(self, sentence: str) -> None:
            super().__init__()
            self.sentence = sentence

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def unlock(self, secret: str) -> None:
        from luna_tui.services.vault_session import VaultSession

        try:
            session = VaultSession.open(self.vault.layout, secret, clock=self.vault.clock,
                                        client="tui", settle_later=True)  # the app settles
        except LunaError as error:
            self.post_message(self.Failed(str(error)))
            return
        except Exception as error:  # noqa: BLE001 - a bug must not leave the field disabled
            self.post_message(self.Failed(
                f"Luna could not open the vault ({type(error).__name__}); nothing was "
                "changed. Try again, or run `luna doctor`."))
            return
        opened = VaultOpened(session, unlocked=True, if_unreadable=(
            "The vault opened but could not be read; see the message above."))
        if not self.post_message(opened):
            session.close()  # the app is ending: nobody will show the vault
            return
        self._unlock_waiting_agent(session, secret)

    @staticmethod
    def _unlock_waiting_agent(session: Any, secret: str) -> None:
        """After the dashboard is on its way: a waiting agent follows the app's unlock
        when `agent.follows_app` is on (services/agent_handoff.py)."""
        from luna_tui.services.agent_handoff import agent_may_follow, unlock_waiting_agent

        try:
            if agent_may_follow(session):
                unlock_waiting_agent(session.layout.home, secret)
        except LunaError:
            pass  # locked again meanwhile: the app is unaffected

    def ready(self, message: str) -> None:
        """The vault is closed: unlocking may start."""
        self.waiting = False
        self._say(message)
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()

    def on_unlock_screen_failed(self, message: Failed) -> None:
        self._say(message.sentence, error=True)
        field = self.query_one(PassphraseField)
        field.holding = False
        field.value = ""
        field.focus()

    def _say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#status", Label)
        # A line that fits where a line is already shown changes no size: the screen is
        # not laid out again ("Unlocking…" is said while the key derivation runs).
        same_size = (status.size.height == 1 and "\n" not in text
                     and cell_len(text) <= status.size.width)
        status.update(plain(text), layout=not same_size)
        status.set_class(error, "error")
