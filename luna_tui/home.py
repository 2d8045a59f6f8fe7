"""Where a vault lives on disk, and how its files are made private.

`LUNA_HOME` comes from `--home`, else the `LUNA_HOME` environment variable, else the
platform's user data folder. Every folder Luna makes is 0700 and every file 0600,
whatever the umask: files are created with that mode and chmod-ed again, because an
inherited umask or an existing file may say otherwise.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from luna_tui.errors import DiskFull, LunaError, ReadOnlyLocation, VaultCorrupt, VaultMissing
from luna_tui.human_size import human_size

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get("LUNA_HOME")
    if from_env:
        return Path(from_env).expanduser().absolute()
    import platformdirs  # deferred: only the path is needed, and only here

    return Path(platformdirs.user_data_dir("luna", appauthor=False))


@dataclass(frozen=True)
class VaultLayout:
    """The names of everything in one vault folder."""

    home: Path

    @property
    def keys_db(self) -> Path:
        return self.home / "keys.db"

    @property
    def main_db(self) -> Path:
        return self.home / "luna.db"

    @property
    def stats_db(self) -> Path:
        return self.home / "stats.db"

    @property
    def audit_dir(self) -> Path:
        return self.home / "audit"

    def audit_db(self, month: str) -> Path:
        return self.audit_dir / f"{month}.db"

    def audit_months(self) -> list[str]:
        """Months with an audit file, oldest first (`2026-11`)."""
        if not self.audit_dir.is_dir():
            return []
        return sorted(p.stem for p in self.audit_dir.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9].db"))

    @property
    def attachments_dir(self) -> Path:
        return self.home / "attachments"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def crisis_card(self) -> Path:
        """The crisis card a person may keep: plain JSON, NOT encrypted, on purpose
        (services/safety/crisis_card.py)."""
        return self.home / "crisis-card.json"

    def exists(self) -> bool:
        """A vault exists once its keys.db does: it is written last at creation."""
        return self.keys_db.exists()

    def require_vault(self) -> None:
        """Raise the right sentence when there is no vault here to open."""
        if self.exists():
            return
        leftovers = [p.name for p in (self.main_db, self.stats_db) if p.exists()]
        if leftovers:
            raise VaultCorrupt(
                f"{self.home} holds vault files ({', '.join(leftovers)}) but no keys.db, so "
                "it cannot be opened. Restore keys.db from a backup."
            )
        raise VaultMissing(f"There is no Luna vault at {self.home}. Create one with `luna init`.")


def ensure_private_dir(path: Path) -> None:
    """Make `path` (and missing parents) and leave `path` itself 0700."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, PRIVATE_DIR_MODE)
    except OSError as exc:
        raise os_error_to_luna(exc, path) from exc


def create_private_file(path: Path) -> None:
    """Create an empty 0600 file, so SQLite (which copies the database file's mode to
    its -wal and -shm files) never makes a world-readable one."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
        os.close(fd)
        os.chmod(path, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise  # the caller decides: a race to make the same file is not an error for all
    except OSError as exc:
        raise os_error_to_luna(exc, path) from exc


def make_private(path: Path) -> None:
    mode = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise os_error_to_luna(exc, path) from exc


# Below this much free space, SQLite's "disk I/O error" means the disk filled up
# (a WAL or its index could not grow), not that a file is damaged.
NEARLY_FULL_BYTES = 4 * 1024 * 1024


def free_bytes(path: Path) -> int | None:
    """Free space for this user on the disk holding `path` (or its nearest parent)."""
    for place in (path, *path.parents):
        try:
            info = os.statvfs(place)
        except (OSError, AttributeError):  # missing, or no statvfs (Windows)
            continue
        return info.f_bavail * info.f_frsize
    return None


def disk_nearly_full(path: Path) -> bool:
    free = free_bytes(path)
    return free is not None and free < NEARLY_FULL_BYTES


def no_room_to_write(path: Path) -> bool:
    """Whether writing in `path` fails for want of room: a disk (nearly) full, or this
    user's quota used up. SQLite says "disk I/O error" for a quota (it knows only ENOSPC
    as full), and statvfs doesn't show a quota, so a write is the one way to tell: up to
    NEARLY_FULL_BYTES of zeros into an unnamed file that is gone when closed. Only ever
    asked after an error, so its few milliseconds are never on a path that works."""
    if disk_nearly_full(path):
        return True
    folder = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if folder is None:
        return False
    import tempfile

    chunk = bytes(64 * 1024)
    try:
        with tempfile.TemporaryFile(dir=folder) as probe:
            for _ in range(NEARLY_FULL_BYTES // len(chunk)):
                os.write(probe.fileno(), chunk)
            os.fsync(probe.fileno())  # a network disk may say so only here
    except OSError as exc:
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return False


def disk_full(path: Path) -> DiskFull:
    """The sentence for a full disk, saying which disk and how much is left."""
    free = free_bytes(path)
    if free == 0:
        where = f"no room is left on the disk holding {path}"
    elif free is not None and free < NEARLY_FULL_BYTES:
        where = f"only {human_size(free)} is left on the disk holding {path}"
    else:  # a quota, or a disk that filled and emptied again since
        where = f"there was no room to write in {path} (or your quota there is used up)"
    return DiskFull(f"The disk is full: {where}, so Luna stopped and nothing was saved or "
                    "changed. Free some space and try again; your vault is unharmed.")


def os_error_to_luna(exc: OSError, path: Path) -> LunaError:
    """One sentence for the file-system errors a person can do something about."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(path.parent if path.suffix else path)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return ReadOnlyLocation(
            f"Luna can't write to {path.parent if path.suffix else path}: "
            "the folder is read-only or not yours."
        )
    return LunaError(f"Luna could not use {path}: {exc.strerror or exc}.")
