"""Kills at the worst moments lose nothing and are never mistaken for tampering.

The audit log: a row is committed in luna.db's outbox with its change, then copied into
the month file; a kill between the two (a fault point sits there) leaves it to the next
write. Gaps an older Luna's crash window left are told apart from removed rows and
re-anchored, on request, by `luna doctor --repair`. Half-written attachments and the
scratch of a killed verify are removed by the next Luna that finds itself alone.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from conftest import PASSPHRASE, FakeClock
from helpers import encrypted_connection, run_cli, run_until_paused
from luna_tui.clock import utc_timestamp
from luna_tui.errors import IntegrityFailure
from luna_tui.services.doctor import run_checks
from luna_tui.services.journal import Journal
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.vault_state import AuditHead, AuditOutbox


def chain_finding(session):
    return next(f for f in run_checks(session) if f.check == "audit chain")


def events(session) -> list[str]:
    return session.run(lambda: [e.event_name for e in AuditEvent.select().order_by(
        AuditEvent.seq)])


def entries(layout) -> list[str]:
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        return [e.content for e in Journal(session).page(me, limit=1000).entries]


def luna(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "luna_tui", *args], input=stdin, text=True,
                          capture_output=True, env={**os.environ, "LUNA_PASSPHRASE": PASSPHRASE,
                                                    **env}, timeout=60)


@pytest.fixture
def closed_vault(session, layout):
    """A vault made and closed, for other processes to use."""
    session.close()
    return layout


# -- a kill between the two audit commits ---------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("commit", "event"), [(1, "unlock"), (2, "journal.create"),
                                               (3, "lock")])
def test_a_kill_between_the_audit_commits_loses_no_row(closed_vault, commit, event):
    process = run_until_paused(["add"], f"audit.between-commits#{commit}",
                               stdin="Killed between the commits")
    process.kill()
    process.wait()
    with VaultSession.open(closed_vault, PASSPHRASE) as session:
        assert event in events(session)  # copied from the outbox by this opening
        finding = chain_finding(session)
        assert finding.ok, finding.detail
        assert session.run(lambda: AuditOutbox.select().count()) <= 2  # only the newest
    saved = commit >= 2
    assert ("Killed between the commits" in entries(closed_vault)) == saved


def unlocks_counted(session) -> int:
    from peewee import fn

    from luna_tui.store.models.stats import StatEvent

    return session.run(lambda: StatEvent.select(fn.SUM(StatEvent.counter)).where(
        StatEvent.event_name == "unlock").scalar() or 0)


def outbox(session) -> list[str]:
    return session.run(lambda: [r.event_name for r in AuditOutbox.select().order_by(
        AuditOutbox.seq)])


def test_an_unlock_settled_later_is_in_the_log_before_the_session_is_returned(closed_vault):
    """The app's unlock (settle_later): its row is committed in luna.db's outbox before
    the vault can be read; the copy into the month file and the count in stats.db come
    when the app settles it, after its first screen."""
    with VaultSession.open(closed_vault, PASSPHRASE) as before:
        counted = unlocks_counted(before)
    session = VaultSession.open(closed_vault, PASSPHRASE, settle_later=True)
    try:
        assert outbox(session) == ["unlock"]
        assert events(session)[-1] == "lock"  # the month file: not yet
        head = session.run(AuditHead.get_by_id, 1)
        assert head.seq == len(events(session)) + 1  # the head names the outbox's row
        finding = chain_finding(session)
        assert finding.ok, finding.detail  # the outbox is read as the log's continuation
        assert unlocks_counted(session) == counted
        session.settle_unlock()
        assert events(session)[-1] == "unlock"
        assert unlocks_counted(session) == counted + 1
        session.settle_unlock()  # once only
        assert unlocks_counted(session) == counted + 1
    finally:
        session.close()
    with VaultSession.open(closed_vault, PASSPHRASE) as after:
        assert events(after)[-3:] == ["unlock", "lock", "unlock"]
        assert unlocks_counted(after) == counted + 2


def test_an_unlock_not_settled_is_settled_by_the_lock_or_kept_through_a_kill(closed_vault):
    with VaultSession.open(closed_vault, PASSPHRASE) as before:
        counted = unlocks_counted(before)
    VaultSession.open(closed_vault, PASSPHRASE, settle_later=True).close()  # locked at once
    killed = VaultSession.open(closed_vault, PASSPHRASE, settle_later=True)
    killed._disconnect()  # as a kill leaves it: no lock recorded, nothing settled
    with VaultSession.open(closed_vault, PASSPHRASE) as after:
        assert events(after)[-4:] == ["unlock", "lock", "unlock", "unlock"]
        finding = chain_finding(after)
        assert finding.ok, finding.detail
        assert unlocks_counted(after) == counted + 2  # the lock's and this one's


def test_an_unlock_settled_later_records_the_keys_last_use_when_settled(closed_vault):
    """The app's unlock leaves the key's last use in keys.db (a write with its syncs) to
    its settling, after its first screen, or to the lock; the time is the unlock's."""
    from luna_tui.vault import keystore

    def last_used() -> str | None:
        rows = keystore.read(closed_vault.keys_db).rows
        return next(r.last_used_at for r in rows if r.kind == "passphrase")

    clock = FakeClock()
    for settle in (True, False):
        before = last_used()
        clock.advance(minutes=5)
        session = VaultSession.open(closed_vault, PASSPHRASE, clock=clock, settle_later=True)
        unlocked_at = utc_timestamp(clock.now())
        assert last_used() == before
        clock.advance(minutes=1)
        if settle:
            session.settle_unlock()
            assert last_used() == unlocked_at
        session.close()
        assert last_used() == unlocked_at


