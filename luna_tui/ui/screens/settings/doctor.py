"""`luna doctor`'s checks from the app: every database's integrity, the keys file, the
audit chain, every attachment and the files' permissions, run in a thread (they read
the whole vault) and shown one line each. Nothing is changed; the repairs the doctor
can make stay in the shell (`luna doctor --repair`), where they are asked for by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label

from luna_tui.errors import LunaError
from luna_tui.services.doctor import run_checks
from luna_tui.ui.messages import StillBusy
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.settings.part import SettingsPart

if TYPE_CHECKING:
    from luna_tui.services.doctor import Finding
    from luna_tui.services.vault_session import VaultSession


class DoctorPart(SettingsPart):
    def __init__(self) -> None:
        super().__init__(id="doctor")
        self.running = False

    def compose(self) -> ComposeResult:
        yield Label("Is the vault whole?", classes="part-heading")
        yield Label("The checks of `luna doctor`: each database's integrity, the keys file, "
                    "the audit log's chain, every attachment, and that only you can read "
                    "the files. They read the whole vault and change nothing.",
                    classes="muted")
        with Horizontal(classes="part-buttons"):
            yield Button("Run the checks (ctrl+s)", id="run-doctor", variant="primary",
                         compact=True)
        yield Label("", id="doctor-status")
        yield Vertical(id="doctor-results")

    class Checked(Message):
        """From the checking thread: the findings, or why they could not be made."""

        def __init__(self, session: VaultSession, findings: list[Finding] | None,
                     failure: str = "") -> None:
            super().__init__()
            self.session = session
            self.findings = findings
            self.failure = failure

    async def submit(self) -> None:
        self.start()

    @on(Button.Pressed, "#run-doctor")
    def start(self) -> None:
        session = self.vault.session
        if session is None or self.running:
            return
        self.running = True
        self.query_one("#doctor-status", Label).update("Checking the vault…")
        self.query_one("#doctor-results").remove_children()
        self._check(session)

    @work(thread=True, group="doctor", exit_on_error=False)
    def _check(self, session: VaultSession) -> None:
        self.post_message(StillBusy())
        try:
            findings = run_checks(session)
        except LunaError as error:
            self.post_message(self.Checked(session, None, str(error)))
        except Exception as error:  # noqa: BLE001 - a bug must not leave it "checking"
            self.post_message(self.Checked(session, None, f"The checks could not run "
                                           f"({type(error).__name__})."))
        else:
            self.post_message(self.Checked(session, findings))

    async def on_doctor_part_checked(self, message: Checked) -> None:
        message.stop()
        self.running = False
        if not self.still_open(message.session):
            return
        status = self.query_one("#doctor-status", Label)
        if message.findings is None:
            status.update(plain(message.failure))
            status.add_class("error")
            return
        failed = [f for f in message.findings if not f.ok]
        status.set_class(bool(failed), "error")
        status.update(f"{len(failed)} check(s) failed: see below; `luna doctor --repair` "
                      "mends what a crash explains." if failed else "The vault is healthy.")
        lines = []
        for finding in message.findings:
            line = Label(plain(f"{'✓' if finding.ok else '✗'} {finding.check}: "
                               f"{finding.detail}"), classes="doctor-finding")
            line.set_class(not finding.ok, "error")
            lines.append(line)
        await self.query_one("#doctor-results").mount_all(lines)
