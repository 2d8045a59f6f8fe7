"""A change file: AES-256-GCM under the sync sub-key, bound to where it belongs.

    file = b"LUNASYNC1\\n" ‖ nonce (12) ‖ ciphertext+tag
    aad  = b"LUNASYNC1\\n" ‖ vault id ‖ 0x00 ‖ device id ‖ 0x00 ‖ seq (decimal)
    plaintext = zlib(JSON {"format", "schema", "device", "seq", "changes": [...]})

Because the vault, the device and the sequence number are in the associated data, a
file that was changed, cut short, renamed into another place in the sequence, copied
into another device's subfolder or from another vault fails to open, and is refused
with a sentence. The device state file (`state.sealed`) is sealed the same way with
seq 0 and a different magic.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from luna_tui.errors import SyncFileRefused
from luna_tui.vault.aead import InvalidSeal, open_sealed, seal

CHANGE_MAGIC = b"LUNASYNC1\n"
STATE_MAGIC = b"LUNASTATE1\n"
FORMAT = 1


def _aad(magic: bytes, vault_id: str, device_id: str, seq: int) -> bytes:
    return magic + vault_id.encode() + b"\0" + device_id.encode() + b"\0" + str(seq).encode()


def seal_payload(key: bytes, vault_id: str, device_id: str, seq: int, payload: dict[str, Any],
                 *, magic: bytes = CHANGE_MAGIC) -> bytes:
    plain = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
    return magic + seal(key, plain, _aad(magic, vault_id, device_id, seq))


def open_payload(key: bytes, vault_id: str, device_id: str, seq: int, data: bytes, name: str,
                 *, magic: bytes = CHANGE_MAGIC) -> dict[str, Any]:
    refused = SyncFileRefused(
        f"The sync file {name} from device {device_id} was changed, cut short, renamed or "
        "copied from elsewhere, so Luna refused it and applies nothing more from that "
        "device until the device writes it again (or `luna sync forget` it).")
    if not data.startswith(magic):
        raise refused
    try:
        plain = open_sealed(key, data[len(magic):], _aad(magic, vault_id, device_id, seq))
        payload = json.loads(zlib.decompress(plain))
    except (InvalidSeal, zlib.error, ValueError) as exc:
        raise refused from exc
    if not isinstance(payload, dict) or payload.get("device") != device_id or \
            payload.get("seq") != seq:
        raise refused
    return payload
