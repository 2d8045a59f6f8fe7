"""The `.lunabak` file: a plain tar of already-encrypted files and a manifest.

Members, in order: the vault's files (`keys.db`, `luna.db`, `stats.db`,
`audit/YYYY-MM.db`, `attachments/…`, `summary.sealed`), then `manifest.json` (format,
app version, created_at, vault id, schema, and each member's size and SHA-256), then
`manifest.mac` (HMAC-SHA256 of the manifest under the vault's backup sub-key). The
manifest goes last so every member is read once, hashed as it is written. See
`backups/FORMAT.md`.

Writing goes to a hidden temp name in the destination folder, is fsynced, renamed,
and the folder fsynced: a crash or a full disk never leaves a file under the final
name that is not whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from luna_tui.errors import BackupDamaged, BackupTooNew, LunaError
from luna_tui.fault_points import pause_here
from luna_tui.home import PRIVATE_FILE_MODE, ensure_private_dir, os_error_to_luna

FORMAT_VERSION = 1
SUFFIX = ".lunabak"
MANIFEST = "manifest.json"
MANIFEST_MAC = "manifest.mac"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
CHUNK = 1024 * 1024
# Every name a backup may hold: the vault's files, its months, attachments (a folder of
# two characters, then the file), the sealed summary and the manifest pair. Anything
# else — a second copy, a link, a path outside the vault — is a changed backup.
_MEMBER_NAMES = re.compile(
    r"(keys|luna|stats)\.db|summary\.sealed|audit/\d{4}-\d{2}\.db|attachments/[^/]{2}/[^/]+"
    r"|manifest\.(json|mac)")

Progress = Callable[[int], None]  # bytes done since the last call


@dataclass(frozen=True)
class Member:
    name: str  # a relative POSIX path inside the vault
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format: int
    app_version: str
    created_at: str
    vault_id: str
    schema: dict[str, list[str]]
    members: tuple[Member, ...]

    def to_bytes(self) -> bytes:
        return json.dumps({
            "format": self.format, "app_version": self.app_version,
            "created_at": self.created_at, "vault_id": self.vault_id, "schema": self.schema,
            "members": [{"name": m.name, "size": m.size, "sha256": m.sha256}
                        for m in self.members],
        }, indent=1, sort_keys=True).encode("utf-8")

    @property
    def total_size(self) -> int:
        return sum(m.size for m in self.members)

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)


def parse_manifest(data: bytes, where: str) -> Manifest:
    try:
        raw = json.loads(data.decode("utf-8"))
        version = int(raw["format"])
        if version > FORMAT_VERSION:
            raise BackupTooNew(
                f"{where} was made by a newer Luna (backup format {version}; this Luna "
                f"reads format {FORMAT_VERSION}). Upgrade Luna to restore it.")
        members = tuple(Member(check_member_name(str(m["name"])), int(m["size"]),
                               str(m["sha256"])) for m in raw["members"])
        _refuse_repeats([m.name for m in members], f"{where}'s manifest")
        return Manifest(version, str(raw["app_version"]), str(raw["created_at"]),
                        str(raw["vault_id"]),
                        {str(k): [str(n) for n in v] for k, v in raw["schema"].items()},
                        members)
    except LunaError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupDamaged(f"{where} has a damaged manifest ({exc}).") from None


def check_member_name(name: str) -> str:
    """Refuse names that would land outside the folder they are extracted to, and names
    no Luna backup holds."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name != str(path):
        raise BackupDamaged(f"The backup names a file '{name}' outside the vault; refused.")
    if not _MEMBER_NAMES.fullmatch(name):
        raise BackupDamaged(f"The backup holds '{name}', which is not a file a Luna backup "
                            "holds: it was changed.")
    return name


