"""Scratch a Luna process writes beside its result — a backup's staging folder and its
`.part` file, a verify's extracted copy — and how a later Luna tells it was abandoned.

All such scratch has a name only Luna gives (SCRATCH_NAMES), and while any of it exists,
the process that made it holds a shared lock (`flock`) on the folder itself. A Luna that
finds such leftovers removes them only when it can take that lock exclusively: then no Luna
process is making scratch there, so what is left belongs to one that died. The lock is
on the folder, not on a lock file, so nothing is left in the person's folder. Never by age
alone: a slow backup of a big vault is not a dead one. (The scratch is encrypted copies
— keys.db among them — so it must not linger either.) Where there are no advisory locks
(Windows), leftovers stay until a person removes them.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

# The exact names Luna gives its scratch (services/backups/folder.py, store/backup_archive.py,
# services/backups/verify.py): a person's own `.luna-…` file or folder is never touched.
SCRATCH_NAMES = re.compile(
    r"\.luna-\d{8}-\d{6}(-\d+)?\.\d+-[0-9a-f]{8}\.staging"  # a backup's copies
    r"|\.luna-\d{8}-\d{6}(-\d+)?\.lunabak\.\d+-[0-9a-f]{8}\.part"  # its archive, half-written
    r"|\.luna-verify-\d+-.+"  # a verify's extracted copy
)
VAULT_MARK = ".lock"  # every vault folder that was ever opened has one


@contextlib.contextmanager
def making_scratch(folder: Path) -> Iterator[None]:
    """Hold while this process's scratch exists in `folder`. Where the lock can't be
    taken (a read-only folder: no scratch can go there either), nothing is held."""
    fd = _open_lock(folder)
    if fd is None:
        yield
        return
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while another Luna is tidying up
        yield
    finally:
        os.close(fd)  # drops the lock


def remove_abandoned(folder: Path) -> list[Path]:
    """Remove the `.luna-…` scratch of processes that died; returns what went."""
    from luna_tui.store.online_copy import remove_tree

    fd = _open_lock(folder)
    if fd is None:
        return []
    try:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another Luna is making scratch here right now
            return []
        removed = []
        for path in _scratch_in(folder):
            try:
                if path.is_dir() and not path.is_symlink():
                    remove_tree(path)
                else:
                    path.unlink()
            except OSError:
                continue
            removed.append(path)
        return removed
    finally:
        os.close(fd)


def _scratch_in(folder: Path) -> list[Path]:
    """Luna's scratch in `folder`; never a link, and never a folder that holds a vault
    (a vault folder someone named like scratch would still have its lock file)."""
    found = []
    for path in folder.glob(".luna-*"):
        if not SCRATCH_NAMES.fullmatch(path.name) or path.is_symlink():
            continue
        if path.is_dir() and (path / VAULT_MARK).exists():
            continue
        found.append(path)
    return found


def _open_lock(folder: Path) -> int | None:
    try:
        import fcntl  # noqa: F401 - only to know advisory locks exist here
    except ImportError:
        return None
    try:
        return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
