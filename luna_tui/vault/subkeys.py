"""One master key, many sub-keys: HKDF-SHA256(master key, info=purpose).

One key, one purpose: the databases, the attachments, the audit chain's MAC and the
backups each get their own, so no key is ever used in two constructions.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

MAIN_DB = b"luna/main"
AUDIT_DB = b"luna/audit"
STATS_DB = b"luna/stats"
ATTACHMENTS = b"luna/attachments"
AUDIT_MAC = b"luna/audit-mac"
BACKUP = b"luna/backup"
KEY_LABELS = b"luna/key-labels"
MASTER_KEY_CHECK = b"luna/master-key-check"
SYNC = b"luna/sync"  # change files and device state in a sync folder (services/sync/)


def derive_subkey(master_key: bytes, purpose: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


def master_key_check(master_key: bytes) -> str:
    """A commitment to the master key, stored in keys.db.

    The master key is 256 random bits, so this is no help to a guesser; it lets Luna
    tell "this key row belongs to another vault" from "the database is damaged".
    """
    check_key = derive_subkey(master_key, MASTER_KEY_CHECK)
    return hmac.new(check_key, b"check", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VaultKeys:
    """The sub-keys an unlocked session needs. Python cannot wipe them from memory;
    locking drops every reference (README, Security)."""

    main_db: bytes
    audit_db: bytes
    stats_db: bytes
    attachments: bytes
    audit_mac: bytes
    backup: bytes

    @classmethod
    def from_master_key(cls, master_key: bytes) -> VaultKeys:
        return cls(
            main_db=derive_subkey(master_key, MAIN_DB),
            audit_db=derive_subkey(master_key, AUDIT_DB),
            stats_db=derive_subkey(master_key, STATS_DB),
            attachments=derive_subkey(master_key, ATTACHMENTS),
            audit_mac=derive_subkey(master_key, AUDIT_MAC),
            backup=derive_subkey(master_key, BACKUP),
        )

    def __repr__(self) -> str:  # never print key material, even in a debugger or a log
        return "VaultKeys(<redacted>)"
