"""Making, listing and pruning backups of the open vault.

A backup is one `luna-YYYYMMDD-HHMMSS.lunabak` file (local time in the name, UTC in its
manifest) in `LUNA_HOME/backups/` or a folder the person chooses. The copies are made
on the DB thread (they use the vault's connection); the archive is written on the
caller's thread, so the app keeps answering queries meanwhile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tarfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from luna_tui import __version__
from luna_tui.clock import utc_timestamp
from luna_tui.errors import (
    BackupDamaged,
    BackupTooNew,
    DiskFull,
    LunaError,
    VaultBusy,
    VaultCorrupt,
)
from luna_tui.home import (
    create_private_file,
    disk_full,
    ensure_private_dir,
    no_room_to_write,
    os_error_to_luna,
)
from luna_tui.services.export_files import private_output
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store import backup_archive, migrate, scratch_space
from luna_tui.store.backup_archive import SUFFIX, Manifest, Member
from luna_tui.store.models.base import database
from luna_tui.store.online_copy import copy_vault, remove_tree
from luna_tui.vault.aead import InvalidSeal, open_sealed, seal

SUMMARY = "summary.sealed"

# How far along, 0..1, and what is happening, for a progress bar.
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    created_at: str  # from the manifest, UTC
    manifest_sha256: str
    same_vault: bool
    counts: dict[str, int] | None  # None when it can't be opened with this vault's key
    verified: Verification | None
    problem: str | None = None  # set when the file is not a readable backup

    @property
    def entries(self) -> int | None:
        return None if self.counts is None else self.counts.get("entries")


@dataclass(frozen=True)
class Verification:
    verified_at: str
    ok: bool
    detail: str


def backup_name(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("luna-%Y%m%d-%H%M%S") + SUFFIX


def summary_aad(vault_id: str) -> bytes:
    return b"luna/backup-summary\0" + vault_id.encode("ascii")


def manifest_mac(backup_key: bytes, manifest_bytes: bytes) -> bytes:
    return hmac.new(backup_key, b"luna/backup-manifest\0" + manifest_bytes,
                    hashlib.sha256).digest()


class Backups:
    def __init__(self, session: VaultSession) -> None:
        self.session = session

    # -- where ---------------------------------------------------------------------------

    def folder(self, chosen: str | os.PathLike[str] | None = None) -> Path:
        if chosen:
            return Path(chosen).expanduser().absolute()

        configured = Settings(self.session).get("backup.folder")
        if configured:
            return Path(configured).expanduser().absolute()
        return self.session.layout.backups_dir

    # -- create --------------------------------------------------------------------------

    def create(self, folder: str | os.PathLike[str] | None = None,
               progress: Progress | None = None, *, automatic: bool = False) -> BackupInfo:
        """Copy the vault as of now into one new backup file; returns what was written."""

        destination = self.folder(folder)
        ensure_private_dir(destination)
        scratch_space.remove_abandoned(destination)
        target = _free_name(destination, backup_name(self.session.clock.now()))
        staging = destination / f".{target.stem}.{os.getpid()}-{secrets.token_hex(4)}.staging"
        self.session.run(self._audit, "backup.create", target, automatic=automatic)
        report = _Reporter(progress)
        with scratch_space.making_scratch(destination):
            manifest, target, counts = self._write(target, staging, report)
        report(1.0, "Backup saved.")
        data = manifest.to_bytes()
        return BackupInfo(target, target.stat().st_size, manifest.created_at,
                          hashlib.sha256(data).hexdigest(), True, counts, None)

    def _write(self, target: Path, staging: Path, report: _Reporter
               ) -> tuple[Manifest, Path, dict[str, int]]:
        """Copy the databases into `staging`, then write the archive (scratch: see
        store/scratch_space.py)."""

        try:
            report(0.0, "Copying the databases…")
            copied = self.session.run(self._copy, staging, report)
            summary = staging / SUMMARY
            self._write_summary(summary, copied.counts)
            files = [*copied.files, (SUMMARY, summary)]
            total = _total_size(files)
            written = 0

            def wrote(count: int) -> None:
                nonlocal written
                written += count
                report(0.5 + 0.5 * written / total, f"Writing {target.name}…")

            manifest, target = backup_archive.write_archive(
                target, files, self._manifest_for, self._mac, wrote)
            return manifest, target, copied.counts
        except BaseException as error:
            full = _full_destination(staging.parent, error)
            if not isinstance(error, KeyboardInterrupt):
                self._audit_failure(target, full or error)
            if full is not None:
                raise full from error
            raise
        finally:
            remove_tree(staging)

    def _audit(self, event: str, target: Path, **detail: object) -> None:
        with self.session.transaction() as tx:  # a read-only key may back up; it's recorded
            tx.record(event, record_locator=target.name,
                      diff={"folder": str(target.parent), **detail})

    def _audit_failure(self, target: Path, error: BaseException) -> None:
        reason = str(error) if isinstance(error, LunaError) else type(error).__name__
        try:
            self.session.run(self._audit, "backup.failed", target, reason=reason)
        except LunaError:
            pass  # the failure itself is what the person must hear about

    def _copy(self, staging: Path, report: Callable[[float, str], None]):  # noqa: ANN202

        chain = self.session.audit_chain
        chain.ensure_month_attached()

        def copying(name: str, done: float) -> None:
            report(0.5 * done if name == "luna.db" else 0.5, f"Copying {name}…")

        return copy_vault(database, self.session.layout, self.session.keys,
                          chain.attached_month, staging, copying)

    def _write_summary(self, path: Path, counts: dict[str, int]) -> None:

        sealed = seal(self.session.keys.backup, json.dumps(counts).encode("utf-8"),
                      summary_aad(self.session.key.vault_id))
        create_private_file(path)
        path.write_bytes(sealed)

    def _manifest_for(self, members: tuple[Member, ...]) -> Manifest:

        return Manifest(backup_archive.FORMAT_VERSION, __version__,
                        utc_timestamp(self.session.clock.now()), self.session.key.vault_id,
                        self.session.run(_schema_versions), members)

    def _mac(self, manifest_bytes: bytes) -> bytes:
        return manifest_mac(self.session.keys.backup, manifest_bytes)

    # -- list ----------------------------------------------------------------------------

    def list(self, folder: str | os.PathLike[str] | None = None) -> list[BackupInfo]:
        """Every backup in the folder, newest first, with what this vault's key can tell."""
        destination = self.folder(folder)
        if not destination.is_dir():
            return []
        found = [self.describe(path) for path in destination.glob(f"*{SUFFIX}")
                 if path.is_file() and not path.name.startswith(".")]
        return sorted(found, key=lambda info: (info.created_at, info.path.name), reverse=True)

    def describe(self, path: Path) -> BackupInfo:

        size = path.stat().st_size
        try:
            manifest, data, mac = backup_archive.read_manifest(path)
        except (BackupDamaged, BackupTooNew) as exc:
            return BackupInfo(path, size, "", "", False, None, None, problem=str(exc))
        digest = hashlib.sha256(data).hexdigest()
        same = manifest.vault_id == self.session.key.vault_id
        counts = None
        if same and hmac.compare_digest(_hex(mac), self._mac(data)):
            try:
                with _member_reader(path, SUMMARY) as sealed:
                    counts = json.loads(open_sealed(self.session.keys.backup, sealed,
                                                    summary_aad(manifest.vault_id)))
            except (InvalidSeal, LunaError, ValueError):
                counts = None
        verification = read_verification(path, digest, self.session.keys.backup) if same else None
        return BackupInfo(path, size, manifest.created_at, digest, same, counts, verification)

    # -- prune ---------------------------------------------------------------------------

    def prunable(self, keep: int, folder: str | os.PathLike[str] | None = None
                 ) -> list[BackupInfo]:
        """The backups `prune` would delete, newest first: all of this vault's but the
        newest `keep`; others' are left alone."""
        if keep < 1:
            raise LunaError("Keep at least one backup (--keep 1 or more).")
        mine = [info for info in self.list(folder) if info.same_vault]  # newest first
        trusted = [info for info in mine if _trusted(info)]
        if len(trusted) <= keep:
            return []  # never prune down to fewer good backups than asked for
        oldest_kept = trusted[keep - 1]
        # Older than the oldest good one kept; a newer damaged one stays for a look.
        return mine[mine.index(oldest_kept) + 1:]

    def prune(self, keep: int, folder: str | os.PathLike[str] | None = None, *,
              only: Collection[Path] | None = None) -> list[Path]:
        """Delete all but the newest `keep` backups of this vault; others' are left alone.
        `only`: the backups the person was shown (`prunable`): none other is deleted, even
        if the folder changed since."""
        older = self.prunable(keep, folder)
        if only is not None:
            shown = set(only)
            older = [info for info in older if info.path in shown]
        removed = []
        for info in older:
            try:
                info.path.unlink()
                verification_path(info.path).unlink(missing_ok=True)
            except OSError as exc:
                raise os_error_to_luna(exc, info.path) from exc
            removed.append(info.path)
        if removed:
            self.session.run(self._audit, "backup.prune", removed[0].parent / "*",
                             removed=[p.name for p in removed], kept=keep)
        return removed


