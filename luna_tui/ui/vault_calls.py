"""The one seam between the app's screens and the core.

A screen reaches the vault through `self.vault` (the `UsesVault` mixin) and nothing
else of the App: the session its services are made over, whose health is shown, the
clock, whether the key may write, and how to call a service. Calls go to the DB
thread, and a failure becomes a notification with the service's own sentence and then
`ServiceFailed`, which the screen stops on. Screens tell the App what happened with
Textual messages (ui/messages.py): attributes down, messages up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from luna_tui.errors import LunaError

if TYPE_CHECKING:
    from luna_tui.clock import Clock
    from luna_tui.home import VaultLayout
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.ui.backup_jobs import BackupJobs
    from luna_tui.ui.draft_keeper import OpenDrafts

R = TypeVar("R")


class ServiceFailed(Exception):
    """A service call failed and the person has been told why (a notification)."""


class VaultHolder(Protocol):
    """What the seam reads of the App: the open vault and who is shown."""

    layout: VaultLayout
    new_vault_kdf: Any
    session: VaultSession | None
    patient_id: str | None
    clock: Clock
    backup_jobs: BackupJobs
    open_drafts: OpenDrafts

    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...
               ) -> None: ...


class VaultCalls:
    def __init__(self, holder: VaultHolder) -> None:
        self._holder = holder

    @property
    def layout(self) -> VaultLayout:
        """Where the vault's files are (the gate screens open or make it there)."""
        return self._holder.layout

    @property
    def new_vault_kdf(self) -> Any:
        """The key-derivation parameters for a vault made here (None: tuned to the
        machine; tests pass cheap ones)."""
        return self._holder.new_vault_kdf

    @property
    def session(self) -> VaultSession | None:
        """The open vault's session; None once it is locked (a screen's work that outlives
        the lock checks this before showing anything)."""
        return self._holder.session

    @property
    def open_session(self) -> VaultSession:
        """The open vault's session, for building a service; ServiceFailed if locked."""
        session = self._holder.session
        if session is None:
            raise ServiceFailed("the vault is locked")
        return session

    @property
    def patient_id(self) -> str | None:
        return self._holder.patient_id

    @property
    def clock(self) -> Clock:
        return self._holder.clock

    @property
    def backups(self) -> BackupJobs:
        """The one backup operation at a time (ui/backup_jobs.py)."""
        return self._holder.backup_jobs

    @property
    def open_drafts(self) -> OpenDrafts:
        """The drafts of the forms open now (ui/draft_keeper.py): a form's keeper joins
        them, and a lock or a quit keeps what they hold."""
        return self._holder.open_drafts

    @property
    def read_only(self) -> bool:
        session = self._holder.session
        return session is not None and session.read_only

    async def attempt(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a blocking call off the event loop; its errors are the caller's to show
        (a form shows a ValidationError under its field)."""
        session = self._holder.session
        if session is None or session.closed:
            raise ServiceFailed("the vault is locked")
        if fn == session.run:  # a closure for the DB thread
            fn, args = args[0], args[1:]
        # A service method made by services.base.on_db_thread says so (read here rather
        # than imported: the unlock screen must not wait for the services to import).
        elif not getattr(fn, "runs_on_db_thread", False):  # file or network work
            return await asyncio.to_thread(fn, *args, **kwargs)
        # One hop: the DB thread's own future, awaited. Shielded: a screen that stops
        # waiting (closed, or superseded) must not cancel a write already handed over.
        future = session.submit(fn, *args, **kwargs)
        return await asyncio.shield(asyncio.wrap_future(future))

    def begin(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> asyncio.Task[R]:
        """Hand a DB-thread service call (services.base.on_db_thread) over at once and
        give back its answer to await later, as `call` would give it: the DB thread
        works while the caller goes on building a screen. (`call` in a task hands it
        over only when the event loop next runs the task, after the building: 10-15 ms
        later.)"""
        session = self.open_session
        if session.closed:
            raise ServiceFailed("the vault is locked")
        if getattr(fn, "runs_on_db_thread", False):
            answer = asyncio.shield(asyncio.wrap_future(session.submit(fn, *args, **kwargs)))
        else:  # not the DB thread's (file or network work): as `call` hands it over
            answer = self.attempt(fn, *args, **kwargs)
        task = asyncio.ensure_future(self._told(answer))
        # Its failure is said (a notification); a task never awaited keeps quiet.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _told(self, answer: Awaitable[R]) -> R:
        try:
            return await answer
        except LunaError as error:
            self._holder.notify(str(error), severity="error", timeout=10)
            raise ServiceFailed(str(error)) from error

    async def call(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Like attempt, but a LunaError becomes a notification with its sentence, then
        ServiceFailed for the caller to stop on."""
        return await self._told(self.attempt(fn, *args, **kwargs))

    def notify(self, message: str, *, severity: str = "information",
               timeout: float | None = None) -> None:
        """Say something in a notification (for code that is not a widget)."""
        self._holder.notify(message, severity=severity, timeout=timeout)

    def refusal(self, action: str) -> str | None:
        """Why `action` ("delete an entry") cannot be done with the key the vault is open
        with; None when it can."""
        session = self._holder.session
        if session is not None and session.read_only:
            return (f"This vault is open with the read-only key '{session.key.label}', "
                    f"which cannot {action}.")
        return None

    def writable(self, action: str) -> bool:
        """False, after saying why, when the vault is open with a read-only key."""
        why = self.refusal(action)
        if why is not None:
            self._holder.notify(why, severity="warning")
            return False
        return True


class UsesVault:
    """Mixed into a Screen (or widget): `self.vault`, the seam."""

    app: Any  # Textual's, on every DOM node
    # The actions a read-only key may not take, each with what it would do ("delete an
    # entry"). The screen's check_action greys them in the footer (None); pressing their
    # key says why (`why_disabled`, asked by LunaApp.run_action).
    READ_ONLY_REFUSES: ClassVar[Mapping[str, str]] = {}

    def why_disabled(self, action: str) -> str | None:
        """The sentence for a key whose action is greyed out (None: nothing to say)."""
        what = self.READ_ONLY_REFUSES.get(action)
        return self.vault.refusal(what) if what else None

    @property
    def vault(self) -> VaultCalls:
        return self.app.vault
