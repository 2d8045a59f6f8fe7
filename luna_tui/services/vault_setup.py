"""Creating a vault (`luna init`, the app's welcome screen).

Everything is built in a staging folder inside LUNA_HOME and moved into place with
keys.db last: a vault exists once keys.db does, so a crash or a full disk half-way
leaves either no vault or a whole one, never a keys.db without its databases.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass

from luna_tui.clock import Clock, SystemClock
from luna_tui.errors import VaultExists
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.services.vault_session import VaultSession
from luna_tui.vault.generated_keys import new_generated_key
from luna_tui.vault.kdf import DEFAULT_KDF_SECONDS, KdfParams, calibrate
from luna_tui.vault.key_manager import KeyManager
from luna_tui.vault.passphrase_policy import check_new_passphrase

STAGING_PREFIX = ".luna-init-"


@dataclass
class NewVault:
    session: VaultSession
    recovery_key: str  # shown once, never stored in the clear
    kdf: KdfParams


def create_vault(layout: VaultLayout, passphrase: str, *, kdf: KdfParams | None = None,
                 kdf_seconds: float = DEFAULT_KDF_SECONDS, clock: Clock | None = None,
                 client: str = "cli") -> NewVault:
    """Make a new vault and return it open (owner key), with its recovery key."""
    clock = clock or SystemClock()
    if layout.exists() or layout.main_db.exists():
        raise VaultExists(
            f"There is already a vault at {layout.home}. Use `luna passwd` to change its "
            "passphrase, or --home to make a new vault somewhere else."
        )
    passphrase = check_new_passphrase(passphrase)
    ensure_private_dir(layout.home)
    _remove_stale_staging(layout)
    kdf = kdf or calibrate(kdf_seconds)
    staging = VaultLayout(layout.home / f"{STAGING_PREFIX}{uuid.uuid4().hex[:8]}")
    ensure_private_dir(staging.home)
    try:
        recovery_key = new_generated_key()
        unlocked = KeyManager(staging, clock).create_keys_file(
            staging.keys_db, passphrase, recovery_key, kdf
        )
        staged = VaultSession.connect(staging, unlocked, clock=clock, client=client, create=True)
        try:
            staged.run(_record_creation, staged)
        finally:
            staged.close()
        _move_into_place(staging, layout)
    finally:
        shutil.rmtree(staging.home, ignore_errors=True)
    session = VaultSession.connect(layout, unlocked, clock=clock, client=client)
    return NewVault(session, recovery_key, kdf)


def _record_creation(session: VaultSession) -> None:
    with session.writing("create a vault") as tx:
        tx.record("vault.create", diff={"kdf": "argon2id"})


def _move_into_place(staging: VaultLayout, layout: VaultLayout) -> None:
    for entry in sorted(staging.home.iterdir()):
        if entry.name != staging.keys_db.name:
            entry.replace(layout.home / entry.name)
    staging.keys_db.replace(layout.keys_db)  # last: from here on, the vault exists


def _remove_stale_staging(layout: VaultLayout) -> None:
    """A staging folder left by a crashed `luna init` never holds a usable vault."""
    for stale in layout.home.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
