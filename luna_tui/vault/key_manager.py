"""The key manager: who may open the vault, and with what.

A vault has one master key (32 random bytes). Each key row wraps it under a key
derived from that row's secret with Argon2id: the owner's passphrase, the printed
recovery key, read-only keys for a caregiver. Unlocking derives, unwraps, and lets
AES-GCM's tag be the passphrase check (there is no separate verifier to attack).
Changing a passphrase re-wraps the master key only, so it costs the same for an empty
vault and a ten-year one.

Unlock order and cost: a generated key (recovery or access key) is found directly by
its locator, a hash of the key (safe: 150 random bits cannot be guessed); a passphrase
is tried against each passphrase row, one Argon2 run per row, cheapest first (then owner
rows, then the most recently used), within one work budget for the whole unlock
(kdf.UNLOCK_BUDGET): a keys.db of many heavy rows costs no more than a few.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import platform
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from luna_tui import __version__
from luna_tui.clock import Clock, SystemClock, local_today, utc_timestamp
from luna_tui.errors import (
    KdfTooHeavy,
    KeyExpired,
    KeyRefused,
    ReadOnlyKey,
    VaultCorrupt,
    WrongPassphrase,
)
from luna_tui.home import VaultLayout
from luna_tui.vault import keystore
from luna_tui.vault.aead import InvalidSeal, open_sealed, seal
from luna_tui.vault.generated_keys import canonical_form, looks_like_generated_key
from luna_tui.vault.kdf import (
    UNLOCK_BUDGET,
    KdfParams,
    budget_refusal,
    derive_key,
    heavy_kdf_allowed,
)
from luna_tui.vault.keystore import KeyRow, VaultRecord
from luna_tui.vault.passphrase_policy import normalise
from luna_tui.vault.subkeys import KEY_LABELS, derive_subkey, master_key_check

OWNER = "owner"
READ_ONLY = "read-only"
ROLES = (OWNER, READ_ONLY)

PASSPHRASE = "passphrase"
RECOVERY = "recovery"
ACCESS = "access"  # a generated key handed to someone else (a caregiver, a clinician)
KINDS = (PASSPHRASE, RECOVERY, ACCESS)

MAX_LABEL_LENGTH = 60


@dataclass(frozen=True)
class UnlockedKey:
    """The result of an unlock: the master key and what the key that opened it may do."""

    master_key: bytes
    vault_id: str
    locator: str
    label: str
    kind: str
    role: str
    expiry_date: dt.date | None

    @property
    def read_only(self) -> bool:
        return self.role != OWNER

    def __repr__(self) -> str:
        return f"UnlockedKey(label={self.label!r}, role={self.role!r}, master_key=<redacted>)"


@dataclass(frozen=True)
class KeyInfo:
    """What `luna keys list` shows about one key."""

    locator: str
    label: str
    kind: str
    role: str
    expiry_date: str | None
    created_at: str
    updated_at: str
    last_used_at: str | None
    intact: bool  # False when the row is damaged or was edited outside Luna

    def expired(self, today: dt.date) -> bool:
        return self.expiry_date is not None and _parse_day(self.expiry_date) < today


@dataclass(frozen=True)
class RowVerdict:
    """What one keys.db row is worth, judged with the master key: the one judgement that
    `luna keys list` and `luna doctor` both show."""

    row: KeyRow
    label: str | None  # the row's sealed label, when it opens
    problem: str | None  # why the row can't be trusted; None when it is intact

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def name(self) -> str:
        """The label, or for a row whose label no longer opens, what is left to know it by."""
        if self.label is not None and self.intact:
            return self.label
        return f"(altered key, made {shown(self.row.created_at)[:10] or 'on an unknown day'})"

    @property
    def kind(self) -> str:
        return shown(self.row.kind)


def shown(value: object) -> str:
    """A field of a key row as text to show: an altered row's field may hold any type
    SQLite stores (bytes, a number, NULL)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _shown_or_none(value: object) -> str | None:
    return None if value is None else shown(value)


@dataclass(frozen=True)
class FailedUnlock:
    """Why an unlock failed, for the record kept until the next unlock."""

    reason: str
    locator: str | None


