"""Putting a backup back: `luna backup restore`.

Verify first (into a staging folder inside the vault folder, so the swap is renames on
one file system); refuse while any Luna process has the vault open, and refuse a
backup of another vault over this one. The current vault's files move, whole, into
`backups/before-restore-…/` (a vault folder that opens on its own: the safety copy),
and the restored ones move in — see `store/vault_swap.py` for why a crash at any point
leaves one vault or the other. Then the restored vault is opened once: that migrates a
backup of an older schema and records the restore in its audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from luna_tui.clock import Clock, SystemClock, utc_timestamp
from luna_tui.errors import BackupOfAnotherVault, IntegrityFailure, LunaError
from luna_tui.fault_points import pause_here
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.services.backups.verify import Progress, VerifyReport, verify_backup
from luna_tui.store import vault_swap
from luna_tui.store.vault_lock import VaultLock
from luna_tui.vault.key_manager import UnlockedKey

NOT_VAULT_FILES = ("summary.sealed",)


@dataclass(frozen=True)
class RestoreResult:
    report: VerifyReport
    safety_dir: Path | None  # where the replaced vault went; None if there was none
    migrated: list[str]
    unlocked: UnlockedKey


def restore_backup(path: Path, secret: str, layout: VaultLayout, *,
                   clock: Clock | None = None, progress: Progress | None = None) -> RestoreResult:
    clock = clock or SystemClock()
    report_progress = progress or (lambda _done, _label: None)
    path = Path(path).expanduser().absolute()
    ensure_private_dir(layout.home)
    lock = VaultLock(layout.home)
    lock.acquire_exclusive()
    try:
        vault_swap.finish_swap_locked(layout)  # we hold the lock it would take
        _refuse_another_vault(path, layout)
        staging = vault_swap.prepare_staging(layout)
        try:
            report = verify_backup(path, secret, clock=clock, extract_to=staging,
                                   progress=lambda done, label: report_progress(0.9 * done,
                                                                                label))
            if not report.ok:
                raise IntegrityFailure(f"The backup failed verification, so nothing was "
                                       f"restored: {report.first_problem}.")
            for name in NOT_VAULT_FILES:
                (staging / name).unlink(missing_ok=True)
            stamp = clock.now().astimezone().strftime("%Y%m%d-%H%M%S")
            safety = _free_folder(_safety_parent(layout) / f"before-restore-{stamp}")
            report_progress(0.92, "Putting the restored files in place…")
            pause_here("restore.before-swap")
            vault_swap.swap_in(layout, safety)
        except BaseException:
            vault_swap.discard_staging(layout)
            raise
    finally:
        lock.release()
    assert report.unlocked is not None
    safety_dir = safety if safety.exists() else None  # nothing was there to put away
    report_progress(0.96, "Opening the restored vault…")
    migrated = _open_and_record(layout, report, safety_dir, clock)
    report_progress(1.0, "Restored.")
    return RestoreResult(report, safety_dir, migrated, report.unlocked)


def _refuse_another_vault(path: Path, layout: VaultLayout) -> None:
    from luna_tui.store.backup_archive import read_manifest
    from luna_tui.vault import keystore

    if not layout.exists():
        return
    manifest, _data, _mac = read_manifest(path)
    try:
        current = keystore.read(layout.keys_db).vault.vault_id
    except LunaError:
        return  # a damaged keys.db is one reason to restore: the safety copy keeps it
    if current != manifest.vault_id:
        raise BackupOfAnotherVault(
            f"{path.name} is a backup of another vault, not the one at {layout.home}; "
            "restoring it here would put that vault away. Restore it into an empty folder "
            "with --to, or move this vault elsewhere first. Nothing was changed.")


def _safety_parent(layout: VaultLayout) -> Path:
    """Where the replaced vault goes: LUNA_HOME/backups, unless that is another disk (a
    link to a USB stick), where a rename can't reach; then LUNA_HOME itself."""
    import os

    ensure_private_dir(layout.backups_dir)
    if os.stat(layout.backups_dir).st_dev != os.stat(layout.home).st_dev:
        return layout.home
    return layout.backups_dir


def _free_folder(folder: Path) -> Path:
    candidate, number = folder, 2
    while candidate.exists():
        candidate = folder.with_name(f"{folder.name}-{number}")
        number += 1
    return candidate


def _open_and_record(layout: VaultLayout, report: VerifyReport, safety: Path | None,
                     clock: Clock) -> list[str]:
    """Open the restored vault once: migrations run, and the restore is audited."""
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.store import migrate

    assert report.unlocked is not None
    before = report.manifest.schema.get(migrate.MAIN, [])
    with VaultSession.connect(layout, report.unlocked, clock=clock, client="restore") as session:
        session.run(_record, session, report, safety)
        from luna_tui.store.models.base import database

        after = session.run(migrate.applied_migrations, database, migrate.MAIN)
    return [name for name in after if name not in before]


def _record(session, report: VerifyReport, safety: Path | None) -> None:  # noqa: ANN001
    with session.transaction() as tx:
        tx.record("backup.restore", record_locator=report.path.name, diff={
            "backup_created_at": report.manifest.created_at,
            "from": str(report.path.parent),
            "safety_copy": str(safety) if safety else None,
            "restored_at": utc_timestamp(session.clock.now()),
        })
