"""A crash in the app (LunaApp._handle_exception): in a screen's handler, a worker, a
thread worker, a timer or a call on the DB thread, the app closes with exit code 70, the
vault is locked (its lock audited), and nothing is printed — Textual's own handler
printed a traceback with the local variables. Under LUNA_DEBUG=1 the report is a 0600
file without the canary. The canary is the title of the AI session on screen (the
vault), the text typed in the message field (a widget), a local and the message.
In a real terminal: tests/test_crash_in_a_terminal.py."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from test_app_companion import open_companion
from textual.widgets import Input
from textual.worker import WorkerFailed

from app_helpers import SIZE, make_app
from conftest import PASSPHRASE
from luna_tui import crash_report
from luna_tui.services import vault_session
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent
from luna_tui.ui.screens.companion import CompanionScreen

CANARY = "CANARY-title-4b1e"


@pytest.fixture
def titled(session):
    """A vault with one AI session, titled with the canary."""
    me = Settings(session).current_patient_id()
    ChatSessions(session).create(me, title=CANARY)
    session.close()


def the_title(screen: CompanionScreen) -> str:
    title = screen.sessions[screen.session_id].title  # from the vault
    assert title == CANARY
    return title


# Each replaces the companion's preview (v, ctrl+o) with a way to fail.

async def fails_in_the_handler(screen: CompanionScreen) -> None:
    title = the_title(screen)
    raise ValueError(f"'{title}' is not a preview")


async def fails_in_a_worker(screen: CompanionScreen) -> None:
    title = the_title(screen)

    async def previewing() -> None:
        raise ValueError(f"'{title}' is not a preview")

    screen.run_worker(previewing(), exit_on_error=True)


async def fails_in_a_thread_worker(screen: CompanionScreen) -> None:
    title = the_title(screen)

    def previewing() -> None:
        raise ValueError(f"'{title}' is not a preview")

    screen.run_worker(previewing, thread=True, exit_on_error=True)


async def fails_in_a_timer(screen: CompanionScreen) -> None:
    title = the_title(screen)

    def ticking() -> None:
        raise ValueError(f"'{title}' is not a preview")

    screen.set_timer(0.01, ticking)


async def fails_on_the_db_thread(screen: CompanionScreen) -> None:
    session, patient = screen.session, screen.vault.patient_id

    def reading() -> dt.date:
        title = ChatSessions(session).list(patient)[0].title
        return dt.date.fromisoformat(title)  # "Invalid isoformat string: 'CANARY…'"

    await screen.vault.call(session.run, reading)


WAYS = {
    "handler": (fails_in_the_handler, ValueError, "fails_in_the_handler"),
    "worker": (fails_in_a_worker, WorkerFailed, "previewing"),
    "thread worker": (fails_in_a_thread_worker, WorkerFailed, "previewing"),
    "timer": (fails_in_a_timer, ValueError, "ticking"),
    "db thread": (fails_on_the_db_thread, ValueError, "reading"),
}


async def crash_the_companion(layout, monkeypatch, way: str) -> tuple:
    """Open the companion, type the canary, press ctrl+o; returns the app and the vault
    session it had open."""
    failing, raised, _ = WAYS[way]
    monkeypatch.setattr(CompanionScreen, "action_preview", failing)
    app = make_app(layout)
    opened = None
    with pytest.raises(raised):  # run_test re-raises the crash, as for any test's bug
        async with app.run_test(size=SIZE) as pilot:
            await open_companion(pilot)
            opened = app.session
            app.screen.query_one("#message", Input).value = f"Why is {CANARY} so?"
            await pilot.press("ctrl+o")
            for _ in range(100):
                if app.crash is not None:
                    break
                await pilot.pause(0.02)
    return app, opened


def audit_events(layout) -> list[str]:
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        return reopened.run(lambda: [e.event_name for e in AuditEvent.select()])


def crash_reports(luna_home: Path) -> list[Path]:
    folder = luna_home.parent / "luna-config"  # tests/conftest.py's LUNA_CONFIG_DIR
    return sorted(folder.glob("crash-*.txt")) if folder.is_dir() else []


@pytest.mark.parametrize("way", list(WAYS))
async def test_a_crash_locks_the_vault_prints_nothing_and_exits_70(
        layout, luna_home, titled, monkeypatch, capfd, way):
    monkeypatch.setenv("LUNA_DEBUG", "1")
    app, opened = await crash_the_companion(layout, monkeypatch, way)
    # Nothing printed, not even Textual's exit renderables.
    printed = capfd.readouterr()
    assert CANARY not in printed.out + printed.err
    assert "Traceback" not in printed.err and "ValueError" not in printed.err
    assert app.return_code == crash_report.EXIT_CRASH == 70
    assert app.crash is not None and app.crash.kind == "ValueError"  # a worker's, unwrapped
    # Locked: the session closed (its keys dropped), the lock audited.
    assert opened is not None and opened.closed and opened.keys is None
    assert vault_session._open_session is None and app.session is None
    assert audit_events(layout)[-2:] == ["lock", "unlock"]  # this test's own unlock last
    # The report holds no canary.
    [report] = crash_reports(luna_home)
    assert app.crash.report == report
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_bytes().decode()
    assert CANARY not in text
    assert "ValueError: " in text and f"in {WAYS[way][2]}" in text
    said = crash_report.sentence(app.crash, crash_report.APP_CLOSED)
    assert CANARY not in said and str(report) in said and "locked the vault" in said


async def test_without_luna_debug_a_crash_writes_no_file(layout, luna_home, titled,
                                                         monkeypatch, capfd):
    app, opened = await crash_the_companion(layout, monkeypatch, "handler")
    assert app.return_code == 70 and opened.closed
    assert app.crash == crash_report.Crash(kind="ValueError")
    assert crash_reports(luna_home) == []
    printed = capfd.readouterr()
    assert CANARY not in printed.out + printed.err
    assert "LUNA_DEBUG=1" in crash_report.sentence(app.crash, crash_report.APP_CLOSED)


async def test_textuals_panic_follows_the_crash_policy_too(layout, luna_home, titled,
                                                           monkeypatch, capfd):
    """App.panic, Textual's way out for errors it finds itself, would print what it is
    given (here a traceback with the canary in a local) once the terminal is back."""
    from rich.traceback import Traceback

    monkeypatch.setenv("LUNA_DEBUG", "1")
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_companion(pilot)
        opened = app.session
        try:
            title = CANARY
            raise KeyError(title)
        except KeyError:
            app.panic(Traceback(show_locals=True))
    printed = capfd.readouterr()
    assert CANARY not in printed.out + printed.err and "Traceback" not in printed.err
    assert app._exit_renderables == []  # noqa: SLF001 - nothing left for Textual to print
    assert app.return_code == crash_report.EXIT_CRASH
    assert app.crash is not None and app.crash.kind == "KeyError"
    assert opened.closed and app.session is None
    [report] = crash_reports(luna_home)
    assert CANARY not in report.read_text() and "the app (a panic)" in report.read_text()


def test_run_app_exits_70_after_a_crash_whatever_the_return_code_became(layout, monkeypatch,
                                                                        capsys):
    """A crash, then something that ends the app the ordinary way (return code 0):
    the process still says the sentence and exits 70."""
    from luna_tui.ui.app import LunaApp, run_app

    def crash_then_exit(self, *args, **kwargs):
        self.crash = crash_report.Crash(kind="ValueError")
        self._return_code = 0  # as a later self.exit() would set it

    monkeypatch.setattr(LunaApp, "run", crash_then_exit)
    assert run_app(layout) == crash_report.EXIT_CRASH
    assert "something went wrong inside Luna (ValueError)" in capsys.readouterr().err