@pytest.mark.slow
def test_kills_at_random_moments_lose_no_acknowledged_write_and_break_no_chain(closed_vault):
    """A bounded kill loop: `luna add` killed at random points of its run.

    How long a run takes moves with the machine's load (other tests run beside this
    one), so the window is learnt as it goes: a run that finished before its kill
    shortens the next windows, a kill lengthens them, and the loop goes on until it has
    killed enough."""
    import time

    started = time.monotonic()
    assert luna("add", stdin="timing run").returncode == 0
    run_length = time.monotonic() - started
    chance = random.Random(20261206)  # the same moments on every run
    acknowledged, kills = ["timing run"], 0
    for attempt in range(48):
        if kills >= 10:
            break
        text = f"entry {attempt}"
        process = subprocess.Popen([sys.executable, "-m", "luna_tui", "add"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   env=_env())
        process.stdin.write(text)
        process.stdin.close()
        delay = chance.uniform(0.3, 1.0) * run_length
        time.sleep(delay)
        if process.poll() is None:
            process.kill()
            kills += 1
            run_length *= 1.1  # it would have run longer: reach later moments too
        else:
            run_length = max(0.05, delay)  # it took no longer than this
        out = process.stdout.read()
        process.wait()
        if process.returncode == 0 and "Saved to" in out:
            acknowledged.append(text)
    assert kills >= 5, "the loop must actually kill"
    kept = entries(closed_vault)
    assert [t for t in acknowledged if t not in kept] == []  # none lost
    with VaultSession.open(closed_vault, PASSPHRASE) as session:
        finding = chain_finding(session)
    assert finding.ok, finding.detail  # no broken chain


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE}


def test_a_month_file_that_cannot_be_written_keeps_its_rows_in_luna_db(session):
    """A full audit file: the change stands, its rows wait in luna.db, and the next write
    that can copies them."""
    from luna_tui.store.models.base import database

    def write(name):
        with session.writing("test") as tx:
            tx.record(name, diff={"filler": "x" * 3000})

    def audit_file_full(full):
        pages = database.execute_sql("PRAGMA audit.page_count").fetchone()[0]
        limit = pages if full else 1073741823
        database.execute_sql(f"PRAGMA audit.max_page_count = {limit}")

    session.run(audit_file_full, True)
    for i in range(3):
        session.run(write, f"waiting {i}")
    waiting = session.run(lambda: [r.event_name for r in AuditOutbox.select()])
    assert {"waiting 0", "waiting 1", "waiting 2"} <= set(waiting)
    session.run(audit_file_full, False)
    session.run(write, "after")
    assert {"waiting 0", "waiting 1", "waiting 2", "after"} <= set(events(session))
    assert chain_finding(session).ok


