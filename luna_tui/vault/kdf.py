"""Argon2id: turning a passphrase into a key-encryption key.

Parameters are always explicit (`hash_secret_raw`, never the library's defaults, which
change between releases), stored with each wrapped key, and validated before they are
used: absurd values in a damaged or edited keys.db are refused instead of being run.
At creation they are calibrated so one derivation takes about `seconds`, never below
RFC 9106's second recommended option (m = 64 MiB, t = 3, p = min(4, cores)).

Stored parameters also have a portable ceiling (`PORTABLE_CEILING`): what any machine
Luna runs on can afford, not what this one can. A key row above it — an edited keys.db,
or a hostile backup at `backup verify` — is refused before any derivation, and one
unlock derives for rows worth at most `UNLOCK_BUDGET` in all, however many rows keys.db
holds. Only for the vault's own keys.db may the person allow more on purpose
(LUNA_ALLOW_HEAVY_KDF=1, or `luna init --allow-heavy-kdf` for a new vault): the key
manager decides that, never `derive_key`, so a backup's keys.db can't be given it.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass

from luna_tui.errors import KdfTooHeavy, VaultCorrupt

ALGORITHM = "argon2id"
ARGON2_VERSION = 19  # 0x13
KEY_LENGTH = 32
SALT_LENGTH = 16

FLOOR_MEMORY_KIB = 64 * 1024
FLOOR_TIME_COST = 3
DEFAULT_KDF_SECONDS = 0.5
MAX_KDF_SECONDS = 10.0
HEAVY_KDF_ENV = "LUNA_ALLOW_HEAVY_KDF"

# What a stored parameter set may say at all, even with heavier settings allowed. The
# lower bounds are Argon2's own minimums (tests use cheap parameters); the floor above
# applies to every vault Luna creates outside the tests. The upper bounds stop a
# damaged file from asking for terabytes of memory or days of work.
_BOUNDS = {
    "m": (8, 2 * 1024 * 1024),  # KiB: up to 2 GiB
    "t": (1, 10_000),
    "p": (1, 16),
}


@dataclass(frozen=True)
class Ceiling:
    """The heaviest derivation Luna runs without being asked. Argon2's cost is its
    memory times its passes, so that product is bounded as well as each part."""

    memory_kib: int
    time_cost: int
    parallelism: int
    work: int  # memory_kib × time_cost

    def describe(self) -> str:
        return (f"{self.memory_kib // (1024 * 1024)} GiB of memory, {self.parallelism} lanes, "
                f"{self.time_cost} passes, and memory × passes at most "
                f"{FLOOR_MEMORY_KIB // 1024} MiB × {self.work // FLOOR_MEMORY_KIB}")


# 1 GiB: what a small laptop or a phone-sized machine can still give one derivation, so a
# vault restored onto it opens. 64 MiB × 200 passes: the heaviest derivation Luna itself
# has ever made (`--kdf-seconds 10` on a fast machine), about 10 s on a 2-core laptop;
# no vault Luna made is refused, and a hostile file can cost no more than that.
PORTABLE_CEILING = Ceiling(memory_kib=1024 * 1024, time_cost=200, parallelism=8,
                           work=FLOOR_MEMORY_KIB * 200)

# One unlock may try several rows (a passphrase is tried against every passphrase row), so
# a ceiling per row alone lets a keys.db of fifty rows at the ceiling cost fifty times it.
# Twice the ceiling: the heaviest owner row Luna makes (`--kdf-seconds 10`) plus the keys
# added later at the default cost (0.5 s: 15 passes on the 2-core test machine, under a
# tenth of the ceiling) still fit, so no vault Luna made is refused unless it holds a
# dozen passphrases; a hostile file costs at most about 20 s however many rows it holds.
UNLOCK_BUDGET = 2 * PORTABLE_CEILING.work


def heavy_kdf_allowed() -> bool:
    """Has the person allowed derivations above the ceiling for their own vault? (Asked
    only by the key manager, which knows whether keys.db is the vault's own.)"""
    return os.environ.get(HEAVY_KDF_ENV, "").strip().lower() in ("1", "yes", "true")


def floor_parallelism() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int
    time_cost: int
    parallelism: int
    salt: bytes
    length: int = KEY_LENGTH

    def to_json(self) -> str:
        """The stored form; its exact text is bound into the key's AAD."""
        return json.dumps(
            {
                "alg": ALGORITHM,
                "v": ARGON2_VERSION,
                "m": self.memory_kib,
                "t": self.time_cost,
                "p": self.parallelism,
                "salt": base64.b64encode(self.salt).decode("ascii"),
                "len": self.length,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> KdfParams:
        """Parse and validate; raises VaultCorrupt for anything Luna would not run."""
        try:
            raw = json.loads(text)
            if raw.get("alg") != ALGORITHM or raw.get("v") != ARGON2_VERSION:
                raise ValueError(f"algorithm {raw.get('alg')!r} v{raw.get('v')!r}")
            params = cls(
                memory_kib=_int(raw["m"]),
                time_cost=_int(raw["t"]),
                parallelism=_int(raw["p"]),
                salt=base64.b64decode(raw["salt"], validate=True),
                length=_int(raw["len"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VaultCorrupt(
                f"keys.db holds key-derivation settings Luna can't read ({exc})."
            ) from None
        params.validate()
        return params

    def validate(self) -> None:
        for name, value in (("m", self.memory_kib), ("t", self.time_cost), ("p", self.parallelism)):
            low, high = _BOUNDS[name]
            if not low <= value <= high:
                raise VaultCorrupt(
                    f"keys.db asks for an impossible key derivation ({name}={value}); "
                    "Luna refused to run it. The file is damaged or was edited."
                )
        if self.memory_kib < 8 * self.parallelism:
            raise VaultCorrupt("keys.db asks for a key derivation Argon2 cannot run.")
        if not 16 <= len(self.salt) <= 64 or self.length != KEY_LENGTH:
            raise VaultCorrupt("keys.db holds a key-derivation salt or length Luna can't use.")

    @property
    def work(self) -> int:
        """Argon2's cost: memory × passes (lanes share the work, they don't add to it)."""
        return self.memory_kib * self.time_cost

    def above_ceiling(self, ceiling: Ceiling = PORTABLE_CEILING) -> str | None:
        """Which part of these parameters is above `ceiling`, in words; None if none."""
        for value, limit, what in (
            (self.memory_kib, ceiling.memory_kib, f"{self.memory_kib:,} KiB of memory"),
            (self.parallelism, ceiling.parallelism, f"{self.parallelism} lanes"),
            (self.time_cost, ceiling.time_cost, f"{self.time_cost} passes"),
            (self.work, ceiling.work,
             f"{self.memory_kib // 1024:,} MiB × {self.time_cost} passes"),
        ):
            if value > limit:
                return what
        return None

    def check_ceiling(self, *, allow_heavy: bool = False, from_backup: bool = False) -> None:
        """Refuse, before any work, parameters above the portable ceiling unless the
        caller allows heavier ones (for the vault's own keys.db only)."""
        refusal = self.ceiling_refusal(from_backup=from_backup)
        if refusal is not None and not allow_heavy:
            raise refusal

    def ceiling_refusal(self, *, from_backup: bool = False) -> KdfTooHeavy | None:
        """The sentence refusing these parameters; None when they are within the ceiling."""
        excess = self.above_ceiling()
        if excess is None:
            return None
        return too_heavy(
            f"keys.db asks for a key derivation heavier than Luna runs unasked ({excess}; "
            f"the ceiling is {PORTABLE_CEILING.describe()}), so Luna did not run it.",
            from_backup=from_backup)

    def is_at_floor(self) -> bool:
        return (
            self.memory_kib >= FLOOR_MEMORY_KIB
            and self.time_cost >= FLOOR_TIME_COST
            and self.parallelism >= floor_parallelism()
        )

    def with_new_salt(self) -> KdfParams:
        return KdfParams(self.memory_kib, self.time_cost, self.parallelism, os.urandom(SALT_LENGTH))


def too_heavy(refusal: str, *, from_backup: bool = False) -> KdfTooHeavy:
    """The refusal, and what the person can do: for their own vault, allow it; for a
    backup, nothing allows it, since the file is not known to be theirs until it opens."""
    if from_backup:
        return KdfTooHeavy(
            f"{refusal} Luna never runs more for a backup, even with {HEAVY_KDF_ENV}=1: a "
            "backup is a file from outside until it opens. If this is a backup of your own "
            "vault, made heavier on purpose, re-wrap the vault's key at the usual cost "
            "(`luna passwd`) and make a new backup.")
    return KdfTooHeavy(f"{refusal} If this is your own vault, made heavier on purpose, open "
                       f"it with {HEAVY_KDF_ENV}=1.")


def budget_refusal(tried: int, left: int, *, from_backup: bool = False) -> KdfTooHeavy:
    """The sentence for an unlock that opened none of the `tried` keys and left `left`
    more untried, because they would have taken it over `UNLOCK_BUDGET`."""
    keys = f"{tried} key{'s' if tried > 1 else ''}"
    more = f"{left} more key{'s' if left > 1 else ''}"
    return too_heavy(
        f"That secret opened none of the {keys} Luna tried, and keys.db holds {more} whose "
        "key derivation would take more work than Luna spends on one unlock (memory × "
        f"passes at most {FLOOR_MEMORY_KIB // 1024} MiB × {UNLOCK_BUDGET // FLOOR_MEMORY_KIB} "
        f"in all), so Luna did not run {'them' if left > 1 else 'it'}.",
        from_backup=from_backup)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def derive_key(secret: str, params: KdfParams, *, allow_heavy: bool = False) -> bytes:
    """Run Argon2id on an already-normalised secret; never above the ceiling unless the
    caller allows it (LUNA_ALLOW_HEAVY_KDF is not read here: see the module's docstring)."""
    params.validate()
    params.check_ceiling(allow_heavy=allow_heavy)
    from argon2.low_level import Type, hash_secret_raw  # deferred: cffi load

    return hash_secret_raw(
        secret=secret.encode("utf-8"),
        salt=params.salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=params.length,
        type=Type.ID,
        version=ARGON2_VERSION,
    )


def floor_params() -> KdfParams:
    return KdfParams(
        FLOOR_MEMORY_KIB, FLOOR_TIME_COST, floor_parallelism(), os.urandom(SALT_LENGTH)
    )


def calibrate(seconds: float = DEFAULT_KDF_SECONDS, *, allow_heavy: bool = False
              ) -> KdfParams:
    """Parameters at the floor or above whose derivation takes about `seconds`.

    Memory stays at 64 MiB (the app's memory budget is 150 MB) and the time cost grows
    linearly, which Argon2's running time does. Whatever `seconds` says, the result is
    never below the floor, and never above the portable ceiling unless `allow_heavy`:
    the default is quietly kept under it, while more seconds asked for explicitly than
    the ceiling allows are refused with a sentence rather than cut short unnoticed.
    """
    seconds = min(max(seconds, 0.0), MAX_KDF_SECONDS)
    params = floor_params()
    per_pass = _seconds_per_pass(params)
    wanted = max(FLOOR_TIME_COST, round(seconds / per_pass))
    ceiling = min(PORTABLE_CEILING.time_cost, PORTABLE_CEILING.work // params.memory_kib)
    if allow_heavy:
        time_cost = min(wanted, _BOUNDS["t"][1])
    elif wanted <= ceiling or seconds <= DEFAULT_KDF_SECONDS:
        time_cost = min(wanted, ceiling)
    else:
        raise KdfTooHeavy(
            f"{seconds:g} s of key derivation needs {wanted} passes on this machine, above "
            f"Luna's portable ceiling of {ceiling}: a vault like that could take minutes to "
            "open on a slower machine. Ask for fewer seconds, or pass --allow-heavy-kdf to "
            f"choose it anyway (every unlock then needs {HEAVY_KDF_ENV}=1).")
    return KdfParams(params.memory_kib, time_cost, params.parallelism, os.urandom(SALT_LENGTH))


def _seconds_per_pass(params: KdfParams) -> float:
    """One pass of Argon2 at `params`, timed on this machine (a duration, not a time of
    day, so the clock module is not the source here)."""
    started = time.perf_counter()
    derive_key("calibration", params)
    return max(time.perf_counter() - started, 1e-3) / params.time_cost
