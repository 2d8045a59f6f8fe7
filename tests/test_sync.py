"""Sync between devices: two and three vaults on one machine sharing a folder
(tests/sync_devices.py), the change files' refusals, and what the folder never holds."""

from __future__ import annotations

import pytest
from sync_devices import entries, first_device, join, me, opened, rows, sync, write_entry

from conftest import cheap_kdf
from helpers import run_until_paused
from luna_tui.cli.agent_sync import AgentSync
from luna_tui.errors import LunaError, ReadOnlyKey, SyncFileRefused, SyncTooNew, UsageError
from luna_tui.home import VaultLayout
from luna_tui.services.attachments import Attachments
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.records import Records
from luna_tui.services.sync.change_files import open_payload, seal_payload
from luna_tui.services.sync.compaction import compact
from luna_tui.services.sync.engine import Syncer, sync_key, this_device
from luna_tui.services.sync.folder import SyncFolder
from luna_tui.services.sync.rotation import restart_after_rotation
from luna_tui.services.sync.setup import setup_sync
from luna_tui.services.sync.status import forget_device, sync_status
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vitals import Vitals
from luna_tui.store.backup_archive import read_manifest
from luna_tui.store.sync import triggers


@pytest.fixture
def homes(tmp_path):
    return tmp_path / "a", tmp_path / "b", tmp_path / "c"


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "Sync" / "luna"


@pytest.fixture
def pair(homes, folder, clock):
    """Device a set up, device b joined from its snapshot."""
    a, b, _c = homes
    first_device(a, folder, clock)
    join(b, folder, clock)
    return a, b


def test_a_vault_without_sync_has_no_capture_triggers(session):
    assert session.run(lambda: triggers.installed(session._db.connection())) == {}


def test_setup_installs_triggers_and_writes_a_snapshot(homes, folder, clock):
    a = homes[0]
    first_device(a, folder, clock)
    with opened(a, clock) as session:
        conn_triggers = session.run(lambda: triggers.installed(session._db.connection()))
        device = this_device(session)
    assert "sync_capture_journal_entries_insert" in conn_triggers
    assert "sync_capture_config_insert" not in conn_triggers  # local settings stay
    assert "sync_capture_drafts_insert" not in conn_triggers
    assert SyncFolder(folder).snapshots(device.device_id)


def test_setup_refuses_a_folder_inside_the_vault(session):
    with pytest.raises(UsageError, match="outside the vault folder"):
        setup_sync(session, session.layout.home / "sync")


def test_an_entry_written_on_one_device_reaches_the_other(pair, clock):
    a, b = pair
    entry = write_entry(a, clock, "written on a")
    assert sync(a, clock).written == 1
    report = sync(b, clock)
    assert report.files_applied == 1
    assert entries(b, clock)[entry] == ("written on a", False)
    # Applied rows are not captured again on b: nothing goes back.
    assert sync(b, clock).written == 0


def test_an_edit_on_one_and_a_star_on_the_other_both_survive(pair, clock):
    a, b = pair
    entry = write_entry(a, clock, "first words")
    sync(a, clock)
    sync(b, clock)
    with opened(a, clock) as session:  # offline, a edits the text …
        Journal(session).update(entry, content="better words")
    clock.advance(seconds=5)
    with opened(b, clock) as session:  # … and b stars it
        Journal(session).toggle_favorite(entry)
    for home in (a, b, a):
        sync(home, clock)
    assert entries(a, clock)[entry] == ("better words", True)
    assert entries(b, clock)[entry] == ("better words", True)


def test_the_later_edit_of_one_field_wins_everywhere(pair, clock):
    a, b = pair
    entry = write_entry(a, clock, "v1")
    sync(a, clock)
    sync(b, clock)
    clock.advance(seconds=10)
    with opened(b, clock) as session:
        Journal(session).update(entry, content="from b, later")
    clock.advance(seconds=-30)  # a's clock is behind: its edit is the older one
    with opened(a, clock) as session:
        Journal(session).update(entry, content="from a, earlier")
    clock.advance(seconds=60)
    for home in (a, b, a):
        sync(home, clock)
    assert entries(a, clock)[entry][0] == entries(b, clock)[entry][0] == "from b, later"


