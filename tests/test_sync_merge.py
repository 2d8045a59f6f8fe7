"""The merge's promise, as a property: the same set of changes, applied in any order and
any number of times, leaves the same vault (store/sync/merge.py).

Three devices' changes to a few journal entries — inserts, edits of different and of the
same fields, stars, deletes, with clocks that tie and clocks that skew — are merged in
seeded random orders, each in a transaction that is rolled back after the vault's state
is read."""

from __future__ import annotations

import random

import pytest

from luna_tui.services.settings import Settings
from luna_tui.services.sync.setup import setup_sync
from luna_tui.store.sync.changes import Change
from luna_tui.store.sync.merge import Merger
from luna_tui.store.sync.tables import describe, synced_tables

DEVICES = ("1111111111111111", "2222222222222222", "3333333333333333")
ORDERS = 40
# Every column of a journal entry, as the capture trigger sends an insert (so the merge
# keeps one clock for the row: store/sync/clocks.py).
WHOLE_ENTRY = {
    "id": None, "patient_id": None, "session_id": None, "title": None, "content": None,
    "entry_date": "2026-11-20", "entry_time": "", "mood": None, "mood_scale": None,
    "sleep_hours": None, "emotions": "[]", "tags": "[]", "journal_type": "free",
    "prompt": None, "privacy_level": "private", "favorite": 0,
    "created_at": "2026-11-20T09:00:00.000Z", "updated_at": "2026-11-20T09:00:00.000Z"}


def random_history(rng: random.Random, patient: str) -> list[tuple[Change, str]]:
    """(change, the device that made it): each entry inserted by one device, then edited,
    starred, sometimes rewritten whole and sometimes deleted by any."""
    history = []
    used: set[tuple[int, str]] = set()

    def clock(device: str, earliest: int) -> int:
        """A device's clock never repeats (the HLC counts on); two devices' may tie."""
        hlc = earliest + rng.randrange(1, 30)
        while (hlc, device) in used:
            hlc += 1
        used.add((hlc, device))
        return hlc

    for n in range(4):
        key = f"entry-{n}"
        maker = rng.choice(DEVICES)
        born = clock(maker, 1000)
        history.append((Change("journal_entries", key, "u", {
            **WHOLE_ENTRY, "id": key, "patient_id": patient, "content": f"first {n}"},
            born), maker))
        for _ in range(rng.randrange(3, 10)):
            column, value = rng.choice([
                ("content", f"edit {rng.randrange(1000)}"), ("title", f"t{rng.randrange(99)}"),
                ("favorite", rng.randrange(2)), ("mood_scale", rng.randrange(1, 11))])
            # Clocks from a small range: ties between devices happen.
            device = rng.choice(DEVICES)
            history.append((Change("journal_entries", key, "u", {column: value},
                                   clock(device, born)), device))
        if rng.random() < 0.5:  # an edit that sets every column, as an insert does
            device = rng.choice(DEVICES)
            history.append((Change("journal_entries", key, "u", {
                **WHOLE_ENTRY, "id": key, "patient_id": patient,
                "content": f"rewritten {rng.randrange(1000)}", "favorite": rng.randrange(2)},
                clock(device, born)), device))
        if rng.random() < 0.3:
            device = rng.choice(DEVICES)
            history.append((Change("journal_entries", key, "d", None, clock(device, born)),
                            device))
    return history


def merged_state(session, history: list[tuple[Change, str]], *, twice: bool = False):
    db = session._db

    def merge() -> list[tuple]:
        conn = db.connection()
        with db.atomic() as txn:
            conn.execute("INSERT INTO sync_applying (id) VALUES (1)")
            merger = Merger(conn, "0000000000000000", synced_tables(conn),
                            session.layout.home, lambda _id: None)
            for _ in range(2 if twice else 1):
                for change, device in history:
                    merger.merge(change, device)
                merger.settle_pending()
            state = conn.execute(
                "SELECT id, content, title, favorite, mood_scale FROM journal_entries "
                "ORDER BY id").fetchall()
            state += conn.execute("SELECT tbl, row_key, cols FROM sync_pending "
                                  "ORDER BY row_key").fetchall()
            txn.rollback()
        return state

    return session.run(merge)


def test_the_whole_entry_is_every_synced_column(session):
    columns = session.run(lambda: describe(session._db.connection(), "journal_entries").columns)
    assert set(columns) == set(WHOLE_ENTRY)


@pytest.mark.parametrize("seed", range(8))
def test_any_order_gives_the_same_vault(session, tmp_path, seed):
    setup_sync(session, tmp_path / "sync")
    patient = Settings(session).current_patient_id()
    rng = random.Random(seed)
    history = random_history(rng, patient)
    expected = merged_state(session, history)
    assert expected  # the history leaves something to compare
    for _ in range(ORDERS):
        shuffled = history[:]
        rng.shuffle(shuffled)
        assert merged_state(session, shuffled) == expected
    assert merged_state(session, history, twice=True) == expected


def test_a_star_and_an_edit_of_another_field_both_win(session, tmp_path):
    setup_sync(session, tmp_path / "sync")
    patient = Settings(session).current_patient_id()
    insert = Change("journal_entries", "e", "u", {
        "id": "e", "patient_id": patient, "content": "first", "entry_date": "2026-11-20",
        "favorite": 0}, 10)
    edit = Change("journal_entries", "e", "u", {"content": "second"}, 20)
    star = Change("journal_entries", "e", "u", {"favorite": 1}, 15)
    history = [(insert, DEVICES[0]), (edit, DEVICES[0]), (star, DEVICES[1])]
    for order in (history, history[::-1], [history[1], history[0], history[2]]):
        [row] = merged_state(session, order)
        assert row[1:4] == ("second", None, 1)
