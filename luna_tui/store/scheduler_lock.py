"""One reminder scheduler per vault at a time: the agent's when one runs, else the app's.

Two `flock`s in the vault folder, beside the session lock (`.lock`):

- `LUNA_HOME/.reminders.lock`, held exclusively by whichever scheduler is reminding
  now. Whoever holds it sends; nobody else does, so no dose is announced twice.
- `LUNA_HOME/.reminders-agent.lock`, held by an agent for as long as it wants to
  remind. It is the agent's claim of priority: an app that sees it taken lets go of
  the reminders lock at its next tick, and the agent (which waits for that lock)
  takes over. When the agent ends, the kernel drops both of its locks and the app's
  next tick takes the reminders lock again.

`flock`s belong to an open file, so two holders in one process exclude each other as
two processes do, and a killed process never leaves a stale lock. The files stay
empty. Where `fcntl` is missing (Windows) there is no agent, and the app always
reminds.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from luna_tui.home import PRIVATE_FILE_MODE

REMINDING_FILE = ".reminders.lock"
AGENT_CLAIM_FILE = ".reminders-agent.lock"


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        if fcntl is None:  # pragma: no cover - Windows
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def taken_by_another(self) -> bool:
        """Whether someone else holds it now (False if we do, or nobody does)."""
        if self._fd is not None or fcntl is None:
            return False
        if not self.path.exists():
            return False
        if self.try_acquire():
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops the flock


class SchedulerLock:
    """Whether this holder may remind now. `role` is "app" or "agent"."""

    def __init__(self, home: Path, role: str) -> None:
        if role not in ("app", "agent"):
            raise ValueError(role)
        self.role = role
        self._reminding = _FileLock(home / REMINDING_FILE)
        self._claim = _FileLock(home / AGENT_CLAIM_FILE)

    def may_remind(self) -> bool:
        """Called before each tick: True while this holder is the one scheduler.

        The app yields to an agent's claim; the agent claims first, then takes the
        reminders lock as soon as the app has let go of it."""
        if self.role == "agent":
            if not self._claim.try_acquire():
                return False  # another agent of this vault reminds
            return self._reminding.try_acquire()
        if self._claim.taken_by_another():
            self._reminding.release()
            return False
        return self._reminding.try_acquire()

    @property
    def reminding(self) -> bool:
        return self._reminding.held

    def release(self) -> None:
        self._reminding.release()
        self._claim.release()
