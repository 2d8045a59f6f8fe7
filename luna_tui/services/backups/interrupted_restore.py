"""Finishing a restore that was stopped half-way (killed, a power cut), before anything
else opens the vault: the swap of folders is completed or undone (store/vault_swap.py),
so one whole vault is in place. Light on purpose: it runs before the unlock screen."""

from __future__ import annotations

from luna_tui.home import VaultLayout
from luna_tui.store.vault_swap import finish_interrupted_swap


def finish_interrupted_restore(layout: VaultLayout) -> None:
    finish_interrupted_swap(layout)
