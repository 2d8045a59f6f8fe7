"""What the welcome screen says while a vault is made: how strong the passphrase being
typed is, and the recovery key in groups a person can copy down."""

from __future__ import annotations

from luna_tui.vault.generated_keys import grouped
from luna_tui.vault.passphrase_policy import Strength, estimate


def passphrase_strength(passphrase: str) -> Strength:
    """Score 0–4, a label, advice, and whether Luna accepts it (the rule `init` uses)."""
    return estimate(passphrase)


def recovery_key_groups(recovery_key: str) -> list[str]:
    """The recovery key as the groups it is shown and typed in."""
    return grouped(recovery_key).split()
