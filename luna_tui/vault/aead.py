"""AES-256-GCM sealing: `nonce ‖ ciphertext+tag`, with associated data.

Used to wrap the master key under a passphrase-derived key, and to seal small values
(key labels) under sub-keys. A failed open is `InvalidSeal`, never garbage: callers
decide what it means (a wrong passphrase, a damaged file).
"""

from __future__ import annotations

import os

NONCE_LENGTH = 12


class InvalidSeal(Exception):
    """The key is wrong, or the sealed bytes or their associated data were changed."""


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # deferred: heavy

    nonce = os.urandom(NONCE_LENGTH)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(sealed) < NONCE_LENGTH + 16:
        raise InvalidSeal("too short")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_LENGTH], sealed[NONCE_LENGTH:], associated_data)
    except InvalidTag as exc:
        raise InvalidSeal("authentication failed") from exc
