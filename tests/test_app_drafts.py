"""What a person was typing is never thrown away: forms keep an encrypted draft in the
vault as they are typed into; a lock, the idle lock, ctrl+q and a crash leave it; the
next unlock offers to resume it on the same form, patient and row."""

from __future__ import annotations

import json
import time

import pytest
from test_drafts import assert_not_on_disk

from app_helpers import SIZE, make_app, notifications, settle, type_text, unlock
from conftest import OTHER_PASSPHRASE, PASSPHRASE, FakeClock
from helpers import run_cli
from luna_tui.services.drafts import Drafts
from luna_tui.services.journal import Journal, JournalFilter
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications
from luna_tui.services.patients import Patients
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.ui.screens.draft_dialogs import DraftsDialog, QuitDialog
from luna_tui.ui.screens.unlock import UnlockScreen

CANARY = "Qz7W1-woke"  # short: typed key by key


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """The fake clock says 09:30 UTC; dose slots and entry times are local."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def drafts_in(layout):
    with VaultSession.open(layout, PASSPHRASE) as session:
        return Drafts(session).pending()


def audit_diffs(layout, name):
    from luna_tui.store.models.audit import AuditEvent

    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: [e.diff for e in AuditEvent.select().where(
            AuditEvent.event_name == name)])


def open_drafts_now(app):
    """The drafts table as it is, read through the app's own open session."""
    from luna_tui.store.models.drafts import Draft

    return app.session.run(lambda: [(d.kind, json.loads(d.fields)) for d in Draft.select()])


def screen_name(app) -> str:
    return app.screen.__class__.__name__


async def write_new_entry(pilot, text=CANARY) -> None:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await type_text(pilot, text)