def _refuse_repeats(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BackupDamaged(f"{where} holds '{name}' twice: the backup was changed or "
                                "damaged.")
        seen.add(name)


def _check_members(tar: tarfile.TarFile, where: str) -> list[tarfile.TarInfo]:
    """Every member's header, read before any content: each a plain file, under a name a
    backup holds, once. (tarfile would extract a link, or a second `keys.db` over the
    first; neither can happen to a backup Luna wrote.)"""
    members = tar.getmembers()
    for info in members:
        check_member_name(info.name)
        if not info.isreg():
            raise BackupDamaged(f"{where} holds '{info.name}' as a link or a folder, not a "
                                "plain file: it was changed.")
    _refuse_repeats([info.name for info in members], where)
    return members


# -- writing ---------------------------------------------------------------------------------

def write_archive(target: Path, files: list[tuple[str, Path]],
                  manifest_for: Callable[[tuple[Member, ...]], Manifest],
                  mac_for: Callable[[bytes], bytes], progress: Progress | None = None
                  ) -> tuple[Manifest, Path]:
    """Write `files` (name in the archive, file on disk) and their manifest to `target`,
    or beside it (`…-2.lunabak`) if another backup took that name meanwhile; returns the
    manifest and where the backup is."""
    ensure_private_dir(target.parent)
    # Unique, so a leftover of a killed backup (cleared later) never stands in the way.
    temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0),
                     PRIVATE_FILE_MODE)
    except OSError as exc:
        raise os_error_to_luna(exc, temp) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT,
                              copybufsize=CHUNK) as tar:
                members = tuple(_add_file(tar, name, path, progress) for name, path in files)
                manifest = manifest_for(members)
                data = manifest.to_bytes()
                _add_bytes(tar, MANIFEST, data)
                _add_bytes(tar, MANIFEST_MAC, mac_for(data).hex().encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        pause_here("backup.before-rename")
        target = _link_into_place(temp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise os_error_to_luna(exc, target) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return manifest, target


def _link_into_place(temp: Path, target: Path) -> Path:
    """Give the whole file its final name without ever replacing another backup: a hard
    link fails if the name exists (two backups in one second). Where links aren't
    supported, a rename to a name checked free."""
    candidate, number = target, 2
    while True:
        try:
            os.link(temp, candidate)
        except FileExistsError:
            candidate = target.with_name(target.name.replace(SUFFIX, f"-{number}{SUFFIX}"))
            number += 1
            continue
        except OSError:
            while candidate.exists():
                candidate = target.with_name(target.name.replace(SUFFIX, f"-{number}{SUFFIX}"))
                number += 1
            os.replace(temp, candidate)
            return candidate
        temp.unlink()
        return candidate


def _add_file(tar: tarfile.TarFile, name: str, path: Path, progress: Progress | None) -> Member:
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        reader = _HashingReader(source, digest, progress)
        tar.addfile(_info(name, size), reader)
    if reader.read_bytes != size:
        raise LunaError(f"{name} changed size while it was being backed up; try again.")
    return Member(name, size, digest.hexdigest())


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:

    tar.addfile(_info(name, len(data)), io.BytesIO(data))


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = PRIVATE_FILE_MODE
    info.mtime = 0  # the manifest has the time; per-file times would say nothing useful
    return info


class _HashingReader:
    def __init__(self, source, digest, progress: Progress | None) -> None:  # noqa: ANN001
        self.source = source
        self.digest = digest
        self.progress = progress
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        self.read_bytes += len(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- reading ---------------------------------------------------------------------------------

def read_manifest(path: Path) -> tuple[Manifest, bytes, bytes]:
    """The manifest, its bytes and its MAC, without reading the members' contents."""
    where = path.name
    with _open_tar(path) as tar:
        try:
            _check_members(tar, where)
            data = _read_small(tar, MANIFEST, where)
            mac = _read_small(tar, MANIFEST_MAC, where)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise _damaged(where, exc) from None
    return parse_manifest(data, where), data, mac


def extract(path: Path, destination: Path, manifest: Manifest,
            progress: Progress | None = None, *, hash_later_over: int | None = None
            ) -> list[tuple[Member, Path]]:
    """Copy every member into `destination`, checking each against the manifest.

    Members larger than `hash_later_over` bytes are copied without hashing and returned,
    for `check_extracted` to hash while the caller does other work (on two cores, hashing
    a large luna.db and checking its integrity then take the time of the longer one).
    """
    where = path.name
    deferred: list[tuple[Member, Path]] = []
    with _open_tar(path) as tar:
        try:
            planned = _planned(_check_members(tar, where), manifest, where)
            for info, expected in planned:  # every header checked before a byte is written
                later = hash_later_over is not None and info.size > hash_later_over
                target = destination / info.name
                _extract_one(tar, info, target, expected, where, progress, hash_now=not later)
                if later:
                    deferred.append((expected, target))
        except (tarfile.TarError, OSError, EOFError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise os_error_to_luna(exc, destination) from exc
            raise _damaged(where, exc) from None
    return deferred


def _planned(members: list[tarfile.TarInfo], manifest: Manifest, where: str
             ) -> list[tuple[tarfile.TarInfo, Member]]:
    """Each member with the manifest's entry for it: the archive and its manifest must
    list the same files."""
    planned = []
    for info in members:
        if info.name in (MANIFEST, MANIFEST_MAC):
            continue
        expected = manifest.member(info.name)
        if expected is None:
            raise BackupDamaged(f"{where} holds '{info.name}', which its manifest does not "
                                "list: it was changed.")
        planned.append((info, expected))
    present = {info.name for info, _ in planned}
    missing = [m.name for m in manifest.members if m.name not in present]
    if missing:
        raise BackupDamaged(f"{where} is missing {', '.join(missing[:3])}: it is incomplete.")
    return planned


def check_extracted(deferred: list[tuple[Member, Path]], where: str) -> None:
    """Hash members `extract` left for later; a mismatch is a damaged backup."""
    for member, path in deferred:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while data := handle.read(CHUNK):
                digest.update(data)
        if digest.hexdigest() != member.sha256:
            raise _mismatch(member.name, where)


def _mismatch(name: str, where: str) -> BackupDamaged:
    return BackupDamaged(f"{name} in {where} does not match its checksum: "
                         "the backup is damaged (a changed or flipped byte).")


def _extract_one(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path, expected: Member,
                 where: str, progress: Progress | None, *, hash_now: bool = True) -> None:
    if info.size != expected.size:
        raise BackupDamaged(f"{expected.name} in {where} is {info.size} bytes, but the "
                            f"manifest says {expected.size}: the backup was changed.")
    ensure_private_dir(target.parent)
    source = tar.extractfile(info)
    if source is None:
        raise BackupDamaged(f"{expected.name} in {where} can't be read.")
    digest = hashlib.sha256()
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0),
                 PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        remaining = info.size
        while remaining:
            data = source.read(min(CHUNK, remaining))
            if not data:
                raise BackupDamaged(f"{where} is truncated: it ends inside {expected.name}.")
            if hash_now:
                digest.update(data)
            out.write(data)
            remaining -= len(data)
            if progress is not None:
                progress(len(data))
    if hash_now and digest.hexdigest() != expected.sha256:
        raise _mismatch(expected.name, where)


@contextlib.contextmanager
def _open_tar(path: Path):  # noqa: ANN202 - a context manager of a TarFile
    if not path.exists():
        raise LunaError(f"There is no backup at {path}.")
    try:
        tar = tarfile.open(path, mode="r:")
    except (tarfile.TarError, OSError, EOFError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise os_error_to_luna(exc, path) from exc
        raise _damaged(path.name, exc) from None
    try:
        yield tar
    finally:
        tar.close()


def _read_small(tar: tarfile.TarFile, name: str, where: str) -> bytes:
    try:
        info = tar.getmember(name)
    except KeyError:
        raise BackupDamaged(
            f"{where} has no {name}: it is truncated or not a Luna backup.") from None
    if info.size > MAX_MANIFEST_BYTES:
        raise BackupDamaged(f"{where} has an implausibly large {name}; refused.")
    handle = tar.extractfile(info)
    data = handle.read() if handle is not None else b""
    if len(data) != info.size:
        raise BackupDamaged(f"{where} is truncated: it ends inside {name}.")
    return data


def _damaged(where: str, exc: BaseException) -> BackupDamaged:
    return BackupDamaged(f"{where} is not a whole Luna backup: it is truncated or damaged "
                         f"({exc or type(exc).__name__}).")
