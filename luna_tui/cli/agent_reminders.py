"""The reminders inside a Luna agent (issue 16): one of the agent's jobs, started at each
unlock and stopped at the lock (cli/agent_server.py). The agent claims the vault's
one-scheduler lock, so the app stays silent while it runs (services/reminders.py).

Its loop runs on a thread of its own; each scheduler call goes through the agent's
`AgentVault.run`, under the command lock, so a reminder never runs while a command has
replaced sys.stdout and the working folder. Reminders go to the desktop, else to the
terminal the agent was started from — only a terminal: the log of a background agent
is a file, and a notice may name a medication (reminders.show_details).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TextIO

from luna_tui.services.notifiers import agent_reminding
from luna_tui.services.reminders import TICK_SECONDS, remind_while

STOP_PATIENCE_SECONDS = 2.0


class AgentReminders:
    """A job of the agent: `stop` ends the loop and lets go of the scheduler lock."""

    def __init__(self, vault: Any, terminal: TextIO | None, *,
                 every: float = TICK_SECONDS) -> None:
        """`vault`: the agent's AgentVault; `terminal`: where a notice goes when no
        desktop takes it (None: nowhere)."""

        async def call(fn: Callable[..., Any], *args: Any) -> Any:
            return await asyncio.to_thread(vault.run, lambda _session: fn(*args))

        self.reminding = agent_reminding(vault.run(lambda session: session), terminal,
                                         call=call)
        self.every = every
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="luna-agent-reminders",
                                        daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.run(self._drive())

    async def _drive(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._started.set()
        await remind_while(self.reminding, self._stop, every=self.every)

    def stop(self) -> None:
        if self._started.wait(STOP_PATIENCE_SECONDS) and self._loop is not None:
            assert self._stop is not None
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:
                pass  # its loop has ended already
        self._thread.join(STOP_PATIENCE_SECONDS)


def reminders_job(terminal: TextIO | None) -> Callable[[Any], AgentReminders]:
    """The factory `run_agent(jobs=[...])` calls at each unlock."""
    return lambda vault: AgentReminders(vault, terminal)
