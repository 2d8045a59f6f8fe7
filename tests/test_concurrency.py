"""Two Luna processes on one vault: both work, the chain stays one straight line, and a
vault held too long says so with exit 5 and loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import PASSPHRASE
from helpers import encrypted_connection
from luna_tui.services.doctor import run_checks
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from luna_tui.home import VaultLayout
    from luna_tui.services.vault_session import VaultSession

    home, tag, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    session = VaultSession.open(VaultLayout(Path(home)), os.environ["LUNA_PASSPHRASE"])
    while not go.exists():
        time.sleep(0.005)

    def write(i):
        with session.writing("test") as tx:
            tx.record("concurrent.write", record_locator=f"{tag}-{i}")

    started = time.time()
    for i in range(count):
        session.run(write, i)
    print(started, time.time())
    session.close()
    """
)


@pytest.mark.slow
def test_two_processes_writing_at_once_keep_every_row_and_one_chain(layout, session, tmp_path):
    session.close()
    go = tmp_path / "go"
    env = {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE, "LUNA_BUSY_TIMEOUT": "30"}
    count = 60
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(layout.home), tag, str(count), str(go)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("a", "b")
    ]
    time.sleep(0.5)
    go.touch()
    windows = []
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        windows.append([float(t) for t in out.split()])
    # Both write loops ran at the same time: each waited on the other's lock.
    assert max(start for start, _ in windows) < min(end for _, end in windows)
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        locators = reopened.run(lambda: [
            e.record_locator for e in
            AuditEvent.select().where(AuditEvent.event_name == "concurrent.write")
        ])
        assert sorted(locators) == sorted(f"{t}-{i}" for t in "ab" for i in range(count))
        assert [f for f in run_checks(reopened) if not f.ok] == []


@pytest.mark.slow
def test_a_vault_busy_beyond_the_timeout_exits_5_and_loses_nothing(layout, session):
    main_key = session.keys.main_db
    session.close()
    holder = encrypted_connection(layout.main_db, main_key)
    holder.execute("BEGIN IMMEDIATE")
    try:
        env = {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE, "LUNA_BUSY_TIMEOUT": "0.3"}
        result = subprocess.run([sys.executable, "-m", "luna_tui", "keys", "list"], env=env,
                                capture_output=True, text=True, timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 5, result.stderr
    assert "busy in another Luna process" in result.stderr
    assert "Traceback" not in result.stderr
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert [f for f in run_checks(reopened) if not f.ok] == []
