"""`luna sync`: write this device's new changes into its subfolder, then apply the other
devices' change files, each in sequence and each in one transaction.

Writing: the outbox is folded into this device's clocks, taken whole into change file
`next_seq` (attachment files copied beside it first), and removed in the transaction
that advances `next_seq`. A kill after the file is renamed into place but before that
commit finds the file there next time: the rows it holds are removed and the sequence
moves on, so nothing is written twice under two numbers, and nothing is lost.

Applying: a device's files are applied from the one after the last applied, in order;
a missing number waits (a syncer still carrying it), never skips. A file that fails to
open is refused with a sentence and stops that device's files; one from a newer schema
stops everything: "update Luna on this device first". Each file is applied in one
transaction with its audit row ("sync.applied"), so it is applied whole or not at all,
and recorded as applied in that same transaction, so never twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luna_tui.clock import utc_timestamp
from luna_tui.errors import LunaError, NotSynced, ReadOnlyKey, SyncFileRefused, SyncTooNew
from luna_tui.fault_points import pause_here
from luna_tui.services.sync.change_files import (
    FORMAT,
    STATE_MAGIC,
    open_payload,
    seal_payload,
)
from luna_tui.services.sync.folder import (
    SyncFolder,
    copy_atomically,
    remove_temp_files,
    write_atomically,
)
from luna_tui.services.sync.keys import share_keys, take_keys
from luna_tui.services.vault_session import VaultSession
from luna_tui.store import migrate
from luna_tui.store.models.base import database
from luna_tui.store.sync import device_state, outbox
from luna_tui.store.sync.changes import Change
from luna_tui.store.sync.device_state import Device
from luna_tui.store.sync.merge import ATTACHMENTS, Merger
from luna_tui.store.sync.tables import synced_tables
from luna_tui.store.vitals_bulk import bulk_cache
from luna_tui.vault.subkeys import SYNC, derive_subkey

# A change file holds at most this many changes: a 100,000-row import becomes a few
# files that each apply in one transaction of bounded size.
CHANGES_PER_FILE = 20_000
# How stale this device's state file (its "last synced") may get while nothing changes.
STATE_FRESH_FOR = dt.timedelta(hours=1)


@dataclass
class SyncReport:
    written: int = 0  # changes written into this device's subfolder
    files_written: int = 0
    applied: dict[str, int] = field(default_factory=dict)  # device → files applied
    waiting: list[str] = field(default_factory=list)  # sentences: a gap, a pending row
    refused: list[str] = field(default_factory=list)  # sentences: a refused file

    @property
    def files_applied(self) -> int:
        return sum(self.applied.values())


def sync_key(session: VaultSession) -> bytes:
    return derive_subkey(session.key.master_key, SYNC)


def refuse_read_only(session: VaultSession) -> None:
    if session.read_only:
        raise ReadOnlyKey(
            f"This vault is open with the read-only key '{session.key.label}'. Sync is not "
            "offered to a read-only key: it unwraps the same master key, so it could write "
            "change files as well as read them.")


def connection() -> Any:
    return database.connection()


def this_device(session: VaultSession) -> Device:
    device = session.run(lambda: device_state.this_device(connection()))
    if device is None:
        raise NotSynced("Sync is not set up for this vault; start with `luna sync setup FOLDER`.")
    return device


class Syncer:
    """One round of sync for an unlocked session."""

    def __init__(self, session: VaultSession) -> None:
        refuse_read_only(session)
        self.session = session
        self.device = this_device(session)
        self.folder = SyncFolder(Path(self.device.folder))
        self.key = sync_key(session)
        self.vault_id = session.key.vault_id

    def run(self) -> SyncReport:
        if not self.folder.path.is_dir():
            raise LunaError(f"The sync folder {self.folder.path} is not there; is the drive or "
                            "the syncer's folder missing?")
        report = SyncReport()
        remove_temp_files(self.folder.device_dir(self.device.device_id))
        self.write_own(report)
        share_keys(self.session, self.folder, self.device.device_id, self.key)
        self.apply_others(report)
        self.write_state()
        return report

    # -- writing ------------------------------------------------------------------------

    def write_own(self, report: SyncReport) -> None:
        while True:
            written = self.session.run(self._write_one_file)
            if not written:
                return
            report.written += written
            report.files_written += 1

    def _write_one_file(self) -> int:
        with self.session.writing("sync") as tx:
            conn = connection()
            outbox.fold(conn)
            device = device_state.this_device(conn)
            assert device is not None
            seq = device.next_seq
            path = self.folder.change_path(device.device_id, seq)
            if path.exists():  # written by a sync killed before it could commit
                payload = self._open(device.device_id, seq, path)
                if not _from_this_outbox(conn, payload):
                    raise LunaError(
                        f"The sync folder already has this device's change file {seq}, "
                        "with changes this vault never made: the vault is older than the "
                        "folder (restored from a backup?). Make this device again with "
                        "`luna sync join` into an empty LUNA_HOME; nothing was written.")
                outbox.remove_taken(conn, int(payload["outbox_last"]))
                conn.execute("UPDATE sync_device SET next_seq = ?", (seq + 1,))
                return len(payload["changes"])
            changes, last = outbox.take(conn, CHANGES_PER_FILE)
            if not changes:
                return 0
            self._copy_attachment_files(device.device_id, changes)
            payload = {"format": FORMAT, "schema": _schema(), "device": device.device_id,
                       "seq": seq, "outbox_last": last,
                       "changes": [c.to_list() for c in changes]}
            write_atomically(path, seal_payload(self.key, self.vault_id, device.device_id,
                                                seq, payload))
            pause_here("sync.file-written")
            outbox.remove_taken(conn, last)
            conn.execute("UPDATE sync_device SET next_seq = ?", (seq + 1,))
            tx.record("sync.written", record_locator=f"{device.device_id}/{seq}",
                      diff={"changes": len(changes)})
            return len(changes)

    def _copy_attachment_files(self, device_id: str, changes: list[Change]) -> None:
        for change in changes:
            if change.table != ATTACHMENTS or not change.cols or \
                    "storage_path" not in change.cols:
                continue
            source = self.session.layout.home / change.cols["storage_path"]
            target = self.folder.blob_path(device_id, change.key)
            if source.is_file() and not target.exists():
                copy_atomically(source, target)

    # -- applying -----------------------------------------------------------------------

    def apply_others(self, report: SyncReport) -> None:
        forgotten = {d for d, _s, _seen, gone in
                     self.session.run(lambda: device_state.peers(connection())) if gone}
        devices = [d for d in self.folder.devices()
                   if d != self.device.device_id and d not in forgotten]
        for device_id in devices:
            try:
                report.waiting += take_keys(self.session, self.folder, device_id,
                                            self.key).kept
            except SyncFileRefused as refused:
                report.refused.append(str(refused))
        # A file may need a row another device's file brings (a patient made there): the
        # devices go round again while any of them moves on.
        blocked: dict[str, str] = {}
        moving = True
        while moving:
            moving = False
            for device_id in devices:
                if device_id in blocked and blocked[device_id] == "refused":
                    continue
                before = report.applied.get(device_id, 0)
                try:
                    self._apply_device(device_id, report)
                    blocked.pop(device_id, None)
                except SyncFileRefused as refused:
                    report.refused.append(str(refused))
                    blocked[device_id] = "refused"
                except Exception as error:
                    if type(error).__name__ != "IntegrityError":
                        raise
                    blocked[device_id] = (
                        f"Device {device_id}'s next change file needs changes that have not "
                        f"arrived yet ({error}); it waits for them.")
                moving = moving or report.applied.get(device_id, 0) > before
        report.waiting += [why for why in blocked.values() if why != "refused"]
        report.waiting = list(dict.fromkeys(report.waiting))  # each said once

    def _apply_device(self, device_id: str, report: SyncReport) -> None:
        applied = self.session.run(lambda: device_state.applied_seq(connection(), device_id))
        available = [s for s in self.folder.change_seqs(device_id) if s > applied]
        seq = applied + 1
        while seq in available:
            payload = self._open(device_id, seq, self.folder.change_path(device_id, seq))
            if payload.get("schema") not in self.session.run(_known_schemas):
                raise SyncTooNew(
                    f"Device {device_id} writes changes in a newer format than this Luna "
                    "knows: update Luna on this device first. Nothing of them was applied.")
            self._apply_file(device_id, seq, payload)
            report.applied[device_id] = report.applied.get(device_id, 0) + 1
            seq += 1
        if available and seq <= max(available):
            report.waiting.append(
                f"Device {device_id}'s change file {seq} has not arrived yet; later ones "
                "wait for it.")

    def _apply_file(self, device_id: str, seq: int, payload: dict[str, Any]) -> None:
        changes = [Change.from_list(item) for item in payload["changes"]]
        merged = self.session.run(self._merge_file, device_id, seq, changes)
        for path in merged.files_to_remove:
            path.unlink(missing_ok=True)

    def _merge_file(self, device_id: str, seq: int, changes: list[Change]) -> Any:
        with self.session.writing("apply changes from another device") as tx, bulk_cache():
            conn = connection()
            conn.execute("INSERT INTO sync_applying (id) VALUES (1)")
            outbox.fold(conn)
            merger = Merger(conn, self.device.device_id, synced_tables(conn),
                            self.session.layout.home, self.folder.find_blob)
            for change in changes:
                merger.merge(change, device_id)
            merger.settle_pending()
            if changes:
                device_state.saw_clock(conn, max(c.hlc for c in changes))
            device_state.record_applied(conn, device_id, seq,
                                        utc_timestamp(self.session.clock.now()))
            tx.record("sync.applied", record_locator=f"{device_id}/{seq}",
                      diff={"changes": len(changes), "changed": merger.result.applied,
                            "waiting": merger.result.waiting})
            pause_here("sync.applying")
            conn.execute("DELETE FROM sync_applying")
            return merger.result

    def _open(self, device_id: str, seq: int, path: Path) -> dict[str, Any]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SyncFileRefused(f"The sync file {path.name} from device {device_id} could "
                                  f"not be read ({exc.strerror}).") from exc
        return open_payload(self.key, self.vault_id, device_id, seq, data, path.name)

    # -- this device's state, for the others ---------------------------------------------

    def write_state(self) -> None:
        """What this device has applied (the others' compaction waits for it) and when it
        last synced (their `luna sync status`)."""
        peers = self.session.run(lambda: device_state.peers(connection()))
        device = this_device(self.session)
        now = self.session.clock.now()
        state = {"device": device.device_id, "seq": 0, "next_seq": device.next_seq,
                 "written_at": utc_timestamp(now),
                 "applied": {d: s for d, s, _seen, _gone in peers}}
        last = read_state(self.session, self.folder, device.device_id)
        if last is not None and _same_but_time(last, state) and \
                last["written_at"] > utc_timestamp(now - STATE_FRESH_FOR):
            return  # a round that changed nothing rewrites it once an hour, not each minute
        write_atomically(self.folder.state_path(device.device_id),
                         seal_payload(self.key, self.vault_id, device.device_id, 0, state,
                                      magic=STATE_MAGIC))


def _from_this_outbox(conn: Any, payload: dict[str, Any]) -> bool:
    """Whether a change file found under this device's next number holds the changes
    waiting in the outbox (a round killed after writing it), judged by their clocks."""
    held = [row[0] for row in conn.execute(
        "SELECT hlc FROM sync_outbox WHERE seq <= ? ORDER BY seq",
        (int(payload["outbox_last"]),))]
    written = [item[4] for item in payload["changes"]]
    return bool(held) and held == written


def _same_but_time(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "written_at"} == {
        k: v for k, v in b.items() if k != "written_at"}


def read_state(session: VaultSession, folder: SyncFolder, device_id: str) -> dict[str, Any] | None:
    path = folder.state_path(device_id)
    if not path.is_file():
        return None
    try:
        return open_payload(sync_key(session), session.key.vault_id, device_id, 0,
                            path.read_bytes(), path.name, magic=STATE_MAGIC)
    except SyncFileRefused:
        return None


def _schema() -> str:
    return migrate.applied_migrations(database, migrate.MAIN)[-1]


def _known_schemas() -> set[str]:
    return set(migrate.applied_migrations(database, migrate.MAIN))
