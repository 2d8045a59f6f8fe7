"""Writing a plaintext file out of the vault (an export, a calendar) without leaking it.

Exports are plaintext by design, so the one thing Luna controls is who can read the
file and that it is never seen half-written: it goes to a 0600 temp file beside the
target and is renamed into place only when whole.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from luna_tui.errors import LunaError
from luna_tui.home import os_error_to_luna


@contextlib.contextmanager
def private_output(path: str | os.PathLike[str], *, binary: bool = False
                   ) -> Iterator[IO[Any]]:
    """Open `path` for writing, readable only by its owner, replaced atomically.

    The temp file is always made new (O_EXCL, O_NOFOLLOW): a leftover file with a
    looser mode, or a symlink planted under its name, never receives the plaintext.
    A leftover from a crashed export is removed first. If the writing fails, the
    temp file is removed and the target is left as it was.
    """
    target = Path(path).expanduser()
    temp = target.with_name(f".{target.name}.luna-tmp")
    handle = _create_private(temp, target, binary)
    try:
        yield handle
    except BaseException:
        _discard(handle, temp)
        raise
    _commit(handle, temp, target)


def _create_private(temp: Path, target: Path, binary: bool) -> IO[Any]:
    """The temp file; a failure names `target`, the file the person asked for (the
    temp file's name is Luna's own business)."""

    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        temp.unlink(missing_ok=True)
        fd = os.open(temp, flags, 0o600)
        os.fchmod(fd, 0o600)  # whatever the umask said
    except OSError as exc:
        if exc.errno == errno.ENOENT and not target.parent.is_dir():
            raise LunaError(f"There is no folder {target.parent}; choose one that exists, "
                            "then save again.") from exc
        raise os_error_to_luna(exc, target) from exc
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8")


def _commit(handle: IO[Any], temp: Path, target: Path) -> None:
    """Flush to the disk, then rename: the target is either the old file or the whole
    new one, even after a crash."""

    try:
        try:
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            handle.close()
        os.replace(temp, target)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise os_error_to_luna(error, target) from error


def _discard(handle: IO[Any], temp: Path) -> None:
    with contextlib.suppress(OSError):  # the error that brought us here matters more
        handle.close()
    temp.unlink(missing_ok=True)
