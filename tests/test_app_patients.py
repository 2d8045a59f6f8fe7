"""Patients in the app: add with a computed age, make current, archive, delete with the
cascade spelled out first."""

from __future__ import annotations

from app_helpers import SIZE, make_app, screen_text, settle, table_rows, type_text, unlock
from conftest import PASSPHRASE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


async def open_patients(pilot) -> None:
    await unlock(pilot)
    await pilot.press("8")
    await settle(pilot)


async def test_add_a_patient_and_make_them_current(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_patients(pilot)
        assert [r[1] for r in table_rows(pilot, "#patients")] == ["Me"]
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Mum")
        await pilot.press("tab")
        await type_text(pilot, "1950-03-04")
        await pilot.pause()
        assert "age 76" in screen_text(pilot)
        await pilot.press("tab")
        await type_text(pilot, "mother")
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = table_rows(pilot, "#patients")
        assert [(r[1], r[2], r[3]) for r in rows] == [("Me", "", "self"),
                                                     ("Mum", "76", "mother")]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert "Mum" in screen_text(pilot).splitlines()[0]
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        mum = Patients(reopened).find("Mum")
        assert mum.date_of_birth == "1950-03-04"
        assert Settings(reopened).current_patient_id() == mum.id


async def test_a_blank_name_is_refused_under_the_field(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_patients(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "name can't be blank" in screen_text(pilot)
        assert app.screen.__class__.__name__ == "PatientFormScreen"


async def test_archive_and_delete_say_what_happens(layout, session):
    dad = Patients(session).create("Dad")
    Journal(session).create(dad.id, EntryDraft(content="Dad's entry"))
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_patients(pilot)
        await pilot.press("down", "a")
        await settle(pilot)
        assert [r[1] for r in table_rows(pilot, "#patients")] == ["Me"]
        await pilot.press("h")  # show archived
        await settle(pilot)
        rows = table_rows(pilot, "#patients")
        assert [(r[1], r[5]) for r in rows] == [("Me", "active"), ("Dad", "archived")]
        await pilot.press("down", "x")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Delete Dad and everything of theirs?" in text
        assert "1 journal entries" in text
        await pilot.press("y")
        await settle(pilot)
        assert [r[1] for r in table_rows(pilot, "#patients")] == ["Me"]
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert [p.name for p in Patients(reopened).list(include_archived=True)] == ["Me"]
