"""Small backup chores for the app: delete one backup, and the automatic backup on unlock.

They sit beside `folder.py` (which makes, lists and prunes) and use only its public
parts: one file per backup plus its `.verified` note, every change audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from luna_tui.errors import LunaError, UsageError
from luna_tui.home import os_error_to_luna
from luna_tui.services.backups.folder import BackupInfo, Backups, Progress, verification_path
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.backup_archive import SUFFIX


def delete_backup(session: VaultSession, path: Path) -> None:
    """Delete one backup file and its verification note; the audit log records it.

    Refused for a read-only key: a caregiver may make backups, not remove them."""
    session.require_writable("delete a backup")
    path = Path(path)
    if path.suffix != SUFFIX:
        raise UsageError(f"{path.name} is not a Luna backup ({SUFFIX}); nothing was deleted.")
    try:
        path.unlink()
        verification_path(path).unlink(missing_ok=True)
    except FileNotFoundError:
        raise LunaError(f"{path.name} is no longer there; nothing was deleted.") from None
    except OSError as exc:
        raise os_error_to_luna(exc, path) from exc
    session.run(_audit_delete, session, path)


def _audit_delete(session: VaultSession, path: Path) -> None:
    with session.transaction() as tx:
        tx.record("backup.delete", record_locator=path.name, diff={"folder": str(path.parent)})


# -- the automatic backup --------------------------------------------------------------------

@dataclass(frozen=True)
class AutomaticPlan:
    due: bool
    folder: Path
    every_days: int
    keep: int
    newest: BackupInfo | None  # this vault's newest backup in the folder, if any


@dataclass(frozen=True)
class AutomaticResult:
    made: BackupInfo
    pruned: list[Path] = field(default_factory=list)


def automatic_plan(session: VaultSession) -> AutomaticPlan:
    """Is a backup due? Yes when `backup.every_days` is above 0 and this vault's newest
    backup in the folder is that many days old, or there is none. Never for a read-only
    key: a caregiver's unlock should not write files into the owner's folder unasked."""
    from luna_tui.services.settings import Settings

    settings, backups = Settings(session), Backups(session)
    every_days, keep = int(settings.get("backup.every_days")), int(settings.get("backup.keep"))
    folder = backups.folder()
    if session.read_only or every_days <= 0:
        return AutomaticPlan(False, folder, every_days, keep, None)
    mine = [(moment, info) for info in backups.list(folder)
            if info.same_vault and (moment := _parse(info.created_at)) is not None]
    if not mine:
        return AutomaticPlan(True, folder, every_days, keep, None)
    moment, newest = max(mine, key=lambda pair: pair[0])
    age = session.clock.now() - moment
    return AutomaticPlan(age >= dt.timedelta(days=every_days), folder, every_days, keep,
                         newest)


def run_automatic_backup(session: VaultSession, plan: AutomaticPlan,
                         progress: Progress | None = None) -> AutomaticResult:
    """Make the backup, then keep only the newest `backup.keep` of this vault (0: all)."""
    backups = Backups(session)
    made = backups.create(plan.folder, progress, automatic=True)
    pruned = backups.prune(plan.keep, plan.folder) if plan.keep > 0 else []
    return AutomaticResult(made, pruned)


def _parse(created_at: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