def test_a_delete_wins_over_an_edit_made_without_seeing_it(pair, clock):
    a, b = pair
    entry = write_entry(a, clock, "to go")
    sync(a, clock)
    sync(b, clock)
    with opened(a, clock) as session:
        Journal(session).delete(entry)
    clock.advance(seconds=5)
    with opened(b, clock) as session:
        Journal(session).update(entry, content="edited after the delete")
    for home in (a, b, a):
        sync(home, clock)
    assert entry not in entries(a, clock)
    assert entry not in entries(b, clock)


def test_an_attachment_and_its_file_travel(pair, clock, tmp_path):
    a, b = pair
    source = tmp_path / "scan.txt"
    source.write_bytes(b"cholesterol 4.2\n")
    with opened(a, clock) as session:
        record = Records(session).create(me(session), record_type="lab", title="Lipids")
        attachment = Attachments(session).add(record.id, source)
    sync(a, clock)
    sync(b, clock)
    with opened(b, clock) as session:
        assert Attachments(session).read_for_view(attachment.id)[1] == b"cholesterol 4.2\n"


def test_a_late_third_device_joins_with_everything(homes, folder, clock):
    a, b, c = homes
    first_device(a, folder, clock)
    early = write_entry(a, clock, "before b joined")
    sync(a, clock)
    join(b, folder, clock)
    later = write_entry(b, clock, "written on b")
    sync(b, clock)
    device_a = SyncFolder(folder).devices()
    before = sorted(p.name for d in device_a for p in (folder / d).iterdir())
    join(c, folder, clock)  # from a's snapshot, then a's and b's change files
    assert {early, later} <= set(entries(c, clock))
    # Joining wrote only into c's own subfolder: every other file has one writer.
    assert sorted(p.name for d in device_a for p in (folder / d).iterdir()) == before


def test_a_file_applied_twice_changes_nothing(pair, clock):
    a, b = pair
    write_entry(a, clock, "once")
    sync(a, clock)
    sync(b, clock)
    with opened(b, clock) as session:
        device_a = [d for d in SyncFolder(this_device(session).folder).devices()
                    if d != this_device(session).device_id][0]
        session.run(lambda: session._db.connection().execute(
            "UPDATE sync_peer SET applied_seq = 0 WHERE device_id = ?", (device_a,)))
    sync(b, clock)
    assert len(entries(b, clock)) == 1


def _device_ids(home, clock):
    with opened(home, clock) as session:
        return this_device(session).device_id, this_device(session).folder


