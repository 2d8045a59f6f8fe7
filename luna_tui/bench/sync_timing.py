"""`luna bench --sync N`: N changes written on one device and applied on another, and a
third device joining the vault they make.

In a temporary folder: a vault with sync set up, a second device joined from its
snapshot; N journal entries added in one import on the first (each captured by the
triggers), then one `luna sync` round there (the change files written) and one on the
second (applied), and a third device joining from a fresh snapshot.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from luna_tui.bench.runner import PASSPHRASE, Measurement


def run(changes: int, report: Callable[[str], None] = print) -> list[Measurement]:
    from luna_tui.home import VaultLayout
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.settings import Settings
    from luna_tui.services.sync.engine import Syncer
    from luna_tui.services.sync.join import join_sync
    from luna_tui.services.sync.setup import setup_sync
    from luna_tui.services.sync.snapshot import write_snapshot
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.services.vault_setup import create_vault
    from luna_tui.vault.kdf import floor_params

    def drafts() -> Iterator[EntryDraft]:
        return (EntryDraft(content=f"Entry {n}: a walk, some reading, early to bed.",
                           entry_date="2026-01-01", mood_scale=1 + n % 10)
                for n in range(changes))

    with tempfile.TemporaryDirectory(prefix="luna-bench-") as tmp:
        first, second, third, alone = (VaultLayout(Path(tmp) / n) for n in "abcd")
        folder = Path(tmp) / "sync"
        with create_vault(alone, PASSPHRASE, kdf=floor_params()).session as session:
            report(f"adding {changes:,} journal entries to a vault that does not sync")
            me = Settings(session).current_patient_id()
            plain = _timed(lambda: Journal(session).import_entries(me, drafts(),
                                                                  source="bench"))
        session = create_vault(first, PASSPHRASE, kdf=floor_params()).session
        setup_sync(session, folder)
        session.close()
        join_sync(folder, PASSPHRASE, second)
        with VaultSession.open(first, PASSPHRASE) as session:
            report(f"adding {changes:,} journal entries on the first device")
            me = Settings(session).current_patient_id()
            capture = _timed(lambda: Journal(session).import_entries(me, drafts(),
                                                                    source="bench"))
            report("writing its change files")
            write = _timed(lambda: Syncer(session).run())
        size = sum(p.stat().st_size for p in folder.rglob("*.change"))
        with VaultSession.open(second, PASSPHRASE) as session:
            report("applying them on the second device")
            apply = _timed(lambda: Syncer(session).run())
        with VaultSession.open(first, PASSPHRASE) as session:
            write_snapshot(session)
        report("a third device joining from a fresh snapshot")
        join = _timed(lambda: join_sync(folder, PASSPHRASE, third))
    return [
        Measurement(f"sync: {changes:,} entries imported into a vault that does not sync",
                    plain, None, "s"),
        Measurement("sync: the same import with sync on, each captured by the triggers",
                    capture, None, "s"),
        Measurement(f"sync: {changes:,} changes written into change files", write, None, "s"),
        Measurement("sync: their change files' size (compressed, encrypted)", size / 1e3,
                    None, "kB"),
        Measurement(f"sync: {changes:,} changes applied on another device", apply, None, "s"),
        Measurement(f"sync: a new device joining the {changes:,}-entry vault (restore "
                    "with one KDF, then sync)", join, None, "s"),
    ]


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
