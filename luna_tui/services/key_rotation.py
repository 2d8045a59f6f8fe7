"""`luna keys rotate`: a new master key and a new passphrase, for a lost device or a
leaked passphrase.

A passphrase change re-wraps the same master key, so whoever copied keys.db and knows
the old passphrase (or holds an old access key) still opens every file. A rotation
makes a new master key: every database is re-encrypted under sub-keys of it (SQLCipher's
`PRAGMA rekey`, store/rekey.py), every attachment re-sealed, the audit chain re-MACed
after it is verified (store/audit_remac.py), and keys.db written afresh with the new
passphrase and a new recovery key. Every other key is revoked: each wraps the old
master key, so none can be carried over.

Crash-safe like a restore: the new vault is built beside the old one, in the swap's
staging folder (store/vault_swap.py), with its `keys.rotate` audit row already in it,
and swapped in one recoverable step; the old files are then destroyed. A kill before
the swap's marker leaves the old vault (the staging is thrown away at the next open);
a kill after it leaves the new one (the next open finishes the swap). The vault must
be held by nobody: the rotation takes its exclusive lock.

Hook for other features (sync writes a fresh snapshot): `on_rotated(hook)` registers
`hook(result)`, called in the rotating process once the new vault is in place, with the
vault still exclusively held; an exception from a hook is reported in
`result.warnings`, never undoes the rotation.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from luna_tui.agent_link import request as ask_agent
from luna_tui.clock import Clock, SystemClock
from luna_tui.errors import (
    AttachmentDamaged,
    IntegrityFailure,
    KeyRefused,
    LunaError,
    ReadOnlyKey,
    VaultBusy,
)
from luna_tui.fault_points import pause_here
from luna_tui.home import VaultLayout
from luna_tui.services.vault_session import VaultSession
from luna_tui.store import attachment_files, rekey, vault_swap
from luna_tui.store.audit_chain import read_chain_inputs, verify_chain
from luna_tui.store.audit_remac import remac_chain
from luna_tui.store.vault_lock import VaultLock
from luna_tui.vault import keystore
from luna_tui.vault.generated_keys import new_generated_key
from luna_tui.vault.kdf import KdfParams, calibrate
from luna_tui.vault.key_manager import (
    OWNER,
    PASSPHRASE,
    RECOVERY,
    KeyInfo,
    KeyManager,
    UnlockedKey,
)
from luna_tui.vault.passphrase_policy import check_new_passphrase, normalise
from luna_tui.vault.subkeys import VaultKeys

OLD_FILES_DIR = ".rotate-old"  # inside LUNA_HOME: the swap is renames on one file system
AGENT_RUNNING = ("A Luna agent holds this vault unlocked; run `luna lock` first, then rotate. "
                 "Nothing was changed.")
BACKUPS_BEFORE = ("Backups made before this rotation still open with the old passphrase; "
                  "delete them if that passphrase is what leaked.")

Progress = Callable[[float, str], None]  # fraction done, what is happening


@dataclass(frozen=True)
class RotationPlan:
    """What a rotation will do, shown before the person confirms."""

    layout: VaultLayout
    unlocked: UnlockedKey  # the current key, an owner's
    passphrase_label: str  # the new passphrase's row keeps this name
    revoked: list[KeyInfo]  # every key that stops working (besides the two replaced)
    locators: frozenset[str]  # every key there was, to notice a change before rotating


@dataclass
class RotationResult:
    layout: VaultLayout
    unlocked: UnlockedKey  # the new passphrase's key: open the new vault with it
    recovery_key: str  # shown once
    revoked: list[str]  # labels
    attachments: int
    audit_rows: int
    kdf: KdfParams
    warnings: list[str] = field(default_factory=list)


RotatedHook = Callable[[RotationResult], None]
_rotated_hooks: list[RotatedHook] = []


def on_rotated(hook: RotatedHook) -> Callable[[], None]:
    """Call `hook(result)` after every rotation in this process; returns the way to stop."""
    _rotated_hooks.append(hook)
    return lambda: _rotated_hooks.remove(hook) if hook in _rotated_hooks else None


def plan_rotation(layout: VaultLayout, current_secret: str, *,
                  clock: Clock | None = None) -> RotationPlan:
    """Check the current secret is an owner's and list what the rotation revokes."""
    vault_swap.finish_interrupted_swap(layout)
    layout.require_vault()
    refuse_while_agent_runs(layout)
    manager = KeyManager(layout, clock or SystemClock())
    unlocked = manager.unlock(current_secret)
    if unlocked.read_only:
        raise ReadOnlyKey(f"This vault is open with the read-only key '{unlocked.label}', "
                          "which cannot rotate the vault's keys.")
    keys = manager.list_keys(unlocked)
    label = _passphrase_label(unlocked, keys)
    revoked = [k for k in keys if not _replaced(k, unlocked, label)]
    return RotationPlan(layout, unlocked, label, revoked,
                        frozenset(k.locator for k in keys))


