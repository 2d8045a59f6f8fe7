"""One backup operation at a time, across the app.

The Backups screen's backup and verify, and the automatic backup after unlocking, run in
thread workers; this says which one is under way (the app's `backup_activity`, which the
Backups screen shows as a progress bar), refuses a second, and lets locking wait for the
running one: a backup needs the open vault until its last byte.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from luna_tui.ui.messages import Activity, BackupProgress

if TYPE_CHECKING:
    from textual.message import Message


class JobsHolder(Protocol):
    """What the jobs need of the App: where the running one is shown (its reactive
    `backup_activity`), how to say "wait", and how to post progress from a thread."""

    backup_activity: Activity | None

    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...
               ) -> None: ...

    def post_message(self, message: Message) -> bool: ...


class BackupJobs:
    def __init__(self, app: JobsHolder) -> None:
        self.app = app
        # (folder, every_days, keep) as last read: the Backups screen shows them while a
        # backup holds the DB thread, instead of waiting for it.
        self.settings: tuple[Path, int, int] | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._shown = (-1, "")

    @property
    def activity(self) -> Activity | None:
        return self.app.backup_activity

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def begin(self, what: str) -> bool:
        """On the event loop, before starting the worker: False (after saying why) when
        another operation is under way."""
        if self.busy:
            running = self.app.backup_activity
            doing = running.what if running else "Another backup operation"
            self.app.notify(f"{doing} is under way; wait for it to finish.",
                            severity="warning")
            return False
        self._idle.clear()
        self._shown = (-1, "")
        self.app.backup_activity = Activity(what, 0.0, "Starting…")
        return True

    def progress(self, done: float, step: str) -> None:
        """From the worker thread: a service's progress, passed on when it shows."""
        shown = (int(done * 100), step)
        if shown == self._shown:
            return
        self._shown = shown
        current = self.app.backup_activity
        if current is not None:
            self.app.post_message(BackupProgress(Activity(current.what, done, step)))

    def end(self) -> None:
        """From the worker thread, last: the operation is over, however it ended."""
        self._idle.set()
        self.app.post_message(BackupProgress(None))

    async def wait(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """On the event loop: until no operation is under way (or the timeout). Not
        asyncio.timeout: the waiting is done by a thread, which must end by itself."""
        if self.busy:
            await asyncio.to_thread(self._idle.wait, timeout)
