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

A key rotation (services/key_rotation.py) swaps the same way, with `discard_old` in
the marker: the old files (under the old master key, with the old keys.db) are then
removed, as step 4, before the marker goes, so a kill during the removal redoes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from luna_tui.errors import VaultBusy, VaultCorrupt
from luna_tui.fault_points import pause_here
from luna_tui.home import VaultLayout, ensure_private_dir, os_error_to_luna
from luna_tui.store.vault_lock import VaultLock

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

    staging = staging_dir(layout)
    if staging.exists() and not (staging / READY).exists():
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(layout: VaultLayout, safety_dir: Path, *, discard_old: bool = False) -> None:
    """Commit the staged files (step 2), then move them in (step 3). The caller holds the
    vault's exclusive lock. `discard_old`: the replaced files are removed, not kept."""
    staging = staging_dir(layout)
    try:
        fsync_tree(staging)
        _write_marker(staging / READY, {"safety_dir": _relative(safety_dir, layout.home),
                                        "discard_old": discard_old})
    except OSError as exc:
        raise os_error_to_luna(exc, staging) from exc
    _roll_forward(layout)


def finish_interrupted_swap(layout: VaultLayout) -> bool:
    """Before anything looks at a vault folder: complete a swap a killed restore left
    half-done (True if there was one), under the vault's exclusive lock. While a restore
    is running in another process, say so rather than look at a half-swapped folder."""
    if not staging_dir(layout).exists():
        return False

    lock = VaultLock(layout.home)
    try:
        lock.acquire_exclusive()
    except VaultBusy:
        raise VaultBusy("A backup is being restored into this vault, or its keys rotated, by "
                        "another Luna process; try again when it is done.") from None
    try:
        return finish_swap_locked(layout)
    finally:
        lock.release()


def finish_swap_locked(layout: VaultLayout) -> bool:
    """`finish_interrupted_swap` for a caller that already holds the exclusive lock."""
    staging = staging_dir(layout)
    if not staging.exists():
        return False
    if not (staging / READY).exists():
        discard_staging(layout)  # never committed: the old vault stands
        return False
    _roll_forward(layout)
    return True


def _roll_forward(layout: VaultLayout) -> None:

    staging = staging_dir(layout)
    try:
        marker = json.loads((staging / READY).read_text(encoding="utf-8"))
        safety = layout.home / marker["safety_dir"]  # relative: the folder may have moved
        if not (staging / OLD_MOVED).exists():
            moved_any = False
            for name in VAULT_MEMBERS:
                old = layout.home / name
                if old.exists() or old.is_symlink():
                    ensure_private_dir(safety)
                    _move_without_overwriting(old, safety / name)
                    moved_any = True
            if moved_any:
                _fsync_dir(safety)
            _fsync_dir(layout.home)
            _write_marker(staging / OLD_MOVED, {})
        for name in VAULT_MEMBERS:
            new = staging / name
            if new.exists():
                _move_without_overwriting(new, layout.home / name)
                pause_here("restore.mid-swap")
        _fsync_dir(layout.home)
        if marker.get("discard_old"):
            pause_here("swap.before-discard")
            discard_old_files(safety)
        (staging / READY).unlink()
        shutil.rmtree(staging, ignore_errors=True)
        _fsync_dir(layout.home)
    except OSError as exc:
        raise os_error_to_luna(exc, layout.home) from exc


def discard_old_files(folder: Path) -> None:
    """Remove the files a rotation replaced. keys.db (the old master key, wrapped under
    the old passphrase) is overwritten with zeros first: on a plain disk that takes the
    wrap with it; an SSD or a copy-on-write file system may still keep the old blocks
    (README, Security)."""
    try:
        for name in ("keys.db", "keys.db-journal"):
            wrapped = folder / name
            if wrapped.is_file() and not wrapped.is_symlink():
                with open(wrapped, "r+b") as handle:
                    handle.write(bytes(wrapped.stat().st_size))
                    handle.flush()
                    os.fsync(handle.fileno())
        shutil.rmtree(folder, ignore_errors=True)
        if os.path.lexists(folder):
            shutil.rmtree(folder)  # what could not go: say why
    except OSError as exc:
        raise os_error_to_luna(exc, folder) from exc
    _fsync_dir(folder.parent)


def _move_without_overwriting(source: Path, target: Path) -> None:
    """A rename that never replaces: a file already there is someone's data (a vault
    made in the folder while a restore was half done), so stop and say so."""
    if target.exists() or target.is_symlink():
        raise VaultCorrupt(
            f"Finishing an interrupted restore would overwrite {target}; nothing more was "
            f"moved. The restored files are in {source.parent}; move them by hand.")
    os.replace(source, target)


def _relative(path: Path, home: Path) -> str:
    try:
        return str(path.relative_to(home))
    except ValueError:
        return str(path)  # outside the vault folder: kept as it is


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
