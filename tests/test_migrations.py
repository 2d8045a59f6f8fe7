"""Upgrading a vault made by an older Luna: it migrates on open, after an encrypted
copy made with the SQLite backup API, and loses nothing."""

from __future__ import annotations

import json

import pytest

from conftest import PASSPHRASE, cheap_kdf
from helpers import AUDIT_OUTBOX, an_older_luna, encrypted_connection
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vault_setup import create_vault
from luna_tui.store import migrate

OLD_VERSION = "0002_health_data"


@pytest.fixture
def old_vault(layout, clock):
    """A vault as a Luna that only knew migrations up to 0002 left it, with data."""
    with an_older_luna(lambda name: name <= OLD_VERSION):
        created = create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock)
        session = created.session
        me = Settings(session).current_patient_id()
        Journal(session).create(me, EntryDraft(content="Written before the upgrade",
                                               tags=["old"]))

        def old_style_medications():
            from luna_tui.store.models.base import database

            with session.writing("test"):
                for name, frequency in (("Metformin", "twice daily"),
                                        ("Melatonin", "at bedtime"),
                                        ("Salbutamol", "as needed")):
                    database.execute_sql(
                        "INSERT INTO medications (id, patient_id, name, dosage, frequency,"
                        " active, created_at, updated_at)"
                        " VALUES (?, ?, ?, '1 tablet', ?, 1, 't', 't')",
                        (f"med-{name}", me, name, frequency))
            columns = [r[1] for r in database.execute_sql("PRAGMA table_info(medications)")]
            return columns

        assert "schedule" not in session.run(old_style_medications)
        main_key = session.keys.main_db
        session.close()
    return me, main_key


def test_an_old_vault_migrates_on_open_and_keeps_its_data(layout, old_vault):
    me, main_key = old_vault
    assert not list(layout.backups_dir.glob("pre-migration-*"))
    with VaultSession.open(layout, PASSPHRASE) as session:
        meds = {m.name: m.schedule for m in Medications(session).list(me)}
        assert meds == {"Metformin": ("08:00", "20:00"), "Melatonin": ("22:00",),
                        "Salbutamol": ()}
        assert [h.entry.content for h in Journal(session).search(me, "upgrade")] == [
            "Written before the upgrade"]
        applied = session.run(lambda: migrate.applied_migrations(
            __import__("luna_tui.store.models.base", fromlist=["database"]).database.obj,
            migrate.MAIN))
        assert sorted(applied) == migrate.script_names(migrate.MAIN)


def test_the_pre_migration_copy_is_whole_encrypted_and_old(layout, old_vault):
    me, main_key = old_vault
    with VaultSession.open(layout, PASSPHRASE):
        pass
    copies = list(layout.backups_dir.glob("pre-migration-*/luna.db"))
    assert len(copies) == 1
    assert b"Written before the upgrade" not in copies[0].read_bytes()
    with encrypted_connection(copies[0], main_key) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        columns = [r[1] for r in conn.execute("PRAGMA table_info(medications)")]
        assert "schedule" not in columns
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migration ORDER BY id")]
        assert names[-2:] == [OLD_VERSION, AUDIT_OUTBOX]
        assert conn.execute("SELECT count(*) FROM journal_entries").fetchone()[0] == 1


def test_an_up_to_date_vault_is_not_copied_on_open(layout, session):
    session.close()
    with VaultSession.open(layout, PASSPHRASE):
        pass
    assert not layout.backups_dir.exists() or not list(layout.backups_dir.iterdir())


def test_new_medications_get_their_schedule_from_the_service(session):
    me = Settings(session).current_patient_id()
    med = Medications(session).create(me, "Metformin", "500 mg", "twice daily",
                                      schedule="7:30, 19:30")
    assert med.schedule == ("07:30", "19:30")
    from luna_tui.store.models.medications import Medication

    stored = session.run(lambda: Medication.select(Medication.schedule).get())
    assert json.loads(json.dumps(stored.schedule)) == ["07:30", "19:30"]
