"""The audit log: one hash-chained row per event, one encrypted file per month, and
every kind of tampering found and named by `luna doctor`.

Months are UTC months of the clock: every test here runs at each "today" of the date
matrix (tests/conftest.py), so none names a month but through the clock.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import PASSPHRASE
from helpers import encrypted_connection, run_cli
from luna_tui.clock import month_key
from luna_tui.errors import DiskFull
from luna_tui.services.doctor import run_checks
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.vault_state import AuditHead

pytestmark = pytest.mark.dates


def chain_finding(session):
    return next(f for f in run_checks(session) if f.check == "audit chain")


def write_events(session, count, name="test.event"):
    def write():
        for i in range(count):
            with session.writing("test") as tx:
                tx.record(name, record_locator=f"r{i}", diff={"n": i})

    session.run(write)


def into_next_month(clock) -> None:
    """Move the clock to the first hour of the next UTC month (31 days on could skip one)."""
    now = clock.now().astimezone(dt.UTC)
    first = dt.datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=dt.UTC)
    clock.moment = first + dt.timedelta(hours=1)


@pytest.fixture
def keys_and_layout(session, layout):
    """A vault with a dozen events, closed; returns the audit key for tampering."""
    write_events(session, 10)
    audit_key = session.keys.audit_db
    session.close()
    return audit_key, layout


@pytest.fixture
def audit_file(layout, clock):
    """The month file the rows of the test's "today" are in."""
    return layout.audit_db(month_key(clock.now()))


def test_every_unlock_change_and_lock_is_a_chained_row(session):
    write_events(session, 3)
    rows = session.run(lambda: list(AuditEvent.select().order_by(AuditEvent.seq)))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.event_name for r in rows][:4] == ["unlock", "vault.create", "lock", "unlock"]
    assert rows[-1].diff == '{"n": 2}'
    head = session.run(AuditHead.get_by_id, 1)
    assert (head.seq, head.mac) == (rows[-1].seq, rows[-1].mac)
    assert all(r.key_locator_hash == session.key.locator for r in rows)
    assert chain_finding(session).ok


def test_a_new_month_gets_its_own_file_chained_to_the_last(layout, session, clock):
    write_events(session, 2)
    first = month_key(clock.now())
    into_next_month(clock)
    write_events(session, 2)
    assert layout.audit_months() == [first, month_key(clock.now())]
    session.close()
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        finding = chain_finding(reopened)
        assert finding.ok, finding.detail
        assert "2 month(s)" in finding.detail


def test_the_month_is_one_based_and_zero_padded(layout, clock, session):
    year = clock.now().astimezone(dt.UTC).year
    clock.moment = dt.datetime(year + 1, 1, 6, tzinfo=dt.UTC)
    write_events(session, 1)
    assert f"{year + 1}-01" in layout.audit_months()


def _reopen_and_check(layout, clock):
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        return chain_finding(session)


def test_an_edited_row_is_named(keys_and_layout, audit_file, clock):
    key, layout = keys_and_layout
    with encrypted_connection(audit_file, key) as conn:
        conn.execute("UPDATE audit SET diff = '{\"n\": 99}' WHERE seq = 8")
    finding = _reopen_and_check(layout, clock)
    assert not finding.ok
    assert "row 8 " in finding.detail and "MAC does not match" in finding.detail


def test_a_deleted_middle_row_is_found(keys_and_layout, audit_file, clock):
    key, layout = keys_and_layout
    with encrypted_connection(audit_file, key) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 6")
    finding = _reopen_and_check(layout, clock)
    assert "row 6 is missing before row 7" in finding.detail


def test_a_cut_off_tail_is_found(keys_and_layout, audit_file, clock):
    key, layout = keys_and_layout
    with encrypted_connection(audit_file, key) as conn:
        last = conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
        conn.execute("DELETE FROM audit WHERE seq >= ?", (last - 2,))
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        finding = chain_finding(session)
    # The last transaction's row (the lock) is still in luna.db's outbox and goes back
    # into the file; the reopening appended rows after it, so the gap shows the cut.
    assert f"rows {last - 2}–{last - 1} are missing before row {last}" in finding.detail
    assert "removed" in finding.detail and "crash" not in finding.detail


def test_a_tail_cut_after_the_last_session_is_found_by_the_head(session, layout):
    """Cut the newest rows and compare with the head kept in luna.db, without adding
    rows first: the check sees the log end early."""
    write_events(session, 3)

    def cut_tail():
        last = AuditEvent.select().order_by(AuditEvent.seq.desc()).first().seq
        AuditEvent.delete().where(AuditEvent.seq >= last - 1).execute()

    session.run(cut_tail)
    finding = chain_finding(session)
    assert "cut off" in finding.detail


