"""Where reminders go: the desktop's notifications over D-Bus, else a terminal.

`DesktopNotifier` speaks `org.freedesktop.Notifications` through desktop-notifier, with
"Taken" and "Snooze" buttons on a dose notice. Without a session bus or a notification
daemon it says so (`send` returns False) and `FallbackNotifier` hands the notice to the
next one: the app's own notification, or the terminal an agent was started from.
desktop-notifier is imported on first use, not by the CLI's fast paths.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from luna_tui.services.reminders import Answer, Notice, Reminding

SEND_TIMEOUT_SECONDS = 5.0
BUTTONS = {"taken": "Taken", "snooze": "Snooze"}


def session_bus_named() -> bool:
    """Whether this process has a session bus to try: the variable, or the usual socket
    in the runtime folder (elsewhere than Linux desktop-notifier has its own ways)."""
    if not sys.platform.startswith("linux") or os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return bool(runtime) and os.path.exists(os.path.join(runtime, "bus"))


class DesktopNotifier:
    """Desktop notifications (D-Bus on Linux). False from `send` when there is no bus,
    no daemon, or the daemon refused: the caller falls back."""

    def __init__(self, app_name: str = "Luna") -> None:
        self.app_name = app_name
        self._notifier: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _backend(self) -> Any:
        if self._notifier is None:
            # It logs a warning with a traceback for every failed send; the fallback
            # says what matters, and stderr may be the app's screen.
            logging.getLogger("desktop_notifier").setLevel(logging.CRITICAL)
            from desktop_notifier import DesktopNotifier as Backend

            self._notifier = Backend(app_name=self.app_name)
        return self._notifier

    async def send(self, notice: Notice, on_action: Answer | None) -> bool:
        if not session_bus_named():
            return False  # no session bus to reach: don't try autolaunching one
        from desktop_notifier import Button

        dispatched = asyncio.Event()
        buttons = [Button(title=BUTTONS[action], on_pressed=self._pressed(
            notice, action, on_action)) for action in notice.actions] if on_action else []
        try:
            await asyncio.wait_for(self._backend().send(
                title=notice.title, message=notice.body, buttons=buttons,
                on_dispatched=dispatched.set), SEND_TIMEOUT_SECONDS)
        except (TimeoutError, OSError, ImportError):
            return False
        return dispatched.is_set()

    def _pressed(self, notice: Notice, action: str, on_action: Answer | None
                 ) -> Callable[[], None]:
        def pressed() -> None:
            if on_action is not None:
                task = asyncio.get_running_loop().create_task(on_action(notice, action))
                self._tasks.add(task)  # kept until done: the loop holds tasks weakly
                task.add_done_callback(self._tasks.discard)

        return pressed


class TerminalNotifier:
    """A line on a terminal (an agent's); no buttons: `luna dose` logs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    async def send(self, notice: Notice, on_action: Answer | None) -> bool:
        try:
            self.stream.write(f"\a{notice.text}\n")
            self.stream.flush()
        except (OSError, ValueError):
            return False
        return True


class FallbackNotifier:
    """The first notifier that delivers."""

    def __init__(self, *notifiers: Any) -> None:
        self.notifiers = notifiers

    async def send(self, notice: Notice, on_action: Answer | None) -> bool:
        for notifier in self.notifiers:
            if await notifier.send(notice, on_action):
                return True
        return False


def agent_reminding(session: Any, terminal: TextIO | None, *,
                    call: Callable[..., Awaitable[Any]] | None = None) -> Reminding:
    """What an agent runs while it holds an unlocked session, with `remind_while`:
    desktop notifications, else lines on the terminal it was started from (if any),
    under the agent's claim of the one-scheduler lock. What a button did is said on
    that terminal too."""
    from luna_tui.services.reminders import ReminderScheduler, scheduler_lock

    notifiers: list[Any] = [DesktopNotifier()]
    told = None
    if terminal is not None:
        notifiers.append(TerminalNotifier(terminal))

        def told(sentence: str) -> None:
            try:
                terminal.write(sentence + "\n")
                terminal.flush()
            except (OSError, ValueError):
                pass  # the terminal is gone; the dose is logged all the same

    return Reminding(ReminderScheduler(session), FallbackNotifier(*notifiers),
                     scheduler_lock(session, "agent"), call=call, told=told)