# -- gaps an older Luna left, and gaps nobody explains --------------------------------------

def _lose_newest_rows_as_an_older_luna_did(layout, keys, count):
    """An older Luna committed luna.db's head, then died before the month file: the
    newest rows are missing from the log, and no outbox holds them. Then this Luna's
    migration recorded where the outbox began."""
    month = layout.audit_months()[-1]
    with encrypted_connection(layout.audit_db(month), keys.audit_db) as conn:
        last = conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
        conn.execute("DELETE FROM audit WHERE seq > ?", (last - count,))
    with encrypted_connection(layout.main_db, keys.main_db) as conn:
        conn.execute("DELETE FROM audit_outbox")
        conn.execute("UPDATE audit_head SET crash_safe_from = seq + 1")
    return last - count + 1


def test_a_gap_an_older_luna_left_is_told_apart_from_tampering_and_repaired(
        session, layout, capsys, monkeypatch):
    keys = session.keys
    Journal(session).create(Settings(session).current_patient_id(),
                            _draft("written before the crash"))
    session.close()
    lost_from = _lose_newest_rows_as_an_older_luna_did(layout, keys, 2)
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    checked = run_cli(capsys, "doctor")
    assert checked.code == 4
    assert f"rows {lost_from}–{lost_from + 1} are missing" in checked.out
    assert "older Luna killed" in checked.out and "luna doctor --repair" in checked.out
    repaired = run_cli(capsys, "doctor", "--repair")
    assert repaired.code == 0, repaired.out + repaired.err
    assert "Re-anchored the audit chain" in repaired.out
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert "audit.reanchored" in events(reopened)
        finding = chain_finding(reopened)
        assert finding.ok and "re-anchored" in finding.detail
    # Rows removed on purpose afterwards are still found, in other words.
    with encrypted_connection(layout.audit_db(layout.audit_months()[-1]), keys.audit_db) as c:
        newest = c.execute("SELECT max(seq) FROM audit").fetchone()[0]
        c.execute("DELETE FROM audit WHERE seq = ?", (newest - 3,))
    again = run_cli(capsys, "doctor", "--repair")
    assert again.code == 4
    assert "removed" in again.out and "older Luna" not in again.out


def test_rows_removed_from_a_crash_safe_log_are_never_called_a_crash(session, layout,
                                                                       capsys, monkeypatch):
    keys = session.keys
    session.close()
    with encrypted_connection(layout.audit_db(layout.audit_months()[-1]), keys.audit_db) as c:
        c.execute("DELETE FROM audit WHERE seq = 2")
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    result = run_cli(capsys, "doctor", "--repair")
    assert result.code == 4
    assert "row 2 is missing before row 3" in result.out and "crash" not in result.out
    assert "Re-anchored" not in result.out


def test_an_anchor_made_without_the_audit_key_is_ignored(session, layout):
    keys = session.keys
    session.close()
    lost_from = _lose_newest_rows_as_an_older_luna_did(layout, keys, 1)
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        resume = reopened.run(lambda: AuditHead.get_by_id(1).seq)
        mac = reopened.run(lambda: AuditEvent.get_by_id(resume).mac)
    with encrypted_connection(layout.main_db, keys.main_db) as conn:
        conn.execute("INSERT INTO audit_anchor VALUES (?, ?, ?, 'crash', 't', ?)",
                     (resume, lost_from, mac, "0" * 64))
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        finding = chain_finding(reopened)
    assert not finding.ok and "older Luna" in finding.detail


def test_a_missing_newest_month_is_refused_until_the_loss_is_recorded(session, layout,
                                                                        capsys, monkeypatch):
    month = layout.audit_months()[-1]
    session.close()
    layout.audit_db(month).unlink()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    listed = run_cli(capsys, "list")
    assert listed.code == 4 and f"audit/{month}.db" in listed.err
    assert "luna doctor --repair" in listed.err
    assert not layout.audit_db(month).exists()  # not started afresh in silence
    repaired = run_cli(capsys, "doctor", "--repair")
    assert repaired.code == 0, repaired.out + repaired.err
    assert "Re-anchored" in repaired.out
    assert run_cli(capsys, "list").code == 0
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert chain_finding(reopened).ok
        repair = reopened.run(lambda: AuditEvent.get(AuditEvent.event_name == "audit.reanchored"))
    assert '"cause": "missing month"' in repair.diff


