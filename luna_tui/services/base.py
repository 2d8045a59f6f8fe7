"""What every domain service shares: its session, the time, the DB thread, and how a
change is described in the audit log."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from luna_tui.clock import utc_timestamp
from luna_tui.services.vault_session import VaultSession

F = TypeVar("F", bound=Callable[..., Any])


def on_db_thread(method: F) -> F:
    """Run a service method on the vault's DB thread (inline if already there)."""

    @functools.wraps(method)
    def wrapper(self: DomainService, *args: Any, **kwargs: Any) -> Any:
        return self.session.run(method, self, *args, **kwargs)

    wrapper.runs_on_db_thread = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def runs_on_db_thread(fn: Callable[..., Any]) -> bool:
    """Whether `fn` (a function or bound method) is a service method made for the DB
    thread: the app then hands it to that thread itself and awaits its future, rather
    than blocking a worker thread on it."""
    return bool(getattr(fn, "runs_on_db_thread", False))


def new_id() -> str:
    return str(uuid.uuid4())


def id_from_prefix(id_field: Any, typed: str, noun: str) -> str:
    """The id a person means (DB thread): the whole id, or a beginning of it that only
    one row has. `noun` names the row in the sentences ("record", "attachment")."""
    import re

    from luna_tui.errors import NotFound, ValidationError

    text = str(typed or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f-]{4,36}", text):
        raise ValidationError(f"'{typed}' is not {noun} id: give at least its first 4 "
                              "characters.", noun)
    ids = [row.id for row in id_field.model.select(id_field)
           .where(id_field.startswith(text)).limit(2)]
    if not ids:
        raise NotFound(f"No {noun.split()[-1]} has the id {typed}.")
    if len(ids) > 1:
        raise ValidationError(f"More than one {noun.split()[-1]}'s id starts with {typed}; "
                              "give more of it.", noun)
    return ids[0]


class DomainService:
    def __init__(self, session: VaultSession) -> None:
        self.session = session

    def stamp(self) -> str:
        """Now, as stored in created_at / updated_at."""
        return utc_timestamp(self.session.clock.now())

    def local_now(self) -> dt.datetime:
        """Now in the local time zone, naive: dates and times people see and type."""
        return self.session.clock.now().astimezone().replace(tzinfo=None)

    def today(self) -> dt.date:
        return self.local_now().date()


def audit_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
               free_text: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for every field that changed.

    Free text (an entry's content, notes) is described by its length, not copied: the
    audit log keeps rows forever, and deleting an entry must really delete its words.
    """
    before, after = before or {}, after or {}
    diff: dict[str, list[Any]] = {}
    for field in sorted(set(before) | set(after)):
        if field in ("created_at", "updated_at"):
            continue
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if field in free_text:
            old, new = _described(old), _described(new)
        diff[field] = [old, new]
    return diff


def _described(text: Any) -> str | None:
    if text is None:
        return None
    return f"<{len(str(text))} characters>"
