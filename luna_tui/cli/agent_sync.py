"""Sync inside a Luna agent: one of the agent's jobs (cli/agent_server.py), started at
each unlock and stopped at the lock, like the reminders (cli/agent_reminders.py).

A thread ticks about once a second; each tick goes through the agent's `AgentVault.run`,
under the command lock, so a round never runs in the middle of a command. What a round
did (files applied, a file refused) goes to the agent's report line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from luna_tui.clock import SystemClock
from luna_tui.errors import LunaError
from luna_tui.services.sync.auto import TICK_SECONDS, AutoSync, sync_when_due


class AgentSync:
    def __init__(self, vault: Any, report: Callable[[str], None], *,
                 every: float = TICK_SECONDS) -> None:
        self.vault, self.report, self.every = vault, report, every
        self.auto = AutoSync(SystemClock())
        self._stop = threading.Event()
        self._last_problem: str | None = None
        self._thread = threading.Thread(target=self._main, name="luna-agent-sync", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()

    def tick(self) -> None:
        try:
            done = self.vault.run(lambda session: sync_when_due(session, self.auto))
        except LunaError as error:  # locked meanwhile, the folder unplugged: said once
            if str(error) != self._last_problem:
                self._last_problem = str(error)
                self.report(f"sync: {error}")
            return
        self._last_problem = None
        if done is not None and (done.files_applied or done.refused or done.written):
            self.report(f"sync: wrote {_count(done.written, 'change')}, applied "
                        f"{_count(done.files_applied, 'file')} from other devices" + "".join(
                            f"; refused: {why}" for why in done.refused))

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def sync_job(report: Callable[[str], None]) -> Callable[[Any], AgentSync]:
    """The factory the agent calls at each unlock."""
    return lambda vault: AgentSync(vault, report)
