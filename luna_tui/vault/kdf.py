"""Argon2id: turning a passphrase into a key-encryption key.

Parameters are always explicit (`hash_secret_raw`, never the library's defaults, which
change between releases), stored with each wrapped key, and validated before they are
used: absurd values in a damaged or edited keys.db are refused instead of being run.
At creation they are calibrated so one derivation takes about `seconds`, never below
RFC 9106's second recommended option (m = 64 MiB, t = 3, p = min(4, cores)).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass

from luna_tui.errors import VaultCorrupt

ALGORITHM = "argon2id"
ARGON2_VERSION = 19  # 0x13
KEY_LENGTH = 32
SALT_LENGTH = 16

FLOOR_MEMORY_KIB = 64 * 1024
FLOOR_TIME_COST = 3
DEFAULT_KDF_SECONDS = 0.5
MAX_KDF_SECONDS = 10.0

# What a stored parameter set may say before we agree to run it. The lower bounds are
# Argon2's own minimums (tests use cheap parameters); the floor above applies to
# every vault Luna creates outside the tests. The upper bounds stop a damaged file
# from asking for terabytes of memory or hours of work.
_BOUNDS = {
    "m": (8, 2 * 1024 * 1024),  # KiB: up to 2 GiB
    "t": (1, 200),
    "p": (1, 16),
}


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

    def is_at_floor(self) -> bool:
        return (
            self.memory_kib >= FLOOR_MEMORY_KIB
            and self.time_cost >= FLOOR_TIME_COST
            and self.parallelism >= floor_parallelism()
        )

    def with_new_salt(self) -> KdfParams:
        return KdfParams(self.memory_kib, self.time_cost, self.parallelism, os.urandom(SALT_LENGTH))


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def derive_key(secret: str, params: KdfParams) -> bytes:
    """Run Argon2id on an already-normalised secret."""
    params.validate()
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


def calibrate(seconds: float = DEFAULT_KDF_SECONDS) -> KdfParams:
    """Parameters at the floor or above whose derivation takes about `seconds`.

    Memory stays at 64 MiB (the app's memory budget is 150 MB) and the time cost grows
    linearly, which Argon2's running time does. Whatever `seconds` says, the result is
    never below the floor.
    """
    seconds = min(max(seconds, 0.0), MAX_KDF_SECONDS)
    params = floor_params()
    started = time.perf_counter()
    derive_key("calibration", params)
    one_run = max(time.perf_counter() - started, 1e-3)
    per_pass = one_run / params.time_cost
    time_cost = max(FLOOR_TIME_COST, min(_BOUNDS["t"][1], round(seconds / per_pass)))
    return KdfParams(params.memory_kib, time_cost, params.parallelism, os.urandom(SALT_LENGTH))
