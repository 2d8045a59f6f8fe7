"""Managing the keys of an open vault: passphrase changes, read-only keys, revocation.

Each change to keys.db happens inside the vault's write transaction: two Luna
processes can't interleave key changes, and the change and its audit row stand or
fall together (keys.db commits first; if the audit commit then fails, the vault says
so rather than pretending nothing happened).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luna_tui.errors import KeyChangeNotAudited, KeyRefused, ValidationError, WrongPassphrase
from luna_tui.services.date_phrases import parse_day
from luna_tui.services.vault_session import VaultSession
from luna_tui.vault.generated_keys import new_generated_key
from luna_tui.vault.kdf import KdfParams, calibrate
from luna_tui.vault.key_manager import (
    ACCESS,
    OWNER,
    PASSPHRASE,
    READ_ONLY,
    RECOVERY,
    KeyInfo,
    KeyManager,
)
from luna_tui.vault.passphrase_policy import check_new_passphrase


def expiry_from_text(text: str, today: dt.date) -> dt.date:
    """A key's expiry date as typed (`luna keys add --expires`, the app's keys form), in
    the grammar of every date field (services/date_phrases.py)."""
    day = parse_day(text, today)
    if day is None:
        raise ValidationError(f"'{text}' is not a date; write it as YYYY-MM-DD (e.g. "
                              "2027-03-31), tomorrow, next monday or in 3 weeks", "expiry")
    return day


@dataclass(frozen=True)
class AddedKey:
    info: KeyInfo
    generated_secret: str | None  # an access key Luna made; shown once


class KeyAdmin:
    def __init__(self, session: VaultSession, kdf: KdfParams | None = None) -> None:
        """`kdf`: parameters for new wraps (tests pass cheap ones); else calibrated."""
        self.session = session
        self._manager = KeyManager(session.layout, session.clock)
        self._kdf = kdf

    def _params(self) -> KdfParams:
        return self._kdf.with_new_salt() if self._kdf else calibrate()

    def list_keys(self) -> list[KeyInfo]:
        return self.session.run(self._manager.list_keys, self.session.key)

    def change_passphrase(self, new_passphrase: str, label: str | None = None, *,
                          current: str | None = None) -> KeyInfo:
        """Re-wrap the master key under a new passphrase; the data is not touched.
        `current`: the app asks for a secret that opens the vault with an owner's key
        first, so a person passing an unlocked screen cannot change it (`luna passwd`
        has just asked for it to unlock)."""
        self.session.require_writable("change a passphrase")
        if current is not None:
            self.confirm_owner_secret(current)
        new_passphrase = check_new_passphrase(new_passphrase)
        label = label or self._default_passphrase_label()
        params = self._params()
        return self.session.run(self._change, label, new_passphrase, params, "key.passwd")

    def confirm_owner_secret(self, secret: str) -> None:
        """Prove the person knows a secret that opens this vault as its owner. A wrong
        one is remembered as a failed unlock, as at the unlock screen: it is one."""
        try:
            unlocked = self._manager.unlock(secret)
        except WrongPassphrase:
            raise WrongPassphrase("That is not the current passphrase; nothing was "
                                  "changed.") from None
        if unlocked.read_only:
            raise KeyRefused("That passphrase is a read-only key's; type the owner's "
                             "passphrase or the recovery key.")

    def _default_passphrase_label(self) -> str:
        key = self.session.key
        if key.kind == PASSPHRASE:
            return key.label
        owners = [k for k in self.list_keys() if k.kind == PASSPHRASE and k.role == OWNER]
        if len(owners) == 1:
            return owners[0].label  # unlocked with the recovery key: reset the passphrase
        raise KeyRefused("Say which passphrase to change with --label NAME.")

    def _change(self, label: str, secret: str, params: KdfParams, event: str,
                generated: str | None = None) -> KeyInfo:
        return self._audited(
            "change a key",
            lambda: self._manager.change_secret(self.session.key, label, secret, params),
            lambda info: (event, {"label": info.label}),
            generated,
        )

    def _audited(self, what: str, change: Callable[[], KeyInfo],
                 describe: Callable[[KeyInfo], tuple[str, dict[str, Any]]],
                 generated: str | None) -> KeyInfo:
        """Change keys.db and write its audit row in the vault's write transaction.

        keys.db commits inside `change`; if the audit row then fails to commit, the
        key change has still happened, and the person is told so (with any generated
        key, which already works) instead of a message that suggests nothing changed.
        """
        changed: KeyInfo | None = None
        try:
            with self.session.writing(what) as tx:
                changed = change()
                event, diff = describe(changed)
                tx.record(event, record_locator=changed.locator, diff=diff)
        except Exception as exc:  # whatever failed after keys.db committed
            if changed is None:
                raise
            raise KeyChangeNotAudited(
                f"The key change was made, but its audit entry could not be saved ({exc}). "
                "Run `luna doctor`; the change itself stands.",
                new_secret=generated,
            ) from exc
        return changed

    def replace_recovery_key(self) -> str:
        """A new recovery key; the old one stops working. Returns the new key."""
        self.session.require_writable("replace the recovery key")
        recovery = [k for k in self.list_keys() if k.kind == RECOVERY]
        new_key = new_generated_key()
        params = self._params()
        if recovery:
            self.session.run(self._change, recovery[0].label, new_key, params, "key.recovery",
                             new_key)
        else:
            self.session.run(self._add, "recovery key", OWNER, RECOVERY, new_key, params, None,
                             new_key)
        return new_key

    def add_key(self, label: str, *, read_only: bool, passphrase: str | None = None,
                expiry: dt.date | None = None) -> AddedKey:
        """Add a key. With no passphrase, Luna generates an access key to hand over."""
        self.session.require_writable("add a key")
        role = READ_ONLY if read_only else OWNER
        if passphrase is None:
            kind, secret, generated = ACCESS, new_generated_key(), True
        else:
            kind, secret, generated = PASSPHRASE, check_new_passphrase(passphrase), False
        params = self._params()
        info = self.session.run(self._add, label, role, kind, secret, params, expiry,
                                secret if generated else None)
        return AddedKey(info, secret if generated else None)

    def _add(self, label: str, role: str, kind: str, secret: str, params: KdfParams,
             expiry: dt.date | None, generated: str | None = None) -> KeyInfo:
        return self._audited(
            "add a key",
            lambda: self._manager.add_key(self.session.key, label=label, role=role, kind=kind,
                                          secret=secret, kdf=params, expiry=expiry),
            lambda info: ("key.add", {"label": info.label, "role": role, "kind": kind,
                                      "expiry_date": info.expiry_date}),
            generated,
        )

    def revoke(self, label: str) -> KeyInfo:
        self.session.require_writable("revoke a key")
        return self.session.run(self._revoke, label)

    def _revoke(self, label: str) -> KeyInfo:
        return self._audited(
            "revoke a key",
            lambda: self._manager.revoke(self.session.key, label),
            lambda info: ("key.revoke", {"label": info.label, "role": info.role,
                                         "kind": info.kind}),
            None,
        )