def _trusted(info: BackupInfo) -> bool:
    """Readable with this vault's key, and not known to have failed a verification."""
    return info.counts is not None and (info.verified is None or info.verified.ok)


class _Reporter:
    """Passes progress on, never backwards."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0.0

    def __call__(self, done: float, label: str) -> None:
        if self.progress is None:
            return
        self.done = max(self.done, min(1.0, done))
        self.progress(self.done, label)


def _full_destination(folder: Path, error: BaseException) -> DiskFull | None:
    """A backup folder on another disk that fills up: SQLite's error is read against the
    vault's folder, which has room, so it would say "full" of the wrong disk or, for a
    "disk I/O error", call the vault damaged. Asked again of the folder written to."""
    if isinstance(error, DiskFull | VaultCorrupt) and no_room_to_write(folder):
        return disk_full(folder)
    return None


def _total_size(files: list[tuple[str, Path]]) -> int:
    try:
        return sum(path.stat().st_size for _name, path in files) or 1
    except FileNotFoundError:
        raise VaultBusy("A file of the vault (an attachment) went away while the backup was "
                        "taken; nothing was saved. Try again.") from None


def _schema_versions() -> dict[str, list[str]]:

    return {name: migrate.applied_migrations(database, name)
            for name in (migrate.MAIN, migrate.STATS, migrate.AUDIT)}


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    number = 2
    while target.exists():
        target = folder / name.replace(SUFFIX, f"-{number}{SUFFIX}")
        number += 1
    return target


def _hex(mac: bytes) -> bytes:
    try:
        return bytes.fromhex(mac.decode("ascii"))
    except ValueError:
        return b""


class _member_reader:  # noqa: N801 - used as a context manager, reads like one
    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name

    def __enter__(self) -> bytes:

        try:
            with tarfile.open(self.path, mode="r:") as tar:
                handle = tar.extractfile(self.name)
                return handle.read() if handle is not None else b""
        except (tarfile.TarError, KeyError, OSError) as exc:
            raise BackupDamaged(f"{self.path.name}: {self.name} can't be read ({exc}).") from None

    def __exit__(self, *exc_info: object) -> None:
        return None


# -- the record of a verification ----------------------------------------------------------

def verification_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".verified")


def record_verification(backup: Path, manifest_sha256: str, backup_key: bytes,
                        verified_at: str, ok: bool, detail: str) -> None:
    """A small note beside the backup, signed with the vault's backup key, so `list` can
    say "verified" without reading the whole file again — and nobody can fake it."""
    body = {"manifest_sha256": manifest_sha256, "verified_at": verified_at, "ok": ok,
            "detail": detail}
    encoded = json.dumps(body, sort_keys=True).encode("utf-8")
    body["mac"] = hmac.new(backup_key, b"luna/backup-verified\0" + encoded,
                           hashlib.sha256).hexdigest()

    try:
        with private_output(verification_path(backup)) as handle:
            json.dump(body, handle)
    except LunaError:
        pass  # a read-only folder: the verification stands, only the note is missing


def read_verification(backup: Path, manifest_sha256: str, backup_key: bytes
                      ) -> Verification | None:
    try:
        body = json.loads(verification_path(backup).read_text(encoding="utf-8"))
        mac = body.pop("mac")
        encoded = json.dumps(body, sort_keys=True).encode("utf-8")
        expected = hmac.new(backup_key, b"luna/backup-verified\0" + encoded,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, expected) or body["manifest_sha256"] != manifest_sha256:
            return None
        return Verification(str(body["verified_at"]), bool(body["ok"]), str(body["detail"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
