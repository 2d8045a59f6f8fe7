"""Keys Luna makes for people: the recovery key and read-only access keys.

Thirty Crockford base32 characters (150 random bits) and two check characters, shown as
eight groups of four: `K7QF 2M9D XW3R 8PTA HN4C 0ZQ6 RB1E 5YV9`. Crockford's alphabet
has no I, L, O or U, ignores case, and reads I/L as 1 and O as 0, so a key read aloud
over the phone survives. The check characters tell a key with a typo from a passphrase,
so the person hears "typo" rather than "wrong passphrase".
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DATA_CHARS = 30
_CHECK_CHARS = 2
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_generated_key() -> str:
    """A fresh key in its canonical (ungrouped, upper-case) form."""
    value = secrets.randbits(5 * _DATA_CHARS)
    data = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in range(_DATA_CHARS))
    return data + _check(data)


def _check(data: str) -> str:
    digest = int.from_bytes(hashlib.sha256(data.encode("ascii")).digest()[:2], "big")
    return ALPHABET[(digest >> 5) & 31] + ALPHABET[digest & 31]


def canonical_form(text: str) -> str | None:
    """The canonical key if `text` is a well-formed generated key, else None."""
    compact = "".join(ch for ch in text.upper() if ch not in " -\t\n").translate(_ALIASES)
    if len(compact) != _DATA_CHARS + _CHECK_CHARS or any(ch not in ALPHABET for ch in compact):
        return None
    data, check = compact[:_DATA_CHARS], compact[_DATA_CHARS:]
    return compact if _check(data) == check else None


def looks_like_generated_key(text: str) -> bool:
    """The right length and alphabet, whether or not the check characters agree."""
    compact = "".join(ch for ch in text.upper() if ch not in " -\t\n").translate(_ALIASES)
    return len(compact) == _DATA_CHARS + _CHECK_CHARS and all(ch in ALPHABET for ch in compact)


def grouped(key: str) -> str:
    """`K7QF 2M9D XW3R 8PTA HN4C 0ZQ6 RB1E 5YV9`: easy to copy and to read aloud."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