def test_swapped_rows_are_found(keys_and_layout, audit_file, clock):
    key, layout = keys_and_layout
    with encrypted_connection(audit_file, key) as conn:
        a = conn.execute("SELECT event_name, diff FROM audit WHERE seq = 5").fetchone()
        b = conn.execute("SELECT event_name, diff FROM audit WHERE seq = 9").fetchone()
        conn.execute("UPDATE audit SET event_name = ?, diff = ? WHERE seq = 5", b)
        conn.execute("UPDATE audit SET event_name = ?, diff = ? WHERE seq = 9", a)
    assert "row 5 " in _reopen_and_check(layout, clock).detail


def test_renumbered_rows_are_found(keys_and_layout, audit_file, clock):
    key, layout = keys_and_layout
    with encrypted_connection(audit_file, key) as conn:
        conn.execute("UPDATE audit SET seq = -1 WHERE seq = 5")
        conn.execute("UPDATE audit SET seq = 5 WHERE seq = 6")
        conn.execute("UPDATE audit SET seq = 6 WHERE seq = -1")
    assert "row 5 " in _reopen_and_check(layout, clock).detail


def test_a_deleted_month_is_found(layout, session, clock):
    months = []
    for step in range(3):
        if step:
            into_next_month(clock)
        write_events(session, 2)
        months.append(month_key(clock.now()))
    session.close()
    assert layout.audit_months() == months
    layout.audit_db(months[1]).unlink()
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        finding = chain_finding(reopened)
    assert not finding.ok and f"audit/{months[2]}.db" in finding.detail
    assert "missing" in finding.detail


def test_a_deleted_current_month_is_refused_not_started_afresh(layout, session, clock,
                                                               audit_file):
    from luna_tui.errors import IntegrityFailure

    write_events(session, 2)
    session.close()
    audit_file.unlink()
    with pytest.raises(IntegrityFailure, match="luna doctor --repair"):
        VaultSession.open(layout, PASSPHRASE, clock=clock)
    assert not audit_file.exists()


def test_doctor_exits_4_and_names_the_bad_row(keys_and_layout, audit_file, capsys, monkeypatch):
    key, layout = keys_and_layout
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    healthy = run_cli(capsys, "doctor")
    assert healthy.code == 0, healthy.err
    assert "The vault is healthy" in healthy.out
    with encrypted_connection(audit_file, key) as conn:
        conn.execute("UPDATE audit SET host = 'elsewhere' WHERE seq = 3")
    broken = run_cli(capsys, "doctor")
    assert broken.code == 4
    assert "✗ audit chain" in broken.out and "row 3 " in broken.out


def test_a_full_disk_mid_transaction_leaves_nothing_half_written(session):
    def fill_up():
        from luna_tui.store.models.base import database

        pages = database.execute_sql("PRAGMA main.page_count").fetchone()[0]
        database.execute_sql(f"PRAGMA main.max_page_count = {pages + 1}")
        head_before = AuditHead.get_by_id(1).seq
        try:
            with session.writing("test") as tx:
                for i in range(500):
                    tx.record("bulk", diff={"filler": "x" * 400, "i": i})
        finally:
            database.execute_sql("PRAGMA main.max_page_count = 1073741823")
        return head_before

    head_before = session.run(lambda: AuditHead.get_by_id(1).seq)
    with pytest.raises(DiskFull, match="nothing was saved"):
        session.run(fill_up)
    assert session.run(lambda: AuditHead.get_by_id(1).seq) == head_before
    bulk = AuditEvent.select().where(AuditEvent.event_name == "bulk")
    assert session.run(bulk.count) == 0
    assert chain_finding(session).ok


def _chain_inputs(session, layout):
    files = [(m, layout.audit_db(m)) for m in layout.audit_months()]
    return files, session.keys.audit_db, session.keys.audit_mac


def _as_of(head):
    from luna_tui.store.audit_chain import ChainInputs

    return ChainInputs(head.seq, head.mac, 1, (), ())


def test_rows_another_luna_appends_during_doctor_are_not_called_tampering(session, layout):
    """Doctor reads the head, then another process appends before the walk ends."""
    from luna_tui.store.audit_chain import verify_chain

    head = session.run(lambda: AuditHead.get_by_id(1))
    write_events(session, 2)  # the "other process"
    newest = session.run(lambda: AuditHead.get_by_id(1).seq)
    report = verify_chain(*_chain_inputs(session, layout), _as_of(head),
                          current_head_seq=lambda: newest)
    assert report.ok, report.problem


def test_rows_after_a_head_that_stays_behind_are_reported(session, layout):
    """luna.db put back to an older copy: the log has rows the vault never recorded."""
    from luna_tui.store.audit_chain import verify_chain

    head = session.run(lambda: AuditHead.get_by_id(1))
    write_events(session, 2)
    report = verify_chain(*_chain_inputs(session, layout), _as_of(head),
                          current_head_seq=lambda: head.seq)
    assert "never recorded" in (report.problem or "")
