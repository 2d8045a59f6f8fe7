"""The sync folder's layout: one subfolder per device, written only by that device.

    FOLDER/<device id>/0000000001.change    immutable change files, in sequence
    FOLDER/<device id>/blobs/<attachment id> attachment files (already encrypted)
    FOLDER/<device id>/state.sealed          what this device has applied, and when
    FOLDER/<device id>/snapshot-<seq>.lunabak  the vault as of change file <seq>

No file has two writers, so a syncer never sees a conflict. Every file is written under
a `.tmp-` name in the same subfolder, fsynced and renamed, so a syncer never carries
half a file; the README gives the `.stignore` line that keeps Syncthing from copying
the temp names at all.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from luna_tui.home import PRIVATE_FILE_MODE, ensure_private_dir, os_error_to_luna

TEMP_PREFIX = ".tmp-"
CHANGE_SUFFIX = ".change"
STATE = "state.sealed"
BLOBS = "blobs"
SNAPSHOT = re.compile(r"snapshot-(\d{10})\.lunabak")
_CHANGE = re.compile(r"(\d{10})\.change")
_DEVICE = re.compile(r"[0-9a-f]{16}")


def new_device_id() -> str:
    return secrets.token_hex(8)


class SyncFolder:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def device_dir(self, device_id: str) -> Path:
        return self.path / device_id

    def devices(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir()
                      if p.is_dir() and _DEVICE.fullmatch(p.name))

    def change_path(self, device_id: str, seq: int) -> Path:
        return self.device_dir(device_id) / f"{seq:010d}{CHANGE_SUFFIX}"

    def change_seqs(self, device_id: str) -> list[int]:
        folder = self.device_dir(device_id)
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir()
                      if (m := _CHANGE.fullmatch(p.name)))

    def blob_path(self, device_id: str, attachment_id: str) -> Path:
        return self.device_dir(device_id) / BLOBS / attachment_id

    def find_blob(self, attachment_id: str) -> Path | None:
        for device_id in self.devices():
            candidate = self.blob_path(device_id, attachment_id)
            if candidate.is_file():
                return candidate
        return None

    def state_path(self, device_id: str) -> Path:
        return self.device_dir(device_id) / STATE

    def snapshot_path(self, device_id: str, seq: int) -> Path:
        return self.device_dir(device_id) / f"snapshot-{seq:010d}.lunabak"

    def snapshots(self, device_id: str) -> list[tuple[int, Path]]:
        folder = self.device_dir(device_id)
        if not folder.is_dir():
            return []
        return sorted((int(m.group(1)), p) for p in folder.iterdir()
                      if (m := SNAPSHOT.fullmatch(p.name)))


def write_atomically(target: Path, data: bytes) -> None:
    """Temp name beside the target, fsync, rename, fsync the folder."""
    ensure_private_dir(target.parent)
    temp = target.parent / f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(4)}"
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
        fsync_dir(target.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise os_error_to_luna(exc, target) from exc


def copy_atomically(source: Path, target: Path) -> None:
    write_atomically(target, source.read_bytes())


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temp_files(device_dir: Path) -> None:
    """What a write killed half-way left (only ever in this device's own subfolder)."""
    if device_dir.is_dir():
        for leftover in device_dir.glob(f"{TEMP_PREFIX}*"):
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
