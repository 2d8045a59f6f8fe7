"""First run: make a vault. A passphrase twice with a strength hint as you type, the
"not a medical device" notice accepted, then the recovery key shown once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Static

from luna_tui.errors import LunaError, VaultMadeNotOpened
from luna_tui.services.terms import NOTICE_TEXT
from luna_tui.ui.fast_focus import FOCUS_AT_ONCE
from luna_tui.ui.messages import UnlockAgain, VaultOpened
from luna_tui.ui.plain_text import plain
from luna_tui.ui.vault_calls import UsesVault
from luna_tui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from luna_tui.services.vault_setup import NewVault


class WelcomeScreen(UsesVault, Screen):
    BINDINGS = [Binding("ctrl+s,f2", "create", "Create vault", id="welcome.create"),
                Binding("ctrl+q", "app.quit", "Quit", id="app.quit"),
                *FOCUS_AT_ONCE,  # the keys typed after Tab land in the next field
                # Enter in the first field goes to the second the same way.
                Binding("enter", "next_field", "Next field", show=False, priority=True)]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="welcome-box", classes="card"):
            yield Static("Welcome to Luna", id="app-name")
            yield Label("A private health journal. Everything stays encrypted in "
                        f"{self.vault.layout.home}.", classes="muted")
            yield Label("Choose a passphrase: a few unrelated words are strong and easy to "
                        "remember.", classes="heading")
            # Compact, as in every form: the whole card fits an 80x24 terminal.
            yield Input(password=True, id="passphrase", placeholder="Passphrase",
                        compact=True)
            yield Label("", id="strength")
            yield Input(password=True, id="again", placeholder="The same passphrase again",
                        compact=True)
            yield Label(NOTICE_TEXT, id="notice-text", classes="muted")
            yield Checkbox("I understand: Luna is not a medical device", id="notice",
                           compact=True)
            yield Button("Create my vault", id="create", variant="primary", compact=True)
            yield Label("", id="status")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Input.Changed, "#passphrase")
    def show_strength(self, event: Input.Changed) -> None:
        from luna_tui.services.new_vault_words import passphrase_strength

        strength = passphrase_strength(event.value)
        label = self.query_one("#strength", Label)
        if not event.value:
            label.update("")
            return
        bar = "■" * (strength.score + 1) + "□" * (4 - strength.score)
        advice = f" — {strength.advice}" if strength.advice else ""
        label.update(f"{bar} {strength.label}{advice}")
        label.set_class(not strength.acceptable, "error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_field":  # elsewhere Enter is the field's or the button's
            return self.focused is not None and self.focused.id == "passphrase"
        return True

    def action_next_field(self) -> None:
        # set_focus, not focus(): that one moves the focus later, after the keys already
        # typed, which would land in this field still.
        self.set_focus(self.query_one("#again", Input))

    @on(Input.Submitted, "#again")
    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        again = self.query_one("#again", Input).value
        if passphrase != again:
            self._say("The two passphrases are not the same; type them again.", error=True)
            self.query_one("#again", Input).value = ""
            self.query_one("#again", Input).focus()
            return
        if not self.query_one("#notice", Checkbox).value:
            self._say("Please read the notice and tick it: Luna is not a medical device.",
                      error=True)
            self.query_one("#notice", Checkbox).focus()
            return
        self._say("Creating your vault (tuning the key derivation to this computer)…")
        self.query_one("#create", Button).disabled = True
        self.create(passphrase)

    class Made(Message):
        """From the creating thread: the vault exists (its recovery key must be shown,
        once); `not_opened`: why it could not be opened; `warning`: what went wrong
        after it was made."""

        def __init__(self, new: NewVault, *, not_opened: str | None = None,
                     warning: str | None = None) -> None:
            super().__init__()
            self.new = new
            self.not_opened = not_opened
            self.warning = warning

    class Failed(Message):
        """From the creating thread: no vault was made, and why."""

        def __init__(self, sentence: str) -> None:
            super().__init__()
            self.sentence = sentence

    @work(thread=True, exclusive=True, group="create", exit_on_error=False)
    def create(self, passphrase: str) -> None:
        # Here, not at the top: making a vault needs the crypto libraries, which the
        # welcome screen's first paint must not wait for.
        from luna_tui.services.terms import Terms
        from luna_tui.services.vault_setup import NewVault, create_vault

        try:
            new = create_vault(self.vault.layout, passphrase, kdf=self.vault.new_vault_kdf,
                               clock=self.vault.clock, client="tui")
        except VaultMadeNotOpened as made:  # its recovery key must still be shown, once
            shown = NewVault(None, made.recovery_key, made.kdf)  # type: ignore[arg-type]
            self.post_message(self.Made(shown, not_opened=str(made)))
            return
        except LunaError as error:
            self.post_message(self.Failed(str(error)))
            return
        except Exception as error:  # noqa: BLE001 - a bug must not leave the button dead
            self.post_message(self.Failed(f"Luna could not make the vault "
                                          f"({type(error).__name__}). Try again."))
            return
        warning = None
        try:
            Terms(new.session).accept()
        except LunaError as error:
            # The vault exists now: its recovery key must still be shown, whatever happens.
            warning = f"Your vault is made, but accepting the notice could not be recorded: {error}"
        self.post_message(self.Made(new, warning=warning))

    def on_welcome_screen_failed(self, message: Failed) -> None:
        self._say(message.sentence, error=True)
        self.query_one("#create", Button).disabled = False
        self.query_one("#passphrase", Input).focus()

    def on_welcome_screen_made(self, message: Made) -> None:
        if message.warning:
            self.notify(message.warning, severity="warning")
        self.app.push_screen(RecoveryKeyScreen(message.new, message.not_opened))

    def _say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#status", Label)
        status.update(plain(text))
        status.set_class(error, "error")
        status.scroll_visible()  # in a short terminal, below the fields


class RecoveryKeyScreen(Screen):
    """The recovery key, shown once, until the person says they have written it down."""

    def __init__(self, new: NewVault, not_opened: str | None = None) -> None:
        """`not_opened`: why the vault, made, could not be opened (the unlock screen
        follows, saying so)."""
        super().__init__()
        self.new = new
        self.not_opened = not_opened

    def compose(self) -> ComposeResult:
        from luna_tui.services.new_vault_words import recovery_key_groups

        groups = recovery_key_groups(self.new.recovery_key)
        with Center(), Vertical(id="recovery-box", classes="card"):
            yield Static("Your recovery key", id="app-name")
            yield Label("Write it down now and keep it somewhere safe, away from this "
                        "computer. It opens the vault like your passphrase — use it if you "
                        "forget the passphrase. Luna will not show it again.")
            yield Static("  ".join(groups[:4]) + "\n" + "  ".join(groups[4:]), id="recovery-key")
            yield Checkbox("I have written it down", id="written")
            yield Button("Continue", id="continue", variant="primary", disabled=True)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#written", Checkbox).focus()

    @on(Checkbox.Changed, "#written")
    def allow_continue(self, event: Checkbox.Changed) -> None:
        self.query_one("#continue", Button).disabled = not event.value

    @on(Button.Pressed, "#continue")
    def continue_to_vault(self) -> None:
        if self.not_opened is not None:
            self.post_message(UnlockAgain(self.not_opened))
            return
        self.post_message(VaultOpened(self.new.session, if_unreadable=(
            "Your vault is made, but it could not be read; see the message above. "
            "Unlock it with the passphrase you chose.")))
