"""The hybrid logical clock: one integer, milliseconds since the epoch shifted left 16
bits plus a counter, so it follows the wall clock yet never runs backwards, and a
device that has seen a later clock from another device counts on from it.

The capture triggers call `luna_sync_hlc(last)` with the newest clock the vault holds
(its outbox's last, or sync_device.last_hlc); the function is registered on every
connection a session opens, with the session's clock.
"""

from __future__ import annotations

from collections.abc import Callable

from luna_tui.clock import Clock

FUNCTION = "luna_sync_hlc"
COUNTER_BITS = 16


def physical(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000) << COUNTER_BITS


def next_clock(clock: Clock, last: int | None) -> int:
    return max(physical(clock), (last or 0) + 1)


def sql_function(clock: Clock) -> Callable[[int | None], int]:
    def luna_sync_hlc(last: int | None) -> int:
        return next_clock(clock, last)

    return luna_sync_hlc


def register(db: object, clock: Clock) -> None:
    """Make `luna_sync_hlc` callable on `db` (a Peewee database), now and on reconnect."""
    db.register_function(sql_function(clock), FUNCTION, 1)  # type: ignore[attr-defined]


def newer(a: tuple[int, str], b: tuple[int, str]) -> bool:
    """Clocks tie-break on the device id, so every device orders any two the same way."""
    return a > b