def _draft(text):
    from luna_tui.services.journal import EntryDraft

    return EntryDraft(content=text)


# -- attachments a killed process left -----------------------------------------------------

@pytest.fixture
def a_record(session, layout, tmp_path):
    from luna_tui.services.records import Records

    record = Records(session).create(Settings(session).current_patient_id(),
                                     title="Blood test", record_type="lab")
    source = tmp_path / "results.txt"
    source.write_text("ferritin 12 ug/L\n" * 200)
    session.close()
    return record.id, source


def attachment_files(layout):
    root = layout.attachments_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()
                  and ".pending" not in p.parts) if root.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["attachment.before-rename", "attachment.before-row"])
def test_a_killed_attach_leaves_nothing_once_the_vault_opens_alone(layout, a_record, moment,
                                                                   capsys, monkeypatch):
    record_id, source = a_record
    process = run_until_paused(["attach", record_id, str(source)], moment)
    process.kill()
    process.wait()
    assert attachment_files(layout)  # a .part, or a whole file no row owns
    with VaultSession.open(layout, PASSPHRASE) as session:
        assert "attachments.tidied" in events(session)
    assert attachment_files(layout) == []
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    assert run_cli(capsys, "doctor").code == 0


@pytest.mark.slow
def test_an_attach_under_way_in_another_process_is_left_alone(layout, a_record):
    record_id, source = a_record
    busy = run_until_paused(["attach", record_id, str(source)], "attachment.before-row")
    try:
        with VaultSession.open(layout, PASSPHRASE) as session:
            assert "attachments.tidied" not in events(session)
            attachment = next(f for f in run_checks(session) if f.check == "attachments")
            assert attachment.ok, attachment.detail  # under way is not an orphan
        assert attachment_files(layout)
    finally:
        busy.kill()
        busy.wait()
    with VaultSession.open(layout, PASSPHRASE):
        pass
    assert attachment_files(layout) == []


def test_files_an_older_luna_left_unmarked_are_removed_by_repair(layout, a_record, capsys,
                                                                 monkeypatch):
    stray = layout.attachments_dir / "ab" / "ab3f0c2e-0000-4000-8000-000000000000"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"LUNAATT1" + bytes(64))
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    checked = run_cli(capsys, "doctor")
    assert checked.code == 4 and "belong to no record" in checked.out
    repaired = run_cli(capsys, "doctor", "--repair")
    assert repaired.code == 0, repaired.out
    assert not stray.exists()


# -- a killed verify's scratch ----------------------------------------------------------------

def test_a_killed_verify_leaves_nothing_the_next_one_keeps(session, layout):
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.backups.verify import verify_backup
    from luna_tui.store import scratch_space

    made = Backups(session).create().path
    session.close()
    leftover = made.parent / ".luna-verify-4242-luna-20261122-093000"
    leftover.mkdir()
    (leftover / "keys.db").write_bytes(b"an encrypted copy")
    with scratch_space.making_scratch(made.parent):  # a verify of another process, running
        assert scratch_space.remove_abandoned(made.parent) == []
        assert leftover.exists()
    assert verify_backup(made, PASSPHRASE).ok
    assert not leftover.exists()
    assert [p.name for p in made.parent.iterdir() if p.name.startswith(".")] == []


def test_an_opening_refused_by_a_missing_month_changes_nothing(session, layout):
    month = layout.audit_months()[-1]
    session.close()
    layout.audit_db(month).unlink()
    before = sorted(p.name for p in layout.home.rglob("*"))
    with pytest.raises(IntegrityFailure):
        VaultSession.open(layout, PASSPHRASE)
    assert sorted(p.name for p in layout.home.rglob("*")) == before