def _parse_day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _aad(row: KeyRow, vault: VaultRecord) -> bytes:
    """Every field that grants or shapes access, bound to the wrapped master key.

    The vault's own id is used, not the row's copy, so a row pasted in from another
    vault fails. Only last_used_at and the checksum stay outside: they change on every
    unlock and grant nothing.
    """
    return _canonical(
        {
            "format": keystore.FORMAT_VERSION,
            "vault": vault.database_id_hash,
            "locator": row.key_locator_hash,
            "label": base64.b64encode(row.display_name).decode("ascii"),
            "kind": row.kind,
            "kdf": row.kdf,
            "acl": row.acl,
            "expiry_date": row.expiry_date,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def _label_aad(locator: str, kind: str, acl: str, expiry_date: str | None) -> bytes:
    """The label's seal binds the fields that grant access, so the owner can tell an
    edited row (a caregiver's key turned into an owner's) from a genuine one."""
    return _canonical({"locator": locator, "kind": kind, "acl": acl, "expiry_date": expiry_date})


def open_label(master_key: bytes, row: KeyRow) -> str | None:
    """The key's label, or None when the row's access fields were edited outside Luna
    (or the row is not this vault's, or holds a field of a type Luna never writes)."""
    if row.mistyped() is not None:
        return None
    try:
        return open_sealed(
            derive_subkey(master_key, KEY_LABELS), row.display_name,
            _label_aad(row.key_locator_hash, row.kind, row.acl, row.expiry_date),
        ).decode("utf-8")
    except (InvalidSeal, UnicodeDecodeError):
        return None


def judge_row(row: KeyRow, vault: VaultRecord, master_key: bytes) -> RowVerdict:
    """Can this row be trusted? Its checksum (a flipped bit), the vault it belongs to, a
    kind and role Luna knows, key-derivation settings Luna would run, and its sealed
    label, whose seal binds kind, role and expiry: a row edited with its checksum
    recomputed fails there. (An edited KDF or timestamp is bound into the wrap instead,
    which only the key's own secret can check: unlocking with it fails.)"""
    label = open_label(master_key, row)
    problem = None
    mistyped = row.mistyped()
    if mistyped is not None:
        problem = f"was edited outside Luna: {mistyped}"
    elif not row.intact:
        problem = "is damaged (it fails its checksum)"
    elif row.database_id_hash != vault.database_id_hash:
        problem = "belongs to another vault"
    elif row.kind not in KINDS or row.role not in ROLES:
        problem = "has a kind or role Luna does not know"
    elif label is None:
        problem = ("was edited outside Luna: its kind, role or expiry no longer match "
                   "what Luna sealed")
    else:
        try:
            KdfParams.from_json(row.kdf)
        except VaultCorrupt:
            problem = "holds key-derivation settings Luna would not run"
    return RowVerdict(row, label, problem)


def generated_key_locator(vault_id: str, canonical_key: str) -> str:
    return hashlib.sha256(
        b"luna/locator\0" + vault_id.encode("ascii") + b"\0" + canonical_key.encode("ascii")
    ).hexdigest()


class KeyManager:
    def __init__(self, layout: VaultLayout, clock: Clock | None = None, *,
                 allow_heavy_kdf: bool = False, from_backup: bool = False) -> None:
        """`allow_heavy_kdf`: run derivations above the portable ceiling and the unlock's
        work budget (a vault made heavier on purpose); LUNA_ALLOW_HEAVY_KDF=1 allows them
        as well. `from_backup`: `layout` holds a backup's keys.db, a file from outside
        until it opens, for which neither ever allows more."""
        self.layout = layout
        self.clock = clock or SystemClock()
        self.from_backup = from_backup
        self.allow_heavy_kdf = not from_backup and (allow_heavy_kdf or heavy_kdf_allowed())

    # -- creation -----------------------------------------------------------------

    def create_keys_file(
        self, path: Path, passphrase: str, recovery_key: str, kdf: KdfParams
    ) -> UnlockedKey:
        """Make a master key and write keys.db at `path` with the owner's passphrase and
        the recovery key. `passphrase` must already have passed the policy."""

        master_key = os.urandom(32)
        now = utc_timestamp(self.clock.now())
        vault = VaultRecord(
            vault_id=str(uuid.uuid4()),
            format_version=keystore.FORMAT_VERSION,
            created_at=now,
            master_key_check=master_key_check(master_key),
        ).sealed()
        owner = self._new_row(vault, master_key, OWNER, PASSPHRASE, "owner", passphrase, kdf, None)
        recovery = self._new_row(
            vault, master_key, OWNER, RECOVERY, "recovery key", recovery_key,
            kdf.with_new_salt(), None,
        )
        keystore.create(path, vault, [owner, recovery])
        return UnlockedKey(master_key, vault.vault_id, owner.key_locator_hash, "owner",
                           PASSPHRASE, OWNER, None)

    def create_rotated_keys_file(
        self, path: Path, master_key: bytes, passphrase: str, label: str, recovery_key: str,
        kdf: KdfParams,
    ) -> UnlockedKey:
        """keys.db for a rotation (`luna keys rotate`), written at `path`: this vault's
        id and birth date, a commitment to the new `master_key`, and two keys only, the
        owner's new passphrase (called `label`) and a new recovery key. No other key
        survives: each wrapped the old master key."""
        current = keystore.read(self.layout.keys_db).vault
        vault = replace(current, master_key_check=master_key_check(master_key)).sealed()
        owner = self._new_row(vault, master_key, OWNER, PASSPHRASE, label, passphrase, kdf, None)
        recovery = self._new_row(
            vault, master_key, OWNER, RECOVERY, "recovery key", recovery_key,
            kdf.with_new_salt(), None,
        )
        keystore.create(path, vault, [owner, recovery])
        return UnlockedKey(master_key, vault.vault_id, owner.key_locator_hash, label,
                           PASSPHRASE, OWNER, None)

    def _new_row(
        self,
        vault: VaultRecord,
        master_key: bytes,
        role: str,
        kind: str,
        label: str,
        secret: str,
        kdf: KdfParams,
        expiry: dt.date | None,
    ) -> KeyRow:
        if kind == PASSPHRASE:
            locator = os.urandom(32).hex()  # a hash of a passphrase would be a fast verifier
        else:
            canonical = canonical_form(secret)
            if canonical is None:
                raise ValueError("a generated key must be in its canonical form")
            locator = generated_key_locator(vault.vault_id, canonical)
            secret = canonical
        now = utc_timestamp(self.clock.now())
        acl = json.dumps({"role": role}, sort_keys=True, separators=(",", ":"))
        expiry_text = expiry.isoformat() if expiry else None
        row = KeyRow(
            key_locator_hash=locator,
            display_name=seal(derive_subkey(master_key, KEY_LABELS), label.encode(),
                              _label_aad(locator, kind, acl, expiry_text)),
            database_id_hash=vault.database_id_hash,
            kind=kind,
            kdf=kdf.to_json(),
            wrapped_master_key=b"",
            acl=acl,
            expiry_date=expiry_text,
            created_at=now,
            updated_at=now,
            last_used_at=None,
        )
        return self._wrap(row, vault, master_key, secret, kdf)

    def _wrap(self, row: KeyRow, vault: VaultRecord, master_key: bytes, secret: str,
              kdf: KdfParams) -> KeyRow:
        row = replace(row, kdf=kdf.to_json())
        kek = derive_key(normalise(secret), kdf, allow_heavy=self.allow_heavy_kdf)
        return replace(row, wrapped_master_key=seal(kek, master_key, _aad(row, vault))).sealed()

    # -- unlocking ----------------------------------------------------------------

    def unlock(self, secret: str, *, record_use_later: bool = False) -> UnlockedKey:
        """Open the vault with a passphrase, the recovery key or an access key.

        The key's last use is written to keys.db (it orders the keys tried next time),
        unless `record_use_later`: then the caller records it with `record_use` (the
        app, once its first screen shows: a write to keys.db is a few ms of syncing)."""
        key_file = keystore.read(self.layout.keys_db)
        vault = key_file.vault
        secret = normalise(secret)
        intact, damaged = self._usable_rows(key_file)

        generated = canonical_form(secret)
        candidates: list[KeyRow] = []
        if generated is not None:
            locator = generated_key_locator(vault.vault_id, generated)
            candidates = [r for r in intact if r.key_locator_hash == locator]
        if not candidates:
            candidates = self._passphrase_candidates(intact)

        tried, left = self._within_budget(candidates)
        for row, params in tried:
            attempt = generated if row.kind != PASSPHRASE and generated else secret
            kek = derive_key(attempt, params, allow_heavy=self.allow_heavy_kdf)
            try:
                master_key = open_sealed(kek, row.wrapped_master_key, _aad(row, vault))
            except InvalidSeal:
                continue
            return self._accept(vault, row, master_key, record_use=not record_use_later)

        if left:
            # The secret opened no key Luna may derive for; say why the others were left.
            raise self._refusal(tried, left)
        self._remember_failure(FailedUnlock("wrong passphrase", None))
        if damaged:
            raise VaultCorrupt(
                "That passphrase did not open the vault, and keys.db has "
                f"{len(damaged)} damaged key entr{'y' if len(damaged) == 1 else 'ies'}. "
                "If the passphrase is right, restore keys.db from a backup."
            )
        if looks_like_generated_key(secret) and generated is None:
            raise WrongPassphrase(
                "That looks like a recovery key but has a typo in it; check each group."
            )
        raise WrongPassphrase("Wrong passphrase: it does not open this vault.")

    def _usable_rows(self, key_file: keystore.KeyFile) -> tuple[list[KeyRow], list[KeyRow]]:
        """Rows we may run Argon2 for, and damaged ones (refused before Argon2 runs)."""
        intact, damaged = [], []
        for row in key_file.rows:
            try:
                ok = (
                    row.intact
                    and row.database_id_hash == key_file.vault.database_id_hash
                    and row.kind in KINDS
                )
                if ok:
                    KdfParams.from_json(row.kdf)
            except VaultCorrupt:
                ok = False
            (intact if ok else damaged).append(row)
        if not intact:
            raise VaultCorrupt(
                "keys.db is damaged: none of its keys can be read. Restore it from a backup."
            )
        return intact, damaged

    @staticmethod
    def _passphrase_candidates(rows: list[KeyRow]) -> list[KeyRow]:
        return [r for r in rows if r.kind == PASSPHRASE]

    def _within_budget(self, rows: list[KeyRow]
                       ) -> tuple[list[tuple[KeyRow, KdfParams]], list[KdfParams]]:
        """The rows this unlock may derive for, in the order to try them, and the rows
        left untried because they ask for too much (above the ceiling, or more than the
        unlock's budget has left).

        Cheapest first: a row's role and last use are stored in the clear, so a hostile
        row can claim to be the owner's, used a minute ago, and would go first; its cost
        it can only lower, and a cheap row costs nothing. Among equal costs, owner rows
        first, then the most recently used."""
        ordered = sorted(((row, KdfParams.from_json(row.kdf)) for row in rows),
                         key=lambda pair: pair[0].last_used_at or "", reverse=True)
        ordered.sort(key=lambda pair: (pair[1].work, pair[0].role != OWNER))  # stable
        if self.allow_heavy_kdf:
            return ordered, []
        tried, left, spent = [], [], 0
        for row, params in ordered:
            if params.above_ceiling() or spent + params.work > UNLOCK_BUDGET:
                left.append(params)  # never derived
                continue
            tried.append((row, params))
            spent += params.work
        return tried, left

    def _refusal(self, tried: list[tuple[KeyRow, KdfParams]], left: list[KdfParams]
                 ) -> KdfTooHeavy:
        """Why keys were left untried, in one sentence for the person."""
        if tried:
            return budget_refusal(len(tried), len(left), from_backup=self.from_backup)
        # Nothing was tried, so every row is above the ceiling (an empty budget takes
        # any row within it): name what the cheapest of them asks for.
        refusal = left[0].ceiling_refusal(from_backup=self.from_backup)
        assert refusal is not None
        return refusal

    def _accept(self, vault: VaultRecord, row: KeyRow, master_key: bytes, *,
                record_use: bool = True) -> UnlockedKey:
        if master_key_check(master_key) != vault.master_key_check:
            raise VaultCorrupt(
                "keys.db holds a key that belongs to a different vault; "
                "the file was changed. Restore it from a backup."
            )
        label = self._open_label(master_key, row)
        if label is None:
            raise VaultCorrupt("keys.db: the key you unlocked with was changed outside Luna; "
                               "restore keys.db from a backup.")
        role = row.role
        if role not in ROLES:
            raise VaultCorrupt("keys.db gives this key a role Luna does not know.")
        expiry = _parse_day(row.expiry_date) if row.expiry_date else None
        if expiry is not None and expiry < local_today(self.clock):
            self._remember_failure(FailedUnlock("key expired", row.key_locator_hash))
            raise KeyExpired(
                f"This key expired on {expiry.isoformat()}. Ask the vault's owner for a new one."
            )
        if record_use:
            keystore.touch_last_used(self.layout.keys_db, row,
                                     utc_timestamp(self.clock.now()))
        return UnlockedKey(master_key, vault.vault_id, row.key_locator_hash, label, row.kind,
                           role, expiry)

    def record_use(self, unlocked: UnlockedKey, when: dt.datetime) -> None:
        """Write that `unlocked`'s key opened the vault at `when` (what an unlock with
        `record_use_later` left to do), on its row as keys.db holds it now."""
        for row in keystore.read(self.layout.keys_db).rows:
            if row.key_locator_hash == unlocked.locator:
                keystore.touch_last_used(self.layout.keys_db, row, utc_timestamp(when))
                return

    @staticmethod
    def _open_label(master_key: bytes, row: KeyRow) -> str | None:
        return open_label(master_key, row)

    def _remember_failure(self, failure: FailedUnlock) -> None:


        keystore.record_failure(
            self.layout.keys_db,
            utc_timestamp(self.clock.now()),
            failure.reason,
            failure.locator,
            host=platform.node(),
            client=f"luna {__version__}",
        )

    # -- managing keys (owner only) -----------------------------------------------

    def judge_rows(self, unlocked: UnlockedKey) -> list[RowVerdict]:
        """Every row of keys.db, judged (see `judge_row`)."""
        key_file = keystore.read(self.layout.keys_db)
        return [judge_row(row, key_file.vault, unlocked.master_key) for row in key_file.rows]

    def list_keys(self, unlocked: UnlockedKey) -> list[KeyInfo]:
        infos = []
        for verdict in self.judge_rows(unlocked):
            row = verdict.row
            infos.append(
                KeyInfo(  # as text: an altered row's fields may hold any type
                    locator=shown(row.key_locator_hash),
                    label=verdict.name,
                    kind=verdict.kind,
                    role=row.role,
                    expiry_date=_shown_or_none(row.expiry_date),
                    created_at=shown(row.created_at),
                    updated_at=shown(row.updated_at),
                    last_used_at=_shown_or_none(row.last_used_at),
                    intact=verdict.intact,
                )
            )
        infos.sort(key=lambda k: (k.role != OWNER, k.kind != PASSPHRASE, k.created_at))
        return infos

    def add_key(
        self,
        unlocked: UnlockedKey,
        *,
        label: str,
        role: str,
        kind: str,
        secret: str,
        kdf: KdfParams,
        expiry: dt.date | None = None,
    ) -> KeyInfo:
        self._require_owner(unlocked, "add a key")
        label = self._check_label(unlocked, label)
        if role not in ROLES or kind not in KINDS:
            raise ValueError(f"unknown role or kind: {role}, {kind}")
        if expiry is not None and expiry < local_today(self.clock):
            raise KeyRefused(f"The expiry date {expiry.isoformat()} is already past.")
        vault = keystore.read(self.layout.keys_db).vault
        row = self._new_row(vault, unlocked.master_key, role, kind, label, secret, kdf, expiry)
        keystore.insert_key(self.layout.keys_db, row)
        return self._info(unlocked, row.key_locator_hash)

    def change_secret(self, unlocked: UnlockedKey, label: str, new_secret: str,
                      kdf: KdfParams) -> KeyInfo:
        """Re-wrap the master key under a new secret for the key called `label`."""
        self._require_owner(unlocked, "change a passphrase")
        key_file = keystore.read(self.layout.keys_db)
        row = self._find(unlocked, key_file, label)
        old_locator = row.key_locator_hash
        label = self._open_label(unlocked.master_key, row) or label
        secret = new_secret
        if row.kind != PASSPHRASE:
            secret = canonical_form(new_secret) or ""
            if not secret:
                raise KeyRefused(
                    f"'{label}' is a generated key; Luna makes its replacement (for the "
                    "recovery key: `luna keys recovery`). Revoke and re-add an access key.")
            # A generated key is found by its hash, so a new key means a new locator.
            row = replace(row, key_locator_hash=generated_key_locator(unlocked.vault_id, secret))
        label_key = derive_subkey(unlocked.master_key, KEY_LABELS)
        row = replace(
            row,
            display_name=seal(label_key, label.encode(), _label_aad(
                row.key_locator_hash, row.kind, row.acl, row.expiry_date)),
            updated_at=utc_timestamp(self.clock.now()),
        )
        new_row = self._wrap(row, key_file.vault, unlocked.master_key, secret, kdf)
        if new_row.key_locator_hash == old_locator:
            keystore.replace_key(self.layout.keys_db, new_row)
        else:
            keystore.swap_key(self.layout.keys_db, old_locator, new_row)
        return self._info(unlocked, new_row.key_locator_hash)

    def revoke(self, unlocked: UnlockedKey, label: str) -> KeyInfo:
        self._require_owner(unlocked, "revoke a key")
        key_file = keystore.read(self.layout.keys_db)
        row = self._find(unlocked, key_file, label)
        others = [r for r in key_file.rows
                  if r.intact and r.key_locator_hash != row.key_locator_hash]
        if row.role == OWNER and not any(r.role == OWNER for r in others):
            raise KeyRefused(
                f"'{label}' is the last key that can change this vault; revoking it would "
                "lock you out. Add another owner key first."
            )
        if row.role == OWNER and row.kind == PASSPHRASE and not any(
            r.role == OWNER and r.kind == PASSPHRASE for r in others
        ):
            raise KeyRefused(
                f"'{label}' is the only owner passphrase; revoking it would leave only the "
                "recovery key. Change it with `luna passwd`, or add another passphrase first "
                "(`luna keys add --label NAME`)."
            )
        info = self._info(unlocked, row.key_locator_hash)
        keystore.delete_key(self.layout.keys_db, row.key_locator_hash)
        return info

    def _find(self, unlocked: UnlockedKey, key_file: keystore.KeyFile, label: str) -> KeyRow:
        """The intact key called `label`; a row edited outside Luna is never acted on."""
        wanted = label.strip().casefold()
        intact = [v for v in (judge_row(row, key_file.vault, unlocked.master_key)
                              for row in key_file.rows) if v.intact]
        for verdict in intact:
            if verdict.name.casefold() == wanted:
                return verdict.row
        names = ", ".join(f"'{v.name}'" for v in intact)
        raise KeyRefused(f"There is no key called '{label}'. Keys: {names}.")

    def _info(self, unlocked: UnlockedKey, locator: str) -> KeyInfo:
        return next(k for k in self.list_keys(unlocked) if k.locator == locator)

    def _check_label(self, unlocked: UnlockedKey, label: str) -> str:
        label = " ".join(label.split())
        if not label:
            raise KeyRefused("A key needs a label, such as --label caregiver.")
        if len(label) > MAX_LABEL_LENGTH:
            raise KeyRefused(f"A key label can be at most {MAX_LABEL_LENGTH} characters.")
        taken = {k.label.casefold() for k in self.list_keys(unlocked) if k.intact}
        if label.casefold() in taken:
            raise KeyRefused(f"There is already a key called '{label}'; pick another label.")
        return label

    @staticmethod
    def _require_owner(unlocked: UnlockedKey, action: str) -> None:
        if unlocked.read_only:
            raise ReadOnlyKey(
                f"This vault is open with the read-only key '{unlocked.label}', "
                f"which cannot {action}."
            )
