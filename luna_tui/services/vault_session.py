"""An unlocked vault: the key that opened it, its DB thread and its one connection.

Every service takes a `VaultSession`. Reads go through `run` (on the DB thread);
writes go through `writing(...)`, which refuses read-only keys, opens an IMMEDIATE
transaction and hands back a recorder, so a change and its audit row commit together.
`close()` is the lock: it records the lock, closes the connection and drops the keys.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from luna_tui import __version__
from luna_tui.clock import Clock, SystemClock, utc_timestamp
from luna_tui.errors import LunaError, ReadOnlyKey, VaultBusy, VaultCorrupt
from luna_tui.home import VaultLayout, ensure_private_dir
from luna_tui.store import migrate, scratch_space
from luna_tui.store.attachment_files import storage_path
from luna_tui.store.attachment_markers import marked, remove_files, unmark
from luna_tui.store.audit_chain import AuditChain
from luna_tui.store.connection import busy_timeout_seconds, open_main
from luna_tui.store.db_thread import DbThread
from luna_tui.store.models.base import bind_database, unbind_database
from luna_tui.store.models.records import Attachment
from luna_tui.store.sqlite_errors import classify, is_database_error
from luna_tui.store.stats_counter import count_event
from luna_tui.store.sync import device_state, triggers
from luna_tui.store.sync import hlc as sync_clock
from luna_tui.store.vault_lock import VaultLock
from luna_tui.store.vault_swap import finish_interrupted_swap
from luna_tui.vault import keystore
from luna_tui.vault.key_manager import KeyManager, UnlockedKey
from luna_tui.vault.subkeys import VaultKeys

R = TypeVar("R")

# One vault per process: the models are bound to one connection at a time.
_open_session_lock = threading.Lock()
_open_session: VaultSession | None = None


def host_name() -> str:
    """This machine's name, for the audit log (os.uname avoids importing socket)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def client_description(kind: str) -> str:

    term = os.environ.get("TERM_PROGRAM") or os.environ.get("TERM") or "no terminal"
    return f"luna {__version__} {kind}; {term}"


_SESSION_KEY = "session key"


@dataclass
class Recorder:
    """Handed out inside a write transaction: writes the audit row for a change."""

    chain: Any
    key_locator: str
    events: list[str] = field(default_factory=list)

    def record(self, event_name: str, record_locator: str | None = None,
               diff: dict[str, object] | None = None, *,
               key_locator: str | None = _SESSION_KEY) -> int:
        """Audit one event; by default it is the session's key that did it."""
        self.events.append(event_name)
        locator = self.key_locator if key_locator == _SESSION_KEY else key_locator
        return self.chain.append(event_name, locator, record_locator, diff)