@pytest.mark.parametrize("damage", ["a flipped bit", "cut short"])
def test_a_changed_file_is_refused_with_a_sentence(pair, clock, damage):
    a, b = pair
    write_entry(a, clock, "kept safe")
    sync(a, clock)
    device_a, folder = _device_ids(a, clock)
    path = SyncFolder(folder).change_path(device_a, 1)
    data = bytearray(path.read_bytes())
    if damage == "a flipped bit":
        data[-1] ^= 1
    else:
        del data[len(data) // 2:]
    path.write_bytes(bytes(data))
    report = sync(b, clock)
    assert report.refused and "was changed" in report.refused[0]
    assert len(entries(b, clock)) == 0


def test_renamed_and_replayed_files_are_refused(pair, clock):
    a, b = pair
    write_entry(a, clock, "one")
    sync(a, clock)
    device_a, folder = _device_ids(a, clock)
    sync_folder = SyncFolder(folder)
    sync(b, clock)
    # File 1 copied in as file 2: a replay under another number.
    sync_folder.change_path(device_a, 2).write_bytes(
        sync_folder.change_path(device_a, 1).read_bytes())
    report = sync(b, clock)
    assert report.refused and device_a in report.refused[0]


def test_two_files_swapped_are_both_refused(pair, clock):
    a, b = pair
    for text in ("first", "second"):
        write_entry(a, clock, text)
        sync(a, clock)
    device_a, folder = _device_ids(a, clock)
    first, second = (SyncFolder(folder).change_path(device_a, n) for n in (1, 2))
    one, two = first.read_bytes(), second.read_bytes()
    first.write_bytes(two)
    second.write_bytes(one)
    report = sync(b, clock)
    assert report.files_applied == 0 and report.refused
    assert entries(b, clock) == {}


def test_a_gap_waits_and_never_skips(pair, clock):
    a, b = pair
    write_entry(a, clock, "one")
    sync(a, clock)
    write_entry(a, clock, "two")
    sync(a, clock)
    device_a, folder = _device_ids(a, clock)
    first = SyncFolder(folder).change_path(device_a, 1)
    held = first.read_bytes()
    first.unlink()  # the syncer has not brought file 1 yet
    report = sync(b, clock)
    assert report.files_applied == 0 and report.waiting
    first.write_bytes(held)
    assert sync(b, clock).files_applied == 2
    assert len(entries(b, clock)) == 2


def test_a_file_from_a_newer_schema_stops_with_a_sentence(pair, clock):
    a, b = pair
    device_a, folder = _device_ids(a, clock)
    with opened(a, clock) as session:
        key, vault_id = sync_key(session), session.key.vault_id
    payload = {"format": 1, "schema": "0099_future", "device": device_a, "seq": 1,
               "outbox_last": 1, "changes": []}
    SyncFolder(folder).change_path(device_a, 1).write_bytes(
        seal_payload(key, vault_id, device_a, 1, payload))
    with pytest.raises(SyncTooNew, match="update Luna on this device first"):
        sync(b, clock)


def test_no_plaintext_in_the_sync_folder(pair, clock, folder):
    a, b = pair
    canary = "canary-sync-plaintext-7c1f"
    write_entry(a, clock, canary)
    sync(a, clock)
    sync(b, clock)
    for path in folder.rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path


def test_a_read_only_key_is_not_offered_sync(session, tmp_path):
    session.key = session.key.__class__(session.key.master_key, session.key.vault_id,
                                        session.key.locator, "caregiver", "access",
                                        "read_only", None)
    with pytest.raises(ReadOnlyKey, match="not offered to a read-only key"):
        setup_sync(session, tmp_path / "sync")


def test_a_state_file_opens_only_as_its_own(pair, clock):
    a, _b = pair
    sync(a, clock)
    device_a, folder = _device_ids(a, clock)
    with opened(a, clock) as session:
        key, vault_id = sync_key(session), session.key.vault_id
        assert Syncer(session).device.device_id == device_a
    data = SyncFolder(folder).state_path(device_a).read_bytes()
    with pytest.raises(SyncFileRefused):
        open_payload(key, vault_id, device_a, 1, data, "state.sealed")


@pytest.mark.slow
def test_a_kill_after_writing_a_file_loses_nothing_and_repeats_nothing(pair, clock):
    a, b = pair
    entry = write_entry(a, clock, "written before the kill")
    process = run_until_paused(["sync"], "sync.file-written", {"LUNA_HOME": str(a)})
    process.kill()
    process.wait()
    device_a, folder = _device_ids(a, clock)
    assert SyncFolder(folder).change_seqs(device_a) == [1]  # whole, under its name
    assert sync(a, clock).written == 1  # the file is recognised, its rows removed
    assert sync(a, clock).written == 0
    assert SyncFolder(folder).change_seqs(device_a) == [1]
    sync(b, clock)
    assert list(entries(b, clock)) == [entry]


@pytest.mark.slow
def test_a_kill_while_applying_applies_nothing_then_everything_once(pair, clock):
    a, b = pair
    entry = write_entry(a, clock, "applied after the kill")
    sync(a, clock)
    process = run_until_paused(["sync"], "sync.applying", {"LUNA_HOME": str(b)})
    process.kill()
    process.wait()
    assert entries(b, clock) == {}
    assert sync(b, clock).files_applied == 1
    assert sync(b, clock).files_applied == 0
    assert list(entries(b, clock)) == [entry]


def _labels(home, clock):
    with opened(home, clock) as session:
        return sorted(k.label for k in KeyAdmin(session).list_keys())


def test_keys_added_and_revoked_on_one_device_reach_the_other(pair, clock):
    a, b = pair
    with opened(a, clock) as session:
        added = KeyAdmin(session, cheap_kdf()).add_key("sister", read_only=True)
    sync(a, clock)
    sync(b, clock)
    assert "sister" in _labels(b, clock)
    # The key added on a opens b's copy of the vault.
    with VaultSession.open(VaultLayout(b), added.generated_secret, clock=clock) as session:
        assert session.read_only
    with opened(b, clock) as session:
        KeyAdmin(session).revoke("sister")
    sync(b, clock)
    sync(a, clock)
    assert "sister" not in _labels(a, clock)
    sync(a, clock)
    sync(b, clock)  # and it does not come back from a
    assert "sister" not in _labels(b, clock)


def test_compaction_waits_for_every_device_then_leaves_a_snapshot(homes, folder, clock):
    a, b, c = homes
    first_device(a, folder, clock)
    join(b, folder, clock)
    write_entry(a, clock, "one")
    sync(a, clock)
    device_a, _ = _device_ids(a, clock)
    sync(b, clock)
    with opened(a, clock) as session:
        done = compact(session)
    assert done.removed == 1 and done.waiting_for == []
    assert SyncFolder(folder).change_seqs(device_a) == []
    write_entry(a, clock, "two")
    sync(a, clock)
    with opened(a, clock) as session:  # b has not applied file 2 yet: it stays
        held = compact(session)
    assert held.removed == 0 and len(held.waiting_for) == 1
    assert SyncFolder(folder).change_seqs(device_a) == [2]
    join(c, folder, clock)  # from the newest snapshot, then file 2
    assert sorted(c for c, _f in entries(c, clock).values()) == ["one", "two"]


def test_a_forgotten_device_no_longer_holds_compaction_back(pair, clock):
    a, b = pair
    write_entry(a, clock, "one")
    sync(a, clock)
    device_a, _ = _device_ids(a, clock)
    device_b, _ = _device_ids(b, clock)
    with opened(a, clock) as session:
        assert compact(session).removed == 0
        forget_device(session, device_b)
        assert compact(session).removed == 1
    with opened(a, clock) as session:
        assert [d.forgotten for d in sync_status(session).devices] == [True]


class _AgentVault:
    """What the agent hands a job: `run(fn)` calls fn with the open session."""

    def __init__(self, session) -> None:  # noqa: ANN001
        self.session = session

    def run(self, fn):  # noqa: ANN001, ANN201
        return fn(self.session)


def test_the_agent_syncs_a_few_seconds_after_a_write(homes, folder, clock):
    a = homes[0]
    first_device(a, folder, clock)
    said: list[str] = []
    with opened(a, clock) as session:
        device = this_device(session).device_id
        job = AgentSync(_AgentVault(session), said.append, every=3600)
        try:
            job.tick()  # the first round after the unlock
            Journal(session).create(me(session), EntryDraft(content="by a command"))
            job.tick()  # seen; the debounce starts
            assert SyncFolder(folder).change_seqs(device) == []
            clock.advance(seconds=4)
            job.tick()
        finally:
            job.stop()
    assert SyncFolder(folder).change_seqs(device) == [1]
    assert said == ["sync: wrote 1 change, applied 0 files from other devices"]


def test_after_a_rotation_the_other_devices_are_forgotten_and_a_snapshot_written(
        pair, clock, folder):
    a, _b = pair
    device_a, _ = _device_ids(a, clock)
    [(_seq, old)] = SyncFolder(folder).snapshots(device_a)
    made_at = read_manifest(old)[0].created_at
    clock.advance(seconds=5)
    with opened(a, clock) as session:
        snapshot = restart_after_rotation(session)
        assert [d.forgotten for d in sync_status(session).devices] == [True]
    assert [p for _s, p in SyncFolder(folder).snapshots(device_a)] == [snapshot]
    assert read_manifest(snapshot)[0].created_at > made_at


def test_a_vault_that_does_not_sync_has_nothing_to_restart(session):
    assert restart_after_rotation(session) is None


def test_bulk_imports_and_cascading_deletes_are_captured(pair, clock):
    a, b = pair
    with opened(a, clock) as session:
        other = Patients(session).create("Sam").id
        Journal(session).import_entries(other, [EntryDraft(content=f"imported {n}")
                                                for n in range(3)], source="test")
        Vitals(session).record(other, "weight", 70, unit="kg")
    sync(a, clock)
    sync(b, clock)
    assert sorted(c for c, _f in entries(b, clock).values()) == [
        "imported 0", "imported 1", "imported 2"]
    with opened(a, clock) as session:
        Patients(session).delete(other)  # its entries and readings go by cascade
    sync(a, clock)
    sync(b, clock)
    assert entries(b, clock) == {}
    assert rows(b, clock, "SELECT count(*) FROM vitals") == [(0,)]


def test_a_dose_logged_for_one_slot_on_both_devices_ends_as_one(pair, clock):
    a, b = pair
    with opened(a, clock) as session:
        med = Medications(session).create(me(session), "Metformin", "500 mg", "daily").id
    sync(a, clock)
    sync(b, clock)
    for home, note in ((a, "from a"), (b, "from b")):
        with opened(home, clock) as session:
            Medications(session).log_dose(med, "taken", slot="2026-11-21T08:00",
                                          taken_at="2026-11-21T08:05", notes=note)
    for home in (a, b, a):
        sync(home, clock)
    sql = "SELECT id, notes FROM medication_doses"
    assert len(rows(a, clock, sql)) == 1
    assert rows(a, clock, sql) == rows(b, clock, sql)


def test_a_file_that_needs_another_devices_row_waits_for_it(homes, folder, clock):
    a, b, c = homes
    first_device(a, folder, clock)
    entry = write_entry(a, clock, "moved to another patient")
    sync(a, clock)
    join(b, folder, clock)
    join(c, folder, clock)
    with opened(a, clock) as session:
        sam = Patients(session).create("Sam").id
    sync(a, clock)
    sync(b, clock)
    with opened(b, clock) as session:  # b moves the entry to the patient a made
        session.run(lambda: session._db.connection().execute(
            "UPDATE journal_entries SET patient_id = ? WHERE id = ?", (sam, entry)))
    sync(b, clock)
    device_a, _ = _device_ids(a, clock)
    held = SyncFolder(folder).change_path(device_a, 2)
    kept = held.read_bytes()
    held.unlink()  # c has not received a's file with the patient yet
    report = sync(c, clock)
    assert any("needs changes that have not arrived" in w for w in report.waiting)
    held.write_bytes(kept)
    assert sync(c, clock).files_applied == 2
    assert rows(c, clock, f"SELECT patient_id FROM journal_entries WHERE id = '{entry}'") == [
        (sam,)]


def _audited(home, clock, event: str) -> list[str | None]:
    from luna_tui.store.models.audit import AuditEvent

    with opened(home, clock) as session:
        return session.run(lambda: [e.record_locator for e in AuditEvent.select().where(
            AuditEvent.event_name == event).order_by(AuditEvent.seq)])


def test_each_device_audits_what_it_wrote_and_applied(pair, clock):
    a, b = pair
    write_entry(a, clock, "audited")
    sync(a, clock)
    sync(b, clock)
    device_a, _ = _device_ids(a, clock)
    assert _audited(a, clock, "sync.written") == [f"{device_a}/1"]
    assert _audited(b, clock, "sync.applied") == [f"{device_a}/1"]
    assert _audited(a, clock, "sync.applied") == []  # each device keeps its own chain


def test_a_missing_capture_trigger_is_put_back_at_the_next_opening(pair, clock):
    a, b = pair
    with opened(a, clock) as session:
        session.run(lambda: session._db.connection().execute(
            "DROP TRIGGER sync_capture_vitals_insert"))
    with opened(a, clock) as session:  # as after a migration that added a table
        assert "sync_capture_vitals_insert" in session.run(
            lambda: triggers.installed(session._db.connection()))
        Vitals(session).record(me(session), "weight", 70, unit="kg")
    assert len(_audited(a, clock, "sync.capture")) == 1
    sync(a, clock)
    sync(b, clock)
    assert rows(b, clock, "SELECT kind, value FROM vitals") == [("weight", 70.0)]


def test_three_devices_editing_offline_end_the_same(homes, folder, clock):
    a, b, c = homes
    first_device(a, folder, clock)
    entry = write_entry(a, clock, "shared")
    sync(a, clock)
    join(b, folder, clock)
    join(c, folder, clock)
    clock.advance(seconds=1)
    with opened(a, clock) as session:
        Journal(session).update(entry, content="a's words")
    clock.advance(seconds=1)
    with opened(b, clock) as session:
        Journal(session).toggle_favorite(entry)
        Journal(session).update(entry, content="b's words, the last")
    clock.advance(seconds=1)
    with opened(c, clock) as session:
        Journal(session).update(entry, title="c's title")
        extra = Journal(session).create(me(session), EntryDraft(content="c's own")).id
    for _ in range(2):
        for home in (a, b, c):
            sync(home, clock)
    seen = [rows(home, clock, "SELECT id, content, title, favorite FROM journal_entries "
                              "ORDER BY id") for home in (a, b, c)]
    assert seen[0] == seen[1] == seen[2]
    assert sorted(seen[0]) == sorted([(entry, "b's words, the last", "c's title", 1),
                                      (extra, "c's own", None, 0)])


def test_a_round_that_changes_nothing_gives_the_syncer_nothing_to_carry(pair, clock, folder):
    a, _b = pair
    sync(a, clock)
    device_a, _ = _device_ids(a, clock)
    mine = folder / device_a
    before = {p.name: p.read_bytes() for p in mine.iterdir() if p.is_file()}
    clock.advance(minutes=5)
    sync(a, clock)
    assert {p.name: p.read_bytes() for p in mine.iterdir() if p.is_file()} == before
    clock.advance(hours=2)  # but "last synced" is kept within the hour
    sync(a, clock)
    assert (mine / "state.sealed").read_bytes() != before["state.sealed"]


def test_an_attachment_path_of_another_devices_choosing_is_never_used(pair, clock, tmp_path):
    """Even a change file from a key holder (the read-only key's limit) cannot make this
    device write, or delete, a file outside its attachments folder."""
    a, b = pair
    device_a, folder = _device_ids(a, clock)
    with opened(a, clock) as session:
        key, vault_id = sync_key(session), session.key.vault_id
        record = Records(session).create(me(session), record_type="lab", title="x")
    sync(a, clock)
    sync(b, clock)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    blob = SyncFolder(folder).blob_path(device_a, "evil-attachment")
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(b"not really an attachment")
    sneaky = f"../{victim.name}"  # relative to b's LUNA_HOME: tmp_path/victim.txt
    payload = {"format": 1, "schema": "0012_sync", "device": device_a, "seq": 2,
               "outbox_last": 0, "changes": [
                   ["attachments", "evil-attachment", "u", {
                       "id": "evil-attachment", "record_id": record.id,
                       "patient_id": record.patient_id, "file_name": "x",
                       "size": 1, "sha256": "0" * 64, "storage_path": sneaky}, 1 << 60]]}
    SyncFolder(folder).change_path(device_a, 2).write_bytes(
        seal_payload(key, vault_id, device_a, 2, payload))
    sync(b, clock)
    assert victim.read_text() == "mine"
    assert rows(b, clock, "SELECT count(*) FROM attachments") == [(0,)]


def test_a_vault_older_than_its_folder_writes_nothing_and_says_why(pair, clock):
    a, _b = pair
    write_entry(a, clock, "one")
    sync(a, clock)
    with opened(a, clock) as session:  # as a restore of a backup from before file 1
        session.run(lambda: session._db.connection().execute(
            "UPDATE sync_device SET next_seq = 1"))
    write_entry(a, clock, "made after the restore")
    device_a, folder = _device_ids(a, clock)
    kept = SyncFolder(folder).change_path(device_a, 1).read_bytes()
    with pytest.raises(LunaError, match="restored from a backup"):
        sync(a, clock)
    assert SyncFolder(folder).change_path(device_a, 1).read_bytes() == kept
    assert rows(a, clock, "SELECT count(*) FROM sync_outbox") == [(1,)]  # nothing lost