def _passphrase_label(unlocked: UnlockedKey, keys: list[KeyInfo]) -> str:
    """The new passphrase's name: the one typed (the recovery key typed: the only owner
    passphrase's, else "owner")."""
    if unlocked.kind == PASSPHRASE:
        return unlocked.label
    owners = [k.label for k in keys if k.intact and k.kind == PASSPHRASE and k.role == OWNER]
    return owners[0] if len(owners) == 1 else "owner"


def _replaced(key: KeyInfo, unlocked: UnlockedKey, label: str) -> bool:
    """The keys a rotation replaces rather than revokes: the owner passphrase it renews
    and the recovery key."""
    if not key.intact:
        return False
    if key.kind == RECOVERY:
        return True
    return key.kind == PASSPHRASE and key.role == OWNER and key.label == label


def refuse_while_agent_runs(layout: VaultLayout) -> None:
    if ask_agent(layout.home, "status") is not None:
        raise VaultBusy(AGENT_RUNNING)


def refuse_while_open(layout: VaultLayout) -> None:
    """Fail early, before anyone types a new passphrase, if another Luna process has the
    vault open (the rotation itself takes the exclusive lock again, and holds it)."""
    lock = VaultLock(layout.home)
    lock.acquire_exclusive("rotate the keys")
    lock.release()


def rotate_keys(plan: RotationPlan, current_secret: str, new_passphrase: str, *,
                clock: Clock | None = None, kdf: KdfParams | None = None,
                progress: Progress | None = None) -> RotationResult:
    """Rotate; returns once the new vault is in place (and every `on_rotated` hook ran).
    No session may be open, in this process or any other. `kdf`: parameters for the new
    wraps (tests pass cheap ones); else calibrated."""
    clock = clock or SystemClock()
    report = progress or (lambda _done, _what: None)
    new_passphrase = check_rotation_passphrase(current_secret, new_passphrase)
    params = kdf.with_new_salt() if kdf is not None else calibrate()
    layout = plan.layout
    refuse_while_agent_runs(layout)
    lock = VaultLock(layout.home)
    lock.acquire_exclusive("rotate the keys")
    try:
        vault_swap.finish_swap_locked(layout)
        vault_swap.discard_old_files(layout.home / OLD_FILES_DIR)  # an earlier one's, if any
        _refuse_if_keys_changed(plan)
        staging = vault_swap.prepare_staging(layout)
        try:
            result = _build_new_vault(plan, new_passphrase, staging, params, clock, report)
            report(0.95, "Putting the new vault in place…")
            pause_here("rotate.before-swap")
            vault_swap.swap_in(layout, layout.home / OLD_FILES_DIR, discard_old=True)
        except BaseException:
            vault_swap.discard_staging(layout)
            raise
        pause_here("rotate.after-swap")
        _tell_hooks(result)
    finally:
        lock.release()
    report(1.0, "Rotated.")
    return result


