"""The read-only guard: inside it every write fails; reads work; outside, writes work."""

from __future__ import annotations

import pytest

from luna_tui.errors import ReadOnlyViolation
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.store.models.base import database
from luna_tui.store.models.patients import Patient
from luna_tui.store.read_only_guard import read_only


def _count(table: str) -> int:
    return database.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("statement", [
    "INSERT INTO personas (id, name, system_prompt, created_at, updated_at) "
    "VALUES ('p', 'Evil', 'x', 'now', 'now')",
    "UPDATE patients SET name = 'changed'",
    "DELETE FROM patients",
    "CREATE TABLE sneaky (x)",
    "DROP TABLE personas",
    "ALTER TABLE patients ADD COLUMN sneaky TEXT",
    "PRAGMA user_version = 99",
    "CREATE TEMP TABLE scratch (x)",
    "DELETE FROM stats.stats",
])
def test_a_write_inside_the_guard_fails(session, statement: str) -> None:
    def attempt() -> None:
        with read_only(database):
            database.execute_sql(statement)

    before = session.run(lambda: (_count("patients"), _count("personas")))
    with pytest.raises(ReadOnlyViolation, match="Luna stopped it and nothing was changed"):
        session.run(attempt)
    assert session.run(lambda: (_count("patients"), _count("personas"))) == before
    assert session.run(lambda: database.execute_sql("PRAGMA user_version").fetchone()[0]) != 99


def test_a_service_write_inside_the_guard_fails(session) -> None:
    me = Settings(session).current_patient_id()

    def attempt() -> None:
        with read_only(database):
            Journal(session).create(me, EntryDraft(content="should not exist"))

    with pytest.raises(ReadOnlyViolation):
        session.run(attempt)
    assert Journal(session).page(me, limit=5).entries == []


def test_a_statement_prepared_before_the_guard_is_checked_again(session) -> None:
    sql = "UPDATE patients SET notes = ? WHERE relationship = 'self'"
    session.run(lambda: database.execute_sql(sql, ("before",)))  # now in the statement cache

    def attempt() -> None:
        with read_only(database):
            database.execute_sql(sql, ("inside",))

    with pytest.raises(ReadOnlyViolation):
        session.run(attempt)
    assert session.run(lambda: Patient.get(Patient.relationship == "self").notes) == "before"


def test_reads_work_inside_and_writes_work_again_after(session) -> None:
    def read() -> tuple[int, list]:
        with read_only(database) as guard:
            names = [p.name for p in Patient.select()]
            database.execute_sql("PRAGMA table_info(patients)").fetchall()
            database.execute_sql(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
                "SELECT count(*) FROM n").fetchone()
            return len(names), guard.denied

    assert session.run(read) == (1, [])
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="written after the guard"))
    assert len(Journal(session).page(me, limit=5).entries) == 1