async def test_an_entry_survives_ctrl_l_and_is_resumed_then_saved(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await write_new_entry(pilot)
        await pilot.press("tab")
        await type_text(pilot, "Early")  # the title
        await pilot.press("ctrl+l")  # at once: no pause in typing to keep it before
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)

        [draft] = drafts_in(layout)
        assert (draft.kind, draft.item_id, draft.patient_name) == ("journal_entry", None, "Me")
        assert (draft.fields["content"], draft.fields["title"]) == (CANARY, "Early")
        assert_not_on_disk(layout.home, CANARY)

        await unlock(pilot)
        assert isinstance(app.screen, DraftsDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "EntryEditorScreen"
        editor = app.screen
        assert editor.query_one("#content").text == CANARY
        assert editor.query_one("#title").value == "Early"
        assert editor.dirty  # Escape would ask first
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "JournalScreen"
    assert drafts_in(layout) == []
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        me = Settings(reopened).current_patient_id()
        [entry] = Journal(reopened).page(me, JournalFilter()).entries
        assert (entry.content, entry.title) == (CANARY, "Early")
    [diff] = audit_diffs(layout, "draft.resume")
    assert json.loads(diff) == {"kind": "journal_entry",
                                "lengths": {"content": len(CANARY), "entry_date": 10,
                                            "entry_time": 5, "journal_type": 4,
                                            "privacy_level": 6, "title": 5}}


async def test_a_medication_form_survives_the_idle_lock_and_reopens_for_its_patient(
        layout, session):
    mum = Patients(session).create("Mum").id
    Settings(session).set("current_patient", mum)
    session.close()
    clock = FakeClock()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Ramipril-Qx4")
        await pilot.press("tab")
        await type_text(pilot, "5 mg")
        clock.advance(minutes=6)
        await app.lock_if_idle()
        await settle(pilot)
        assert app.session is None

        with VaultSession.open(layout, PASSPHRASE) as between:  # meanwhile, back to Me
            Settings(between).set("current_patient", Patients(between).find("Me").id)
            [draft] = Drafts(between).pending()
            assert (draft.kind, draft.patient_id) == ("medication", mum)
            assert (draft.fields["name"], draft.fields["dosage"]) == ("Ramipril-Qx4", "5 mg")
        assert_not_on_disk(layout.home, "Ramipril-Qx4")

        await unlock(pilot)
        assert isinstance(app.screen, DraftsDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "MedicationFormScreen"
        assert app.patient_id == mum and app.current_mode == "medications"
        form = app.screen
        assert (form.query_one("#name").value, form.query_one("#dosage").value) == (
            "Ramipril-Qx4", "5 mg")
        form.query_one("#frequency").value = "once daily"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "MedicationsScreen"
    assert drafts_in(layout) == []
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert [m.name for m in Medications(reopened).list(mum)] == ["Ramipril-Qx4"]


async def test_changes_to_a_patient_are_kept_for_that_patient_row(layout, session):
    dad = Patients(session).create("Dad", notes="Knee surgery 2019").id
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("8")
        await settle(pilot)
        await pilot.press("down", "e")
        await settle(pilot)
        app.screen.query_one("#notes").focus()
        await pilot.press("end")
        await type_text(pilot, ", hip Qx5")
        await pilot.press("ctrl+l")
        await settle(pilot)
        [draft] = drafts_in(layout)
        assert (draft.kind, draft.item_id, draft.patient_id) == ("patient", dad, None)
        assert draft.fields["notes"] == "Knee surgery 2019, hip Qx5"
        assert_not_on_disk(layout.home, "hip Qx5")
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert screen_name(app) == "PatientFormScreen" and form.patient.id == dad
        assert form.query_one("#notes").text == "Knee surgery 2019, hip Qx5"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert Patients(reopened).get(dad).notes == "Knee surgery 2019, hip Qx5"
        assert Drafts(reopened).pending() == []


async def test_drafts_are_kept_after_a_pause_and_escape_discard_deletes_them(
        layout, session, monkeypatch):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await write_new_entry(pilot, CANARY[:-1])
        assert open_drafts_now(app) == []  # not at every key: after a pause of 1.5 s
        monkeypatch.setattr("luna_tui.ui.draft_keeper.DEBOUNCE_SECONDS", 0.05)
        await type_text(pilot, CANARY[-1])
        await pilot.pause(0.2)
        await settle(pilot)
        [(kind, fields)] = open_drafts_now(app)
        assert (kind, fields["content"]) == ("journal_entry", CANARY)
        await pilot.press(*["backspace"] * len(CANARY))  # back to as it opened
        await pilot.pause(0.2)
        await settle(pilot)
        assert open_drafts_now(app) == []
        await type_text(pilot, "Second thoughts")
        await pilot.pause(0.2)
        await settle(pilot)
        assert len(open_drafts_now(app)) == 1
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # discard
        await settle(pilot)
        assert screen_name(app) == "JournalScreen"
        assert open_drafts_now(app) == []
    assert audit_diffs(layout, "draft.discard") == []  # leaving a form is not an event


async def test_ctrl_q_on_a_changed_form_asks_like_escape(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await write_new_entry(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, QuitDialog) and app.is_running
        await pilot.press("n")  # stay
        await settle(pilot)
        assert screen_name(app) == "EntryEditorScreen"
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("y")  # keep the draft and quit
        await settle(pilot)
    assert app.return_code == 0
    assert [d.fields["content"] for d in drafts_in(layout)] == [CANARY]


async def test_ctrl_q_can_discard_and_an_unchanged_form_quits_at_once(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await write_new_entry(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
    assert drafts_in(layout) == []
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2", "n")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert not isinstance(app.screen, QuitDialog)
    assert drafts_in(layout) == []


async def test_a_crash_leaves_the_draft(layout, session):
    session.close()
    app = make_app(layout)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=SIZE) as pilot:
            await unlock(pilot)
            await write_new_entry(pilot)
            app.call_later(lambda: 1 / 0)  # a bug, unhandled: the app ends
            await settle(pilot)
    assert [d.fields["content"] for d in drafts_in(layout)] == [CANARY]


async def test_the_resume_dialog_discards_with_an_audit_row_or_leaves_for_later(
        layout, session):
    me = Settings(session).current_patient_id()
    drafts = Drafts(session)
    drafts.keep("d-old", "journal_entry", {"content": "An older thought"}, patient_id=me)
    session.clock.advance(minutes=1)
    drafts.keep("d-new", "vital", {"kind": "weight", "value": "71.5"}, patient_id=me)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        dialog = app.screen
        assert isinstance(dialog, DraftsDialog) and list(dialog.drafts) == ["d-new", "d-old"]
        await pilot.press("d")  # the newest, highlighted
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is dialog and list(dialog.drafts) == ["d-old"]
        await pilot.press("escape")  # later
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
    assert [d.id for d in drafts_in(layout)] == ["d-old"]
    [diff] = audit_diffs(layout, "draft.discard")
    assert json.loads(diff) == {"kind": "vital", "lengths": {"kind": 6, "value": 4}}
    assert audit_diffs(layout, "draft.resume") == []


async def test_a_vital_reading_resumes_with_its_kind_and_unit(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        form.query_one("#kind").value = "heart_rate"
        await settle(pilot)
        form.query_one("#value").focus()
        await type_text(pilot, "64")
        await pilot.press("ctrl+l")
        await settle(pilot)
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert screen_name(app) == "VitalFormScreen"
        assert (form.query_one("#kind").value, form.query_one("#value").value,
                form.query_one("#unit").value) == ("heart_rate", "64", "bpm")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "VitalsScreen", notifications(pilot)
    assert drafts_in(layout) == []


async def test_a_read_only_key_keeps_and_sees_no_drafts(layout, session):
    me = Settings(session).current_patient_id()
    Drafts(session).keep("owners", "journal_entry", {"content": "The owner's words"},
                         patient_id=me)
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, OTHER_PASSPHRASE)
        assert screen_name(app) == "DashboardScreen"  # no offer: the drafts are the owner's
        from luna_tui.ui.screens.entry_editor import EntryEditorScreen

        await app.push_screen(EntryEditorScreen(None))  # as if it had opened anyway
        await settle(pilot)
        await type_text(pilot, CANARY)
        await pilot.press("ctrl+l")
        await settle(pilot)
    assert [d.id for d in drafts_in(layout)] == ["owners"]
    assert_not_on_disk(layout.home, CANARY)


async def test_an_entry_luna_add_could_not_save_is_resumed_in_the_editor(
        capsys, layout, session, monkeypatch):
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    result = run_cli(capsys, "add", CANARY, "--mood", "tired", "--tag", "sleep",
                     "--date", "2026-11-21T23:10", "--sleep", "25")
    assert result.code == 1 and "kept as an encrypted draft" in result.err
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("enter")
        await settle(pilot)
        editor = app.screen
        assert screen_name(app) == "EntryEditorScreen"
        assert [editor.query_one(f"#{name}").value for name in (
            "mood", "tags", "entry_date", "entry_time", "sleep_hours")] == [
            "tired", "#sleep", "2026-11-21", "23:10", "25"]
        assert editor.query_one("#content").text == CANARY
        editor.query_one("#sleep_hours").value = "5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "JournalScreen"
    assert drafts_in(layout) == []


def test_every_form_keeps_drafts_and_each_kind_opens_its_own_form():
    """A new form can't forget its drafts: each FormScreen is in ui/drafts.py's FORMS,
    under its own kind, in a place the app has."""
    import importlib
    import pkgutil

    import luna_tui.ui.screens
    from luna_tui.ui.app import _places
    from luna_tui.ui.drafts import FORMS
    from luna_tui.ui.screens.form import FormScreen

    for module in pkgutil.iter_modules(luna_tui.ui.screens.__path__):
        importlib.import_module(f"luna_tui.ui.screens.{module.name}")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = set(subclasses(FormScreen))
    assert len(forms) >= 7
    assert {form.screen_class() for form in FORMS.values()} == forms
    for kind, form in FORMS.items():
        assert form.screen_class().DRAFT_KIND == kind
        assert form.place in _places()


async def test_a_draft_of_every_kind_opens_its_form_filled_in(layout, session):
    me = Settings(session).current_patient_id()
    typed = {"journal_entry": ("content", "Qz-entry"), "medication": ("name", "Qz-med"),
             "appointment": ("provider_name", "Qz-doctor"), "vital": ("value", "71"),
             "record": ("title", "Qz-labs"), "persona": ("name", "Qz-coach"),
             "patient": ("name", "Qz-aunt")}
    for kind, (field, value) in typed.items():
        Drafts(session).keep(f"draft-{kind}", kind, {field: value},
                             patient_id=None if kind in ("persona", "patient") else me)
        session.clock.advance(seconds=1)
    session.close()
    from luna_tui.ui.drafts import FORMS

    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        for kind, (field, value) in reversed(typed.items()):  # newest first
            await unlock(pilot)
            assert isinstance(app.screen, DraftsDialog), kind
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, FORMS[kind].screen_class()), kind
            assert app.current_mode == FORMS[kind].place
            widget = app.screen.query_one(f"#{field}")
            assert getattr(widget, "text", None) == value or widget.value == value, kind
            await pilot.press("escape", "y")  # discard: the next one is offered next time
            await settle(pilot)
            await pilot.press("ctrl+l")
            await settle(pilot)
    assert drafts_in(layout) == []
    assert len(audit_diffs(layout, "draft.resume")) == len(typed)