def test_scratch_a_killed_backup_left_in_the_vault_goes_when_it_next_opens(session, layout):
    from luna_tui.store import scratch_space

    session.close()
    layout.backups_dir.mkdir(exist_ok=True)
    staging = layout.backups_dir / ".luna-20261122-093000.4242-0000beef.staging"
    staging.mkdir()
    (staging / "luna.db").write_bytes(b"an encrypted copy")
    with scratch_space.making_scratch(layout.backups_dir):  # a backup under way elsewhere
        with VaultSession.open(layout, PASSPHRASE) as reopened:
            assert "backups.tidied" not in events(reopened)
        assert staging.exists()
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert "backups.tidied" in events(reopened)
    assert not staging.exists()


def test_a_month_file_begun_but_never_written_is_empty_not_damaged(session, layout, clock):
    """A Luna process that stopped (busy) just after making next month's file leaves it
    without its table: doctor reads it as an empty month, never as damage."""
    from helpers import encrypted_connection

    keys = session.keys
    session.close()
    later = layout.audit_db("2999-01")
    with encrypted_connection(later, keys.audit_db) as conn:
        conn.execute("PRAGMA user_version = 0")  # an empty, keyed database file
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        finding = chain_finding(reopened)
    assert finding.ok, finding.detail


def test_tidying_up_touches_only_the_scratch_luna_names(session, layout, tmp_path):
    """A person's own `.luna-…` folder — even a whole vault — and an export's temp file
    beside a backup are never scratch."""
    from luna_tui.services.backups.folder import Backups
    from luna_tui.store import scratch_space

    folder = tmp_path / "usb"
    folder.mkdir()
    other_vault = folder / ".luna-journal"
    other_vault.mkdir()
    (other_vault / "keys.db").write_bytes(b"keys")
    (other_vault / ".lock").write_bytes(b"")
    named_like_scratch = folder / ".luna-verify-12-mine"
    named_like_scratch.mkdir()
    (named_like_scratch / ".lock").write_bytes(b"")
    export_temp = folder / ".luna-export.json.luna-tmp"
    export_temp.write_text("{}")
    killed = folder / ".luna-20261122-093000.4242-0badbeef.staging"
    killed.mkdir()
    Backups(session).create(folder)
    assert other_vault.exists() and named_like_scratch.exists() and export_temp.exists()
    assert not killed.exists()
    assert scratch_space.remove_abandoned(folder) == []


def test_old_history_removed_on_purpose_is_never_passed_off_as_a_crash(session, layout,
                                                                         capsys, monkeypatch):
    """Every row before the upgrade is older than the outbox; removing many of them is
    still rows removed, and --repair anchors nothing."""
    from luna_tui.services.journal import EntryDraft

    me = Settings(session).current_patient_id()
    for i in range(30):
        Journal(session).create(me, EntryDraft(content=f"entry {i}"))
    keys = session.keys
    session.close()
    with encrypted_connection(layout.main_db, keys.main_db) as conn:
        conn.execute("UPDATE audit_head SET crash_safe_from = seq + 1")  # as 0006 does
    with encrypted_connection(layout.audit_db(layout.audit_months()[-1]), keys.audit_db) as c:
        c.execute("DELETE FROM audit WHERE seq BETWEEN 3 AND 25")
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    result = run_cli(capsys, "doctor", "--repair")
    assert result.code == 4
    assert "rows 3–25 are missing" in result.out and "removed" in result.out
    assert "older Luna" not in result.out and "Re-anchored" not in result.out


def test_a_newest_month_emptied_to_nothing_is_refused_like_a_missing_one(session, layout):
    month = layout.audit_months()[-1]
    session.close()
    layout.audit_db(month).write_bytes(b"")
    with pytest.raises(IntegrityFailure, match="luna doctor --repair"):
        VaultSession.open(layout, PASSPHRASE)


def test_luna_db_and_the_audit_month_reach_the_disk_at_each_commit(session):
    """A power cut keeps a prefix of the commits in both files only if each commit is
    synced before the next begins (synchronous FULL = 2); with NORMAL (1) the tidied
    outbox in luna.db could survive while the audit file's copy of its rows is lost."""
    from luna_tui.store.models.base import database

    def levels():
        return [database.execute_sql(f"PRAGMA {schema}.synchronous").fetchone()[0]
                for schema in ("main", "audit")]

    assert session.run(levels) == [2, 2]
