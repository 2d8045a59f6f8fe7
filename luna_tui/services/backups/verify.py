"""Is this backup whole, and does it open? `luna backup verify`, and the first step of a
restore.

It needs no open vault, only the passphrase (or recovery key) the backup opens with:
the point is to prove the file can bring the vault back. The checks, in order: the
archive and its manifest, every member's size and SHA-256, the passphrase against the
backup's own keys.db, the manifest's MAC (so a re-checksummed, edited backup is caught),
SQLite's integrity_check on every database, and the audit chain through every month.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from luna_tui.clock import Clock, SystemClock, utc_timestamp
from luna_tui.errors import BackupDamaged, BackupTooNew, WrongPassphrase
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.store import backup_archive, scratch_space
from luna_tui.store.backup_archive import Manifest, Member
from luna_tui.vault.key_manager import UnlockedKey

Progress = Callable[[float, str], None]

HASH_LATER_OVER = 8 * 1024 * 1024  # bigger members are hashed beside the integrity checks
CHECK_CACHE_KIB = 64 * 1024


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class VerifyReport:
    path: Path
    manifest: Manifest
    manifest_sha256: str
    checks: list[Check] = field(default_factory=list)
    counts: dict[str, int] | None = None
    unlocked: UnlockedKey | None = None  # kept for a restore; never shown

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def first_problem(self) -> str | None:
        return next((f"{c.name}: {c.detail}" for c in self.checks if not c.ok), None)


def verify_backup(path: Path, secret: str, *, clock: Clock | None = None,
                  progress: Progress | None = None, extract_to: Path | None = None,
                  record: bool = True) -> VerifyReport:
    """Check `path` end to end. The members are extracted into `extract_to` (kept, for a
    restore) or a private temp folder beside the backup (removed)."""
    import hashlib

    clock = clock or SystemClock()
    report_progress = progress or (lambda _done, _label: None)
    path = Path(path).expanduser().absolute()
    manifest, data, mac = backup_archive.read_manifest(path)
    report = VerifyReport(path, manifest, hashlib.sha256(data).hexdigest())
    with contextlib.ExitStack() as scratch:
        if extract_to is None:
            scratch_space.remove_abandoned(path.parent)  # what a killed verify left
            scratch.enter_context(scratch_space.making_scratch(path.parent))
        _check_into(report, extract_to, secret, clock, data, mac, report_progress, record)
    if record and report.unlocked is not None:
        _record(report, clock)
    return report


def _check_into(report: VerifyReport, extract_to: Path | None, secret: str, clock: Clock,
                data: bytes, mac: bytes, report_progress: Progress, record: bool) -> None:
    from luna_tui.store.online_copy import remove_tree

    path, manifest = report.path, report.manifest
    folder = extract_to or _scratch_folder(path)
    try:
        deferred = _extract(path, folder, manifest, report_progress)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="luna-hash") as pool:
            # The big files are hashed on the other core while their databases are checked.
            hashing = pool.submit(backup_archive.check_extracted, deferred, path.name)
            try:
                database_checks = _open_and_check(report, folder, secret, clock, data, mac,
                                                  report_progress)
            finally:
                checksums_error = hashing.exception()
        if checksums_error is not None:
            if record and report.unlocked is not None:  # `list` must stop saying "verified"
                _record_failure(report, clock, str(checksums_error))
            raise checksums_error  # a damaged file is named as such, before anything else
        report.checks[:0] = [Check("checksums", True,
                                   f"{len(manifest.members)} files match the manifest")]
        report.checks += database_checks
        report_progress(1.0, "Verified." if report.ok else "Verification failed.")
    finally:
        if extract_to is None:
            remove_tree(folder)


def _scratch_folder(backup: Path) -> Path:
    """Beside the backup (same disk, room for it); the system's temp folder when that
    folder is read-only. Everything extracted is still encrypted."""
    import tempfile

    from luna_tui.errors import ReadOnlyLocation
    from luna_tui.store.online_copy import remove_tree

    folder = backup.parent / f".luna-verify-{os.getpid()}-{backup.stem}"
    remove_tree(folder)
    try:
        ensure_private_dir(folder)
    except ReadOnlyLocation:
        return Path(tempfile.mkdtemp(prefix="luna-verify-"))
    return folder


def _extract(path: Path, folder: Path, manifest: Manifest,
             progress: Progress) -> list[tuple[Member, Path]]:
    total = manifest.total_size or 1
    done = 0

    def extracted(count: int) -> None:
        nonlocal done
        done += count
        progress(0.4 * done / total, "Reading every file in the backup…")

    return backup_archive.extract(path, folder, manifest, extracted,
                                  hash_later_over=HASH_LATER_OVER)


def _open_and_check(report: VerifyReport, folder: Path, secret: str, clock: Clock,
                    data: bytes, mac: bytes, progress: Progress) -> list[Check]:
    progress(0.45, "Opening the backup with your passphrase…")
    unlocked = _unlock(folder, secret, clock)
    report.unlocked = unlocked
    _check_identity(report, unlocked, data, mac, folder)
    _check_schema(report.manifest)
    return _check_databases(folder, unlocked, progress)


def _unlock(folder: Path, secret: str, clock: Clock) -> UnlockedKey:
    from luna_tui.vault.key_manager import KeyManager

    if not (folder / "keys.db").exists():
        raise BackupDamaged("The backup holds no keys.db, so it can't be opened.")
    try:
        return KeyManager(VaultLayout(folder), clock).unlock(secret)
    except WrongPassphrase:
        raise WrongPassphrase(
            "That passphrase does not open this backup. A backup opens with the passphrases "
            "(or the recovery key) the vault had when the backup was made.") from None


def _check_identity(report: VerifyReport, unlocked: UnlockedKey, data: bytes, mac: bytes,
                    folder: Path) -> None:
    from luna_tui.services.backups.folder import SUMMARY, manifest_mac, summary_aad
    from luna_tui.vault.aead import InvalidSeal, open_sealed
    from luna_tui.vault.subkeys import VaultKeys

    keys = VaultKeys.from_master_key(unlocked.master_key)
    if unlocked.vault_id != report.manifest.vault_id:
        raise BackupDamaged("The backup's manifest names another vault than its keys.db: "
                            "it was put together from two backups.")
    try:
        expected = bytes.fromhex(mac.decode("ascii"))
    except ValueError:
        expected = b""
    if not hmac.compare_digest(expected, manifest_mac(keys.backup, data)):
        raise BackupDamaged("The backup's manifest was changed after it was made "
                            "(its signature does not match).")
    report.checks.append(Check("passphrase", True, f"opens the backup ({unlocked.kind})"))
    report.checks.append(Check("manifest", True, "signed by this vault's backup key"))
    summary = folder / SUMMARY
    if summary.exists():
        try:
            report.counts = json.loads(open_sealed(keys.backup, summary.read_bytes(),
                                                   summary_aad(unlocked.vault_id)))
        except (InvalidSeal, ValueError):
            report.checks.append(Check("summary", False, "can't be opened"))


def _check_schema(manifest: Manifest) -> None:
    from luna_tui.store import migrate

    for database, applied in manifest.schema.items():
        if database not in (migrate.MAIN, migrate.STATS, migrate.AUDIT):
            continue
        unknown = sorted(set(applied) - set(migrate.script_names(database)))
        if unknown:
            raise BackupTooNew(
                f"The backup was made by a newer Luna (its {database} database has schema "
                f"{unknown[-1]}, which this Luna doesn't know). Upgrade Luna to restore it.")


def _check_databases(folder: Path, unlocked: UnlockedKey, progress: Progress) -> list[Check]:
    from luna_tui.vault.subkeys import VaultKeys

    keys = VaultKeys.from_master_key(unlocked.master_key)
    layout = VaultLayout(folder)
    databases = [("luna.db", layout.main_db, keys.main_db),
                 ("stats.db", layout.stats_db, keys.stats_db)]
    databases += [(f"audit/{m}.db", layout.audit_db(m), keys.audit_db)
                  for m in layout.audit_months()]
    total = sum(path.stat().st_size for _n, path, _k in databases if path.exists()) or 1
    done, checks = 0, []
    for name, path, key in databases:  # progress by size: luna.db is most of the time
        progress(0.5 + 0.45 * done / total, f"Checking {name} and every checksum…")
        checks.append(_integrity(name, path, key))
        done += path.stat().st_size if path.exists() else 0
    progress(0.97, "Walking the audit chain…")
    checks.append(_audit_chain(layout, keys))
    return checks


def _integrity(name: str, path: Path, key: bytes) -> Check:
    from luna_tui.store.online_copy import open_copy
    from luna_tui.store.sqlite_errors import is_database_error

    if not path.exists():
        return Check(name, False, "missing from the backup")
    try:
        conn = open_copy(path, key)
        try:
            # Room for the index pages integrity_check revisits: each miss is a page to
            # decrypt and authenticate again (a third faster at 64 MiB than at 8).
            conn.execute(f"PRAGMA cache_size = -{CHECK_CACHE_KIB}")
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - any database error is a damaged copy
        if not is_database_error(exc):
            raise
        return Check(name, False, f"can't be read ({exc})")
    if result == ["ok"]:
        return Check(name, True, "integrity check passed")
    return Check(name, False, "; ".join(result[:3]))


def _audit_chain(layout: VaultLayout, keys) -> Check:  # noqa: ANN001
    from luna_tui.store.audit_chain import (
        explained_gap_sentence,
        read_chain_inputs,
        verify_chain,
    )
    from luna_tui.store.online_copy import open_copy

    try:
        conn = open_copy(layout.main_db, keys.main_db)
        try:
            inputs = read_chain_inputs(lambda sql: conn.execute(sql).fetchall())
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001
        return Check("audit chain", False, f"the head can't be read ({exc})")
    files = [(m, layout.audit_db(m)) for m in layout.audit_months()]
    chain = verify_chain(files, keys.audit_db, keys.audit_mac, inputs)
    if chain.ok:
        return Check("audit chain", True,
                     f"{chain.rows} rows in {chain.months} month(s), every link holds")
    if chain.problem is None:
        return Check("audit chain", False, explained_gap_sentence(chain.explained[0]))
    return Check("audit chain", False, chain.problem)


def _record_failure(report: VerifyReport, clock: Clock, detail: str) -> None:
    from luna_tui.services.backups.folder import record_verification
    from luna_tui.vault.subkeys import VaultKeys

    assert report.unlocked is not None
    keys = VaultKeys.from_master_key(report.unlocked.master_key)
    record_verification(report.path, report.manifest_sha256, keys.backup,
                        utc_timestamp(clock.now()), False, detail)


def _record(report: VerifyReport, clock: Clock) -> None:
    from luna_tui.services.backups.folder import record_verification
    from luna_tui.vault.subkeys import VaultKeys

    assert report.unlocked is not None
    keys = VaultKeys.from_master_key(report.unlocked.master_key)
    record_verification(report.path, report.manifest_sha256, keys.backup,
                        utc_timestamp(clock.now()), report.ok,
                        "all checks passed" if report.ok else (report.first_problem or ""))

