"""Creating a vault (`luna init`, the app's welcome screen).

Everything is built in a staging folder and moved into place at the end. When the
vault folder is missing or empty (the usual case) the staging folder sits beside it
and one rename makes the whole vault appear at once. Otherwise it sits inside the
folder and its files move in with keys.db last: a vault exists once keys.db does,
so a crash half-way never leaves a keys.db without its databases.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from luna_tui.clock import Clock, SystemClock
from luna_tui.errors import DiskFull, LunaError, VaultExists, VaultMadeNotOpened
from luna_tui.home import VaultLayout, disk_full, ensure_private_dir, os_error_to_luna
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.vault_swap import finish_interrupted_swap
from luna_tui.vault.generated_keys import new_generated_key
from luna_tui.vault.kdf import DEFAULT_KDF_SECONDS, KdfParams, calibrate
from luna_tui.vault.key_manager import KeyManager
from luna_tui.vault.passphrase_policy import check_new_passphrase

STAGING_PREFIX = ".luna-init-"


@dataclass
class NewVault:
    session: VaultSession
    recovery_key: str = field(repr=False)  # shown once; never in a repr or a traceback
    kdf: KdfParams = field(repr=False)


# A staging folder this old belongs to a `luna init` that crashed, not to one running now.
STALE_STAGING_SECONDS = 3600


def create_vault(layout: VaultLayout, passphrase: str, *, kdf: KdfParams | None = None,
                 kdf_seconds: float = DEFAULT_KDF_SECONDS, clock: Clock | None = None,
                 client: str = "cli", allow_heavy_kdf: bool = False) -> NewVault:
    """Make a new vault and return it open (owner key), with its recovery key.
    `allow_heavy_kdf`: key derivation above the portable ceiling, asked for on purpose."""

    clock = clock or SystemClock()
    finish_interrupted_swap(layout)  # a half-done restore is a vault, not an empty folder
    _refuse_existing_vault(layout)
    passphrase = check_new_passphrase(passphrase)
    _remove_stale_staging(layout, clock)
    kdf = kdf or calibrate(kdf_seconds, allow_heavy=allow_heavy_kdf)
    staging = _make_staging_folder(layout)
    try:
        recovery_key = new_generated_key()
        unlocked = KeyManager(staging, clock, allow_heavy_kdf=allow_heavy_kdf).create_keys_file(
            staging.keys_db, passphrase, recovery_key, kdf
        )
        staged = VaultSession.connect(staging, unlocked, clock=clock, client=client, create=True)
        try:
            staged.run(_record_creation, staged)
        finally:
            staged.close()
        _move_into_place(staging, layout)
    except DiskFull:
        raise disk_full(layout.home) from None  # the person's folder, not the staging one
    finally:
        shutil.rmtree(staging.home, ignore_errors=True)
    try:
        session = VaultSession.connect(layout, unlocked, clock=clock, client=client)
    except LunaError as error:
        raise VaultMadeNotOpened(
            f"Your vault is made in {layout.home}, but Luna could not open it just after: "
            f"{error}", error, recovery_key, kdf) from error
    return NewVault(session, recovery_key, kdf)


def _refuse_existing_vault(layout: VaultLayout) -> None:
    if layout.exists():
        raise VaultExists(
            f"There is already a vault at {layout.home}. Use `luna passwd` to change its "
            "passphrase, or --home to make a new vault somewhere else."
        )
    parts = [p.name for p in (layout.main_db, layout.stats_db) if p.exists()]
    if layout.audit_months():
        parts.append(layout.audit_dir.name)
    if parts:
        # Never write over the data of a vault whose keys.db went missing.
        raise VaultExists(
            f"{layout.home} holds parts of a vault ({', '.join(parts)}) but no keys.db. "
            "Restore keys.db from a backup, or move that folder away to start afresh."
        )


def _home_is_empty(layout: VaultLayout) -> bool:
    try:
        return not any(layout.home.iterdir())
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise os_error_to_luna(exc, layout.home) from exc


def _make_staging_folder(layout: VaultLayout) -> VaultLayout:
    """Beside the vault folder if that is missing or empty (and its parent writable),
    else inside it."""
    tag = f"{STAGING_PREFIX}{uuid.uuid4().hex[:8]}"
    if _home_is_empty(layout):
        beside = layout.home.parent / f".{layout.home.name}{tag}"
        try:
            # The parent is the person's folder: made if missing, its mode left alone.
            layout.home.parent.mkdir(parents=True, exist_ok=True)
            ensure_private_dir(beside)
            return VaultLayout(beside)
        except (OSError, LunaError):
            pass  # e.g. a vault folder made for us inside a folder we may not write
    ensure_private_dir(layout.home)
    inside = layout.home / tag
    ensure_private_dir(inside)
    return VaultLayout(inside)


def _record_creation(session: VaultSession) -> None:
    with session.writing("create a vault") as tx:
        tx.record("vault.create", diff={"kdf": "argon2id"})


def _move_into_place(staging: VaultLayout, layout: VaultLayout) -> None:
    try:
        if staging.home.parent == layout.home.parent:
            # rename(2) replaces a missing or empty folder in one step.
            os.replace(staging.home, layout.home)
        else:
            for entry in sorted(staging.home.iterdir()):
                # .lock stays: replacing it would let a new process lock another file
                # than the one an open Luna holds.
                if entry.name not in (staging.keys_db.name, ".lock"):
                    entry.replace(layout.home / entry.name)
            staging.keys_db.replace(layout.keys_db)  # last: from here on, the vault exists
        _fsync_folder(layout.home.parent)
        _fsync_folder(layout.home)
    except OSError as exc:
        raise os_error_to_luna(exc, layout.home) from exc


def _fsync_folder(path: Path) -> None:
    """Make the renames survive a power cut (POSIX; a no-op where folders can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename still happened
    finally:
        os.close(fd)


def _remove_stale_staging(layout: VaultLayout, clock: Clock) -> None:
    """Staging folders of a crashed `luna init` never hold a usable vault. Ones younger
    than an hour are left alone: another `luna init` may be using them right now."""
    cutoff = clock.wall_time() - STALE_STAGING_SECONDS
    places = ((layout.home, f"{STAGING_PREFIX}*"),
              (layout.home.parent, f".{layout.home.name}{STAGING_PREFIX}*"))
    for folder, pattern in places:
        if not folder.is_dir():
            continue
        for stale in folder.glob(pattern):
            try:
                if stale.is_dir() and stale.stat().st_mtime < cutoff:
                    shutil.rmtree(stale, ignore_errors=True)
            except OSError:
                continue
