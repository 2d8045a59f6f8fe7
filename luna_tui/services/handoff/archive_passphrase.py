"""The passphrase of a hand-off archive: made by Luna, shown once, never stored.

Six groups of four characters from Crockford's base32 alphabet (120 random bits, as
vault/generated_keys.py makes its keys): no I, L, O or U to misread, upper case only,
and hyphens rather than spaces, because a zip's password is matched byte for byte
and a space is easy to lose when it is typed into 7-Zip.
"""

from __future__ import annotations

import secrets

from luna_tui.vault.generated_keys import ALPHABET

GROUPS = 6
GROUP_LENGTH = 4


def new_archive_passphrase() -> str:
    """`K7QF-2M9D-XW3R-8PTA-HN4C-0ZQ6`: a fresh one for each archive."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH))
                    for _ in range(GROUPS))