class VaultSession:
    def __init__(self, layout: VaultLayout, key: UnlockedKey, keys: VaultKeys, thread: Any,
                 db: Any, chain: Any, clock: Clock) -> None:
        self.layout = layout
        self.key = key
        self.keys = keys
        self.clock = clock
        self._thread = thread
        self._db = db
        self._chain = chain
        self.closed = False
        self.failed_unlocks: list[keystore.UnlockFailure] = []
        self._vault_lock: Any = None
        self._unlock_unsettled = False  # see connect's settle_later
        self._key_use_unrecorded: dt.datetime | None = None  # see open's settle_later

    # -- opening ------------------------------------------------------------------

    @classmethod
    def open(cls, layout: VaultLayout, secret: str, *, clock: Clock | None = None,
             client: str = "cli", busy_timeout: float | None = None,
             repairing: bool = False, settle_later: bool = False) -> VaultSession:
        """Unlock with a passphrase, recovery key or access key, and connect.

        `repairing`: `luna doctor --repair` opens a vault whose newest audit month is
        missing, to record the loss (any other opening refuses it).
        `settle_later`: see `connect`."""

        finish_interrupted_swap(layout)  # a restore killed half-way is completed first
        layout.require_vault()
        clock = clock or SystemClock()
        unlocked = KeyManager(layout, clock).unlock(secret, record_use_later=settle_later)
        unlocked_at = clock.now()
        session = cls.connect(layout, unlocked, clock=clock, client=client,
                              busy_timeout=busy_timeout, repairing=repairing,
                              settle_later=settle_later)
        if settle_later:  # the key's last use in keys.db, with the rest (settle_unlock)
            session._key_use_unrecorded = unlocked_at
        return session

    @classmethod
    def connect(cls, layout: VaultLayout, unlocked: UnlockedKey, *, clock: Clock | None = None,
                client: str = "cli", create: bool = False,
                busy_timeout: float | None = None, repairing: bool = False,
                settle_later: bool = False) -> VaultSession:
        """Connect with a key already unlocked (the KDF has run).

        The unlock is recorded before this returns: its audit row is committed in
        luna.db (the outbox, with the chain's head) before anything of the vault can be
        read through the session. `settle_later` (the app, whose dashboard waits for
        this): the rest of recording it, which a first screen need not wait for, is left
        to `settle_unlock` — copying the row into the audit month file and counting the
        unlock in stats.db. Each is a commit to a file of its own, and the first commit
        to a file after opening syncs it two or three times (its new WAL's header, its
        frames, the folder that holds it): six of the unlock's nine syncs."""

        global _open_session
        if repairing and unlocked.read_only:  # before the missing month is made again
            raise ReadOnlyKey(f"This vault is open with the read-only key '{unlocked.label}', "
                              "which cannot repair it.")
        clock = clock or SystemClock()
        keys = VaultKeys.from_master_key(unlocked.master_key)
        with _open_session_lock:
            if _open_session is not None and not _open_session.closed:
                raise RuntimeError("another vault is already open in this process")
            lock = VaultLock(layout.home)
            abandoned: list[str] = []  # attachments marked by processes that died
            # Held while open: no restore swaps files under us.
            lock.acquire_shared(while_alone=lambda: abandoned.extend(marked(layout)))
            thread = DbThread()
            try:
                db, chain = thread.call(
                    _open_databases, layout, keys, clock, client_description(client), create,
                    busy_timeout, repairing,
                )
            except BaseException:
                thread.shutdown()
                lock.release()
                raise
            session = cls(layout, unlocked, keys, thread, db, chain, clock)
            session._vault_lock = lock
            _open_session = session
        session._unlock_unsettled = settle_later
        try:
            session.run(session._record_unlock)
        except BaseException:
            session._disconnect()
            raise
        if not session.read_only:  # a caregiver's key removes nothing unasked
            session._tidy_up_after_crashes(abandoned)
            session.run(session._ensure_sync_capture)
        return session

    def _ensure_sync_capture(self) -> None:
        """A synced vault's capture triggers match this Luna's tables (a migration may
        have added one since): see store/sync/triggers.py."""

        connection = self._db.connection()
        if device_state.this_device(connection) is None or triggers.up_to_date(connection):
            return
        with self.transaction() as tx:
            tx.record("sync.capture", diff={"triggers": triggers.install(connection)})

    def _tidy_up_after_crashes(self, attachment_ids: list[str]) -> None:
        """What killed Luna processes left: attachment files no row owns (marked ones,
        listed while this process was alone in the vault), and the scratch of a backup or
        verify in the vault's backups folder (see store/scratch_space.py). Audited."""

        try:
            if attachment_ids:
                self.run(self._settle_interrupted, attachment_ids)
            if self.layout.backups_dir.is_dir():
                removed = scratch_space.remove_abandoned(self.layout.backups_dir)
                if removed:
                    self.run(self._record_tidied, [p.name for p in removed])
        except LunaError as error:  # the vault opened; tidying up can wait for next time
            self._chain.warnings.append(
                f"Files left by an interrupted Luna could not be removed yet ({error}).")

    def _settle_interrupted(self, attachment_ids: list[str]) -> None:
        """DB thread: a marked attachment without a row loses its file. The rows are
        read inside the write transaction (an import may be writing that id right now),
        and the files go after the audit row is committed."""

        def without_row() -> list[str]:
            return [i for i in attachment_ids
                    if Attachment.get_or_none(Attachment.id == i) is None]

        orphans = []
        if without_row():
            with self.writing("tidy up interrupted attachments") as tx:
                orphans = without_row()
                if orphans:
                    tx.record("attachments.tidied", diff={
                        "removed": orphans, "why": "a file no record owns, left by an "
                        "interrupted attach or delete"})
        remove_files(self.layout, [storage_path(i) for i in orphans])
        for attachment_id in attachment_ids:
            unmark(self.layout, attachment_id)

    def _record_tidied(self, names: list[str]) -> None:
        with self.transaction() as tx:
            tx.record("backups.tidied", diff={
                "removed": names, "why": "scratch of a backup or verify that was killed"})

    def _record_unlock(self) -> None:
        failures = keystore.pending_failures(self.layout.keys_db)
        with self.transaction(copy_audit_rows=not self._unlock_unsettled) as tx:
            for failure in failures:
                tx.record(
                    "unlock.failed",
                    diff={"attempted_at": failure.created_at, "reason": failure.reason,
                          "host": failure.host, "client": failure.client},
                    key_locator=failure.key_locator_hash,
                )
            tx.record("unlock", diff={"kind": self.key.kind, "role": self.key.role})
            if not self._unlock_unsettled:
                self._count_unlock()
        if failures:
            keystore.forget_failures(self.layout.keys_db, failures[-1].id)
        self.failed_unlocks = failures

    def _count_unlock(self) -> None:

        count_event(self.clock, "unlock")

    def settle_unlock(self) -> None:
        """What `connect(settle_later=True)` left of recording the unlock: the unlock
        counted in stats.db, and the audit rows copied from luna.db's outbox into the
        month file (what `AuditChain.flush` does after every write; until then the
        outbox holds them, which is where a kill between the two commits leaves any
        row, and every reader of the log reads it); and `open`'s, the key's last use
        in keys.db. Any write transaction before this copies the audit rows too; the
        lock settles what is left. Waits for the DB thread."""
        if (self._unlock_unsettled or self._key_use_unrecorded) and not self.closed:
            self.run(self._settle_unlock)

    def _settle_unlock(self) -> None:
        self._record_key_use()
        if not self._unlock_unsettled:
            return
        with self.transaction():  # its end copies the rows waiting in the outbox
            self._count_unlock()
        self._unlock_unsettled = False

    def _record_key_use(self) -> None:
        """The key's last use in keys.db, which `open(settle_later=True)` left: it only
        orders the keys tried at the next unlock, so a busy or full disk leaves it."""
        when, self._key_use_unrecorded = self._key_use_unrecorded, None
        if when is None:
            return
        try:
            KeyManager(self.layout, self.clock).record_use(self.key, when)
        except LunaError:
            pass

    # -- who is this --------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.key.read_only

    @property
    def audit_chain(self) -> Any:
        """The session's AuditChain (store/audit_chain.py), for doctor and backups."""
        return self._chain

    @property
    def warnings(self) -> list[str]:
        return list(self._chain.warnings)

    def require_writable(self, action: str = "change anything") -> None:
        if self.read_only:
            raise ReadOnlyKey(
                f"This vault is open with the read-only key '{self.key.label}': it can read "
                f"everything but cannot {action}."
            )

    # -- running database work ----------------------------------------------------

    def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run `fn` on the DB thread and wait; database errors arrive as LunaErrors.

        Ctrl-C interrupts the running statement, so its transaction rolls back and the
        interrupt reaches the caller; if the work had already finished, it is returned,
        because it was done (a "cancelled" that wasn't would mislead).
        """
        future = self.submit(fn, *args, **kwargs)
        try:
            return future.result()
        except KeyboardInterrupt:
            if self._db is not None:
                self._db.interrupt()
            try:
                return future.result()
            except Exception:  # noqa: BLE001 - stopped part-way: rolled back
                raise KeyboardInterrupt from None

    def submit(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> Future[R]:
        if self.closed:
            raise LunaError("The vault is locked; unlock it again to continue.")
        return self._thread.submit(_translated, self.layout.home, fn, args, kwargs)

    @contextmanager
    def transaction(self, *, copy_audit_rows: bool = True) -> Iterator[Recorder]:
        """An IMMEDIATE write transaction with its audit recorder (DB thread only).

        Nested use becomes a savepoint of the outer transaction. Its audit rows are
        copied into the month file once it commits, unless `copy_audit_rows` is False
        (the next transaction's end copies them; see connect's settle_later).
        """
        if not self._thread.is_current():
            raise RuntimeError("transactions run on the DB thread; use session.run")
        recorder = Recorder(self._chain, self.key.locator)
        if self._db.in_transaction():
            with self._db.atomic():
                yield recorder
            return
        txn = self._begin_in_current_month()
        try:
            yield recorder
        except BaseException as exc:
            _end_transaction(txn, exc)
            raise
        _end_transaction(txn, None)
        if copy_audit_rows and self._chain.rows_to_copy:  # nested writes' rows included
            self._copy_audit_rows()

    def _copy_audit_rows(self) -> None:
        """The change and its audit rows are committed in luna.db; now the month file.
        If that fails (a full disk, a busy file), the rows wait in luna.db and the next
        write copies them: the change stands, and nothing is lost."""

        try:
            self._chain.flush()
        except Exception as exc:
            if not is_database_error(exc):
                raise

    def _begin_in_current_month(self) -> Any:
        # Attach the month's audit file first (ATTACH can't run in a transaction), then
        # check under the lock that no other process has moved the chain past it.
        for _ in range(5):
            self._chain.ensure_month_attached()
            txn = self._db.atomic()
            txn.__enter__()
            try:
                current = self._chain.head_is_in_attached_month()
                if current:
                    self._chain.forget_copied_rows()
            except BaseException as error:
                _end_transaction(txn, error)  # never leave the write lock held
                raise
            if current:
                return txn
            txn.__exit__(None, None, None)
        raise VaultBusy("Another Luna process kept moving the audit log; try again.")

    @contextmanager
    def writing(self, action: str) -> Iterator[Recorder]:
        """A data change: refused for read-only keys, audited, all or nothing."""
        self.require_writable(action)
        with self.transaction() as recorder:
            yield recorder

    def data_version(self) -> int:
        """A number that changes when another connection (another Luna process) commits."""
        db = self._db
        return self.run(lambda: int(db.execute_sql("PRAGMA data_version").fetchone()[0]))

    # -- locking ------------------------------------------------------------------

    def close(self) -> None:
        """Lock: record it, close the connection (checkpointing the WAL), drop the keys."""
        if self.closed:
            return
        try:
            self.run(self._record_lock)
        except LunaError:
            pass  # a busy or full vault must not stop the lock itself
        finally:
            self._disconnect()

    def _record_lock(self) -> None:
        self._record_key_use()  # locked before the app settled the unlock
        with self.transaction() as tx:
            tx.record("lock")
            if self._unlock_unsettled:  # locked before the app settled the unlock
                self._count_unlock()
                self._unlock_unsettled = False

    def _disconnect(self) -> None:
        global _open_session

        try:
            self._thread.call(_close_database, self._db)
        finally:
            self._thread.shutdown()
            unbind_database()
            if self._vault_lock is not None:
                self._vault_lock.release()
            self.closed = True
            self.keys = None  # type: ignore[assignment]
            self.key = _locked_key(self.key)
            self._db.forget_key()
            self._db = None
            self._chain = None
            with _open_session_lock:
                if _open_session is self:
                    _open_session = None

    def __enter__(self) -> VaultSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _end_transaction(txn: Any, error: BaseException | None) -> None:
    """Commit (error None) or roll back. (A transaction SQLite already rolled back by
    itself, after a full disk, is handled by VaultDatabase.rollback.)"""
    if error is None:
        txn.__exit__(None, None, None)
    else:
        txn.__exit__(type(error), error, error.__traceback__)


def _locked_key(key: UnlockedKey) -> UnlockedKey:
    """What remains known after locking: who it was, not the master key."""
    return UnlockedKey(b"", key.vault_id, key.locator, key.label, key.kind, key.role,
                       key.expiry_date)


def _translated(home: Path, fn: Callable[..., R], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> R:

    try:
        return fn(*args, **kwargs)
    except LunaError:
        raise
    except Exception as exc:
        if is_database_error(exc):
            mapped = classify(exc, place=home)
            if mapped is not None:
                raise mapped from exc
        raise


def _open_databases(layout: VaultLayout, keys: VaultKeys, clock: Clock, client: str,
                    create: bool, busy_timeout: float | None,
                    repairing: bool) -> tuple[Any, Any]:
    """On the DB thread: connect, attach, check each file is readable, migrate."""

    timeout = busy_timeout if busy_timeout is not None else busy_timeout_seconds()
    db = _opening(layout, layout.main_db.name, open_main, layout.main_db, keys.main_db,
                  create=create, busy_timeout=timeout)
    try:
        if not create and _opening(layout, layout.main_db.name, db.table_count) == 0:
            raise VaultCorrupt(f"{layout.main_db.name} holds no tables; restore it from a backup.")
        stats_missing = not create and (
            not layout.stats_db.exists() or layout.stats_db.stat().st_size == 0
        )
        _opening(layout, layout.stats_db.name, db.attach_encrypted, layout.stats_db, "stats",
                 keys.stats_db, create=True)
        _opening(layout, layout.stats_db.name, db.table_count, "stats")
        bind_database(db)
        sync_clock.register(db, clock)  # the capture triggers' clock (store/sync/hlc.py)
        _opening(layout, "luna.db", _migrate_all, db, layout, keys, clock, create,
                 unknown_is_damage=False)
        chain = AuditChain(db, layout, keys.audit_db, keys.audit_mac, clock, host_name(),
                           client, accept_missing_month=repairing)
        _opening(layout, "the current audit month", chain.ensure_month_attached)
        if stats_missing:
            chain.warnings.append("stats.db was missing and has been started afresh.")
        return db, chain
    except BaseException:
        unbind_database()
        db.close()
        raise


def _opening(layout: VaultLayout, what: str, fn: Callable[..., R], *args: Any,
             unknown_is_damage: bool = True, **kwargs: Any) -> R:
    """Run one opening step; a database error names the file it came from. A full disk
    or a busy vault is said as such; any other database error is the file's damage,
    unless `unknown_is_damage` is False (a migration: a bug must not read as damage)."""

    try:
        return fn(*args, **kwargs)
    except LunaError:
        raise
    except Exception as exc:
        if not is_database_error(exc):
            raise
        mapped = classify(exc, what, place=layout.home)
        if mapped is None and not unknown_is_damage:
            raise
        if mapped is None or isinstance(mapped, VaultCorrupt):
            raise VaultCorrupt(
                f"{what} can't be read with this vault's key: it is damaged or truncated "
                f"({exc}). The passphrase was right. Restore the file from a backup."
            ) from exc
        raise mapped from exc


def _migrate_all(db: Any, layout: VaultLayout, keys: VaultKeys, clock: Clock,
                 create: bool) -> None:

    for name, schema, key, path in (
        (migrate.MAIN, "main", keys.main_db, layout.main_db),
        (migrate.STATS, "stats", keys.stats_db, layout.stats_db),
    ):
        if not migrate.pending_migrations(db, name):
            continue
        if not create and migrate.applied_migrations(db, name):
            # Before taking the write lock: the backup API can't copy a database its
            # own connection is writing to.
            stamp = utc_timestamp(clock.now()).replace(":", "").replace("-", "")[:15]
            folder = layout.backups_dir / f"pre-migration-{stamp}"
            ensure_private_dir(layout.backups_dir)
            migrate.copy_before_migrating(db, schema, key, folder / path.name)
        # Two processes opening an old vault at once: the write lock lets one migrate;
        # the other finds nothing pending once it gets the lock.
        with db.atomic():
            if migrate.pending_migrations(db, name):
                migrate.migrate(db, name, clock)


def _close_database(db: Any) -> None:
    if not db.is_closed():
        db.close()