def check_rotation_passphrase(current_secret: str, new_passphrase: str) -> str:
    """The new passphrase, normalised, if it is strong and not the current one; else
    WeakPassphrase or KeyRefused with the reason."""
    new_passphrase = check_new_passphrase(new_passphrase)
    if new_passphrase == normalise(current_secret):
        raise KeyRefused("The new passphrase is the one the vault has now; a rotation needs "
                         "a new one. Nothing was changed.")
    return new_passphrase


def _refuse_if_keys_changed(plan: RotationPlan) -> None:
    """Under the lock: the keys are still the ones listed to the person (no key was added
    or revoked since, no other rotation ran)."""
    try:
        keys = KeyManager(plan.layout).list_keys(plan.unlocked)
    except LunaError:
        keys = []
    if not keys or frozenset(k.locator for k in keys) != plan.locators or not all(
            k.intact for k in keys if k.locator == plan.unlocked.locator):
        raise KeyRefused("The vault's keys changed since the rotation was planned; run it "
                         "again. Nothing was changed.")


def _build_new_vault(plan: RotationPlan, new_passphrase: str, staging: Path,
                     params: KdfParams, clock: Clock, report: Progress) -> RotationResult:
    layout, new_layout = plan.layout, VaultLayout(staging)
    old = VaultKeys.from_master_key(plan.unlocked.master_key)
    new_master_key = os.urandom(32)
    new = VaultKeys.from_master_key(new_master_key)
    report(0.02, "Checking the audit log…")
    _verify_old_chain(layout, old)
    report(0.05, "Re-encrypting the databases…")
    _rekey_databases(layout, new_layout, old, new)
    pause_here("rotate.databases-rekeyed")
    audit_rows = remac_chain(new_layout.main_db, new.main_db, _months(new_layout),
                             new.audit_db, new.audit_mac)
    attachments = _reseal_attachments(layout, new_layout, old, new, report)
    pause_here("rotate.attachments-resealed")
    report(0.85, "Writing the new keys…")
    recovery_key = new_generated_key()
    unlocked = KeyManager(layout, clock).create_rotated_keys_file(
        new_layout.keys_db, new_master_key, new_passphrase, plan.passphrase_label,
        recovery_key, params)
    revoked = [k.label for k in plan.revoked]
    _record_rotation(new_layout, unlocked, plan, revoked, attachments, clock)
    report(0.9, "Checking the new vault…")
    _verify_new_vault(new_layout, new)
    return RotationResult(layout, unlocked, recovery_key, revoked, attachments, audit_rows,
                          params)


def _months(layout: VaultLayout) -> list[Path]:
    return [layout.audit_db(month) for month in layout.audit_months()]


def _verify_old_chain(layout: VaultLayout, old: VaultKeys) -> None:
    """The chain must hold before its MACs are recomputed: re-MACing a changed log
    would launder the change."""
    problem = _chain_problem(layout, old)
    if problem:
        raise IntegrityFailure(f"The audit log does not verify ({problem}), so the keys were "
                               "not rotated; run `luna doctor`. Nothing was changed.")


def _chain_problem(layout: VaultLayout, keys: VaultKeys) -> str | None:
    conn = rekey.open_keyed(layout.main_db, keys.main_db)
    try:
        inputs = read_chain_inputs(lambda sql: conn.execute(sql).fetchall())
    finally:
        conn.close()
    files = [(month, layout.audit_db(month)) for month in layout.audit_months()]
    return verify_chain(files, keys.audit_db, keys.audit_mac, inputs).problem


def _rekey_databases(layout: VaultLayout, new_layout: VaultLayout, old: VaultKeys,
                     new: VaultKeys) -> None:
    rekey.rekeyed_copy(layout.main_db, new_layout.main_db, old.main_db, new.main_db)
    if layout.stats_db.exists() and layout.stats_db.stat().st_size > 0:
        rekey.rekeyed_copy(layout.stats_db, new_layout.stats_db, old.stats_db, new.stats_db)
    for month in layout.audit_months():
        rekey.rekeyed_copy(layout.audit_db(month), new_layout.audit_db(month), old.audit_db,
                           new.audit_db)


