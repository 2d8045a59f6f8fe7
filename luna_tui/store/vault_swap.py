"""Replacing a vault's files with restored ones so that, even if the process is killed
half-way, the vault is afterwards wholly the old one or wholly the new one.

Many files cannot be renamed in one step, so the swap is a small redo log:

1. The new files are staged, whole and fsynced, in `LUNA_HOME/.restore-incoming/`.
2. A marker `READY` (written atomically) names the folder the old files go to.
   Before it exists, nothing in the vault has changed: a crash leaves the old vault,
   and the staging folder is thrown away next time.
3. Every old file (with its -wal and -shm) moves into that folder; then a second
   marker `OLD_MOVED` is written; then every staged file moves into the vault.

`finish_interrupted_swap` runs before any vault is opened: with `READY` present it
redoes steps 3 from wherever they stopped, so the new vault is completed; renames
within one file system are atomic, and each step can be repeated.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from luna_tui.fault_points import pause_here
from luna_tui.home import VaultLayout, ensure_private_dir, os_error_to_luna

STAGING_NAME = ".restore-incoming"
READY = "READY"
OLD_MOVED = "OLD_MOVED"

# Everything that makes up a vault, relative to LUNA_HOME. SQLite's -wal and -shm go
# with their database: a stale -wal beside a restored database would be replayed into it.
VAULT_MEMBERS = (
    "keys.db", "keys.db-journal",
    "luna.db", "luna.db-wal", "luna.db-shm",
    "stats.db", "stats.db-wal", "stats.db-shm",
    "audit", "attachments",
)


def staging_dir(layout: VaultLayout) -> Path:
    return layout.home / STAGING_NAME


def prepare_staging(layout: VaultLayout) -> Path:
    """An empty private staging folder (a leftover from a crash is discarded)."""
    staging = staging_dir(layout)
    discard_staging(layout)
    ensure_private_dir(staging)
    return staging


def discard_staging(layout: VaultLayout) -> None:
    import shutil  # deferred: every vault opening passes through here, rarely further

    staging = staging_dir(layout)
    if staging.exists() and not (staging / READY).exists():
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(layout: VaultLayout, safety_dir: Path) -> None:
    """Commit the staged files (step 2), then move them in (step 3)."""
    staging = staging_dir(layout)
    fsync_tree(staging)
    _write_marker(staging / READY, {"safety_dir": str(safety_dir)})
    _roll_forward(layout)


def finish_interrupted_swap(layout: VaultLayout) -> bool:
    """Complete a swap a killed process left half-done; True if there was one."""
    staging = staging_dir(layout)
    if not staging.exists():
        return False
    if not (staging / READY).exists():
        discard_staging(layout)  # never committed: the old vault stands
        return False
    _roll_forward(layout)
    return True


def _roll_forward(layout: VaultLayout) -> None:
    import shutil

    staging = staging_dir(layout)
    try:
        marker = json.loads((staging / READY).read_text(encoding="utf-8"))
        safety = Path(marker["safety_dir"])
        if not (staging / OLD_MOVED).exists():
            moved_any = False
            for name in VAULT_MEMBERS:
                old = layout.home / name
                if old.exists() or old.is_symlink():
                    ensure_private_dir(safety)
                    os.replace(old, safety / name)
                    moved_any = True
            if moved_any:
                _fsync_dir(safety)
            _fsync_dir(layout.home)
            _write_marker(staging / OLD_MOVED, {})
        for name in VAULT_MEMBERS:
            new = staging / name
            if new.exists():
                os.replace(new, layout.home / name)
                pause_here("restore.mid-swap")
        _fsync_dir(layout.home)
        (staging / READY).unlink()
        shutil.rmtree(staging, ignore_errors=True)
        _fsync_dir(layout.home)
    except OSError as exc:
        raise os_error_to_luna(exc, layout.home) from exc


def _write_marker(path: Path, content: dict[str, str]) -> None:
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(content, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    _fsync_dir(path.parent)


def fsync_tree(root: Path) -> None:
    """Every file and folder under `root` on the disk, so a rename can't outrun it."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fsync_file(Path(folder) / name)
        _fsync_dir(Path(folder))


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems can't fsync a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
