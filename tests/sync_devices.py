"""Several vaults of one person on one machine, sharing a sync folder: the helpers the
sync tests share. Each device is a LUNA_HOME of its own; one process opens one vault at
a time, so each step opens, works and locks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import PASSPHRASE, cheap_kdf
from luna_tui.home import VaultLayout
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.sync.engine import Syncer, SyncReport
from luna_tui.services.sync.join import join_sync
from luna_tui.services.sync.setup import setup_sync
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault


@contextmanager
def opened(home: Path, clock) -> Iterator[VaultSession]:  # noqa: ANN001
    session = VaultSession.open(VaultLayout(home), PASSPHRASE, clock=clock)
    try:
        yield session
    finally:
        session.close()


def first_device(home: Path, folder: Path, clock) -> None:  # noqa: ANN001
    created = create_vault(VaultLayout(home), PASSPHRASE, kdf=cheap_kdf(), clock=clock)
    try:
        setup_sync(created.session, folder)
    finally:
        created.session.close()


def join(home: Path, folder: Path, clock) -> SyncReport:  # noqa: ANN001
    return join_sync(folder, PASSPHRASE, VaultLayout(home), clock=clock).report


def sync(home: Path, clock) -> SyncReport:  # noqa: ANN001
    with opened(home, clock) as session:
        return Syncer(session).run()


def me(session: VaultSession) -> str:
    return Settings(session).current_patient_id()


def write_entry(home: Path, clock, content: str) -> str:  # noqa: ANN001
    with opened(home, clock) as session:
        return Journal(session).create(me(session), EntryDraft(content=content)).id


def entries(home: Path, clock) -> dict[str, tuple[str, bool]]:  # noqa: ANN001
    """id → (content, favourite) of every journal entry."""
    with opened(home, clock) as session:
        return session.run(lambda: {
            i: (c, bool(f)) for i, c, f in session._db.connection().execute(
                "SELECT id, content, favorite FROM journal_entries").fetchall()})


def rows(home: Path, clock, sql: str) -> list[tuple]:  # noqa: ANN001
    with opened(home, clock) as session:
        return session.run(lambda: session._db.connection().execute(sql).fetchall())
