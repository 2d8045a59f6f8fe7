"""The app opened by a running Luna agent, only when the vault's setting
`agent.unlocks_app` is on (off by default).

The app needs the vault's keys to open its own connection: there is no way to open it
"by the agent's word" alone. So with the setting on, the agent hands the master key of
its unlock to the app at start (a same-user process, over the agent's 0600 socket, peer
uid checked), audited as `agent.app_unlock`. The trade-off, said in README, Security:
any process of this user can then obtain the master key from an unlocked agent, not
just ask it to run commands — so it could write without audit rows. It is refused for a
read-only key (the master key would let the app write past the role) and offered only
at the app's start, never after a lock. With the setting off (the default) the key
never leaves the agent.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from luna_tui import agent_link
from luna_tui.clock import Clock
from luna_tui.home import VaultLayout
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.vault.key_manager import UnlockedKey

SETTING = "agent.unlocks_app"


def key_for_app(session: VaultSession) -> dict[str, Any]:
    """The agent's answer to an app asking to open without the passphrase."""
    if not Settings(session).get(SETTING):
        return {"ok": False, "error": f"the setting {SETTING} is off"}
    if session.read_only:
        return {"ok": False, "error": "a read-only key's agent does not open the app"}
    session.run(_record_handoff, session)
    key = session.key
    return {"ok": True, "master_key": key.master_key.hex(), "vault_id": key.vault_id,
            "locator": key.locator, "label": key.label, "kind": key.kind, "role": key.role,
            "expiry_date": key.expiry_date.isoformat() if key.expiry_date else None}


def _record_handoff(session: VaultSession) -> None:
    with session.transaction() as tx:
        tx.record("agent.app_unlock", diff={"why": f"{SETTING} is on"})


def open_from_agent(layout: VaultLayout, clock: Clock, client: str = "tui"
                    ) -> VaultSession | None:
    """The vault opened with the unlock of its agent, or None (no agent, locked, the
    setting off, a read-only key, or anything else amiss: the person types instead)."""
    try:
        answer = agent_link.request(layout.home, "app_unlock")
    except (OSError, ValueError, agent_link.AgentUnsafe):
        return None
    if not answer or not answer.get("ok"):
        return None
    try:
        expiry = answer.get("expiry_date")
        unlocked = UnlockedKey(bytes.fromhex(answer["master_key"]), str(answer["vault_id"]),
                               str(answer["locator"]), str(answer["label"]),
                               str(answer["kind"]), str(answer["role"]),
                               dt.date.fromisoformat(expiry) if expiry else None)
    except (KeyError, TypeError, ValueError):
        return None  # not an agent's answer
    return VaultSession.connect(layout, unlocked, clock=clock, client=client)


FOLLOWS = "agent.follows_app"
# A waiting agent unlocked by the app holds the key as long as `luna unlock`'s defaults.
FOLLOW_FOR_SECONDS, FOLLOW_IDLE_SECONDS = 8 * 3600, 30 * 60


def agent_may_follow(session: VaultSession) -> bool:
    """Whether a waiting agent of this vault should follow the app's unlock: the setting
    `agent.follows_app` is on (off by default; turned on only where the passphrase is
    typed, like `agent.unlocks_app`) and an agent's socket is there."""
    return (os.path.exists(agent_link.socket_path(session.layout.home))
            and bool(Settings(session).get(FOLLOWS)))


def unlock_waiting_agent(home: os.PathLike[str] | str, secret: str) -> bool:
    """After the app opened with `secret`: the waiting agent of the vault at `home`
    (`luna agent --wait`, say from `luna remind --install`'s login unit) unlocks too,
    deriving the key itself as for `luna unlock`. True if it did; anything amiss (no
    agent, one unlocked already, a refusal) leaves it as it was."""
    try:
        status = agent_link.request(home, "status")
        if not status or status.get("unlocked"):
            return False
        answer = agent_link.request(home, "unlock", secret=secret, idle=FOLLOW_IDLE_SECONDS,
                                    **{"for": FOLLOW_FOR_SECONDS})
    except (OSError, ValueError, agent_link.AgentUnsafe):
        return False
    return bool(answer and answer.get("ok"))
