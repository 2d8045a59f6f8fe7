"""This device's row in `sync_device`, and the other devices' in `sync_peer`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Device:
    device_id: str
    folder: str
    next_seq: int
    folded_seq: int
    last_hlc: int


def this_device(connection: Any) -> Device | None:
    """None until `luna sync setup` (or in a vault opened by a Luna older than sync)."""
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                              "name = 'sync_device'").fetchone():
        return None
    row = connection.execute(
        "SELECT device_id, folder, next_seq, folded_seq, last_hlc FROM sync_device").fetchone()
    return Device(*row) if row else None


def start(connection: Any, device_id: str, folder: str, created_at: str) -> None:
    connection.execute("DELETE FROM sync_device")
    connection.execute(
        "INSERT INTO sync_device (id, device_id, folder, created_at) VALUES (1, ?, ?, ?)",
        (device_id, folder, created_at))


def saw_clock(connection: Any, hlc: int) -> None:
    connection.execute("UPDATE sync_device SET last_hlc = max(last_hlc, ?)", (hlc,))


def applied_seq(connection: Any, device_id: str) -> int:
    row = connection.execute("SELECT applied_seq FROM sync_peer WHERE device_id = ?",
                             (device_id,)).fetchone()
    return int(row[0]) if row else 0


def record_applied(connection: Any, device_id: str, seq: int, seen_at: str) -> None:
    connection.execute(
        "INSERT INTO sync_peer (device_id, applied_seq, last_seen) VALUES (?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET applied_seq = excluded.applied_seq, "
        "last_seen = excluded.last_seen", (device_id, seq, seen_at))


def peers(connection: Any) -> list[tuple[str, int, str | None, bool]]:
    rows = connection.execute("SELECT device_id, applied_seq, last_seen, forgotten "
                              "FROM sync_peer ORDER BY device_id").fetchall()
    return [(d, int(s), seen, bool(f)) for d, s, seen, f in rows]


def forget(connection: Any, device_id: str) -> bool:
    cursor = connection.execute("UPDATE sync_peer SET forgotten = 1 WHERE device_id = ?",
                                (device_id,))
    return cursor.rowcount > 0