def _reseal_attachments(layout: VaultLayout, new_layout: VaultLayout, old: VaultKeys,
                        new: VaultKeys, report: Progress) -> int:
    """Each attachment decrypted a chunk at a time and sealed again under the new key
    (never whole in memory, never plaintext on disk). Files no row owns (left by a
    killed attach) go with the old vault."""
    conn = rekey.open_keyed(new_layout.main_db, new.main_db)
    try:
        rows = conn.execute("SELECT id, record_id, storage_path, size FROM attachments "
                            "ORDER BY id").fetchall()
    finally:
        conn.close()
    for done, (attachment_id, record_id, storage, size) in enumerate(rows, start=1):
        source = layout.home / storage
        try:
            attachment_files.reseal_file(source, new_layout.home / storage, old.attachments,
                                         new.attachments, attachment_id, record_id, size)
        except AttachmentDamaged as damaged:
            raise AttachmentDamaged(
                f"An attachment ({storage}) can't be decrypted, so the keys were not rotated: "
                f"{damaged} Run `luna doctor`. Nothing was changed.") from None
        report(0.3 + 0.55 * done / len(rows), f"Re-encrypting attachments ({done} of "
               f"{len(rows)})…")
    return len(rows)


def _record_rotation(new_layout: VaultLayout, unlocked: UnlockedKey, plan: RotationPlan,
                     revoked: list[str], attachments: int, clock: Clock) -> None:
    """The `keys.rotate` row, written into the new vault before it is swapped in: the
    rotation and its audit row stand or fall together. It names the key that asked."""
    failures = keystore.pending_failures(plan.layout.keys_db)  # the old keys.db's, kept
    with VaultSession.connect(new_layout, unlocked, clock=clock, client="rotate") as session:
        session.run(_record, session, failures, plan.unlocked.locator, {
            "new_passphrase": plan.passphrase_label, "recovery_key": "replaced",
            "revoked": revoked, "attachments": attachments,
            "databases": ["luna.db", "stats.db",
                          *(f"audit/{m}.db" for m in plan.layout.audit_months())],
        })


def _record(session: VaultSession, failures: list[keystore.UnlockFailure], locator: str,
            diff: dict[str, object]) -> None:
    with session.transaction() as tx:
        for failure in failures:  # as an unlock records them (services/vault_session.py)
            tx.record("unlock.failed", key_locator=failure.key_locator_hash, diff={
                "attempted_at": failure.created_at, "reason": failure.reason,
                "host": failure.host, "client": failure.client})
        tx.record("keys.rotate", diff=diff, key_locator=locator)


def _verify_new_vault(new_layout: VaultLayout, new: VaultKeys) -> None:
    """Before the swap: every page of every new database authenticates under the new
    keys, and the carried-over chain (with the rotation's rows) verifies under them."""
    files = [new_layout.main_db, new_layout.stats_db, *_months(new_layout)]
    keys = [new.main_db, new.stats_db, *(new.audit_db for _ in _months(new_layout))]
    for path, key in zip(files, keys, strict=True):
        if path.exists() and rekey.pages_not_under(path, key):
            raise IntegrityFailure(f"The re-encrypted {path.name} does not check out; the keys "
                                   "were not rotated. Nothing was changed.")
    problem = _chain_problem(new_layout, new)
    if problem:
        raise IntegrityFailure(f"The audit log did not carry over ({problem}); the keys were "
                               "not rotated. Nothing was changed.")


def _tell_hooks(result: RotationResult) -> None:
    for hook in list(_rotated_hooks):
        try:
            hook(result)
        except Exception as exc:  # noqa: BLE001 - the rotation stands whatever a hook does
            result.warnings.append(f"After the rotation, a follow-up step failed ({exc}).")
