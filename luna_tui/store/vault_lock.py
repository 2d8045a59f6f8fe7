"""Who is using a vault folder: a shared lock for every open session, an exclusive one
for a restore, which swaps the files underneath.

SQLite's own locks protect one database; a restore replaces all of them, so it needs
to know that no Luna process has any of them open. Every session holds a shared
`flock` on `LUNA_HOME/.lock` while it is open; a restore takes it exclusively. The
kernel drops the lock when a process dies, so a killed Luna never leaves it stuck.
An opening session that finds itself alone (it could take the lock exclusively) knows
that whatever half-done work it finds was left by processes that died.
Where `fcntl` is missing (Windows), the locks are no-ops: see README, Backups.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from luna_tui.errors import VaultBusy
from luna_tui.home import PRIVATE_FILE_MODE, os_error_to_luna

LOCK_FILE_NAME = ".lock"
PATIENCE_SECONDS = 2.0
RETRY_SECONDS = 0.02


class VaultLock:
    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE_NAME
        self._fd: int | None = None

    def acquire_shared(self, while_alone: Callable[[], None] | None = None) -> None:
        """Taken by every open session; refused only while a restore runs.

        With `while_alone`: when no other Luna process has the vault open, it runs first
        under the exclusive lock, then the lock is shared. Whatever it sees then was left
        by processes that are gone (it should only look: others wait while it runs)."""
        if while_alone is not None and self._try_alone():
            try:
                while_alone()
            finally:
                self._share()
            return
        self._acquire(exclusive=False, busy=VaultBusy(
            "A backup is being restored into this vault (or its keys rotated) right now; try "
            "again when it is done."))

    def _try_alone(self) -> bool:
        try:
            self._acquire(exclusive=True, busy=VaultBusy(), patience=0.0)
        except VaultBusy:
            return False
        return self._fd is not None

    def _share(self) -> None:

        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_SH)  # blocks only while a restore holds it

    def acquire_exclusive(self, doing: str = "restore") -> None:
        """Taken by a restore or a key rotation (`doing`); refused while any Luna process
        has the vault open."""
        self._acquire(exclusive=True, busy=VaultBusy(
            "The vault is open in another Luna process (the app, or a script). Close it, "
            f"then {doing}; nothing was changed."))

    def _acquire(self, *, exclusive: bool, busy: VaultBusy,
                 patience: float = PATIENCE_SECONDS) -> None:
        """Take the lock, waiting up to `patience` seconds: an opening Luna holds it
        exclusively for a moment while it looks for leftovers (a restore holds it far
        longer, and is then reported as `busy`)."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory locks
            return
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0),
                         PRIVATE_FILE_MODE)
        except OSError as exc:
            raise os_error_to_luna(exc, self.path) from exc
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise busy from None
                time.sleep(RETRY_SECONDS)
            except OSError as exc:
                os.close(fd)
                raise os_error_to_luna(exc, self.path) from exc
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None
