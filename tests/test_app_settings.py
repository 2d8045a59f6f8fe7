"""The Settings place (key 0): export and import, the passphrase, the keys, the
settings with the AI endpoint's test, and the doctor's checks, each a form that checks
what is typed as the shell does (through the same services), and the command palette
finding each by name. What the person sees is read from widgets and notifications; what
happened, from the files and the vault."""

from __future__ import annotations

import json
import os

import pytest
from ai_server import FakeModel
from textual.command import CommandPalette
from textual.widgets import Checkbox, Input, OptionList, Select, TabbedContent

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    settle,
    settle_until,
    table_rows,
    type_text,
    unlock,
    widget_text,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.ui.messages import WorkProgress

NEW_PASSPHRASE = "violet tram hums gently"


def fill(session) -> None:
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    journal.create(me, EntryDraft(content="Shared walk by the river", privacy_level="shared"))
    journal.create(me, EntryDraft(content="Private worry about money", mood="anxious",
                                  privacy_level="private"))


async def open_settings(pilot, part: str | None = None) -> None:
    await unlock(pilot)
    await pilot.press("0")
    await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "SettingsScreen"
    if part:
        pilot.app.screen.show_part(part)
        await settle(pilot)


def put(pilot, selector: str, value: str) -> None:
    """Set a field whole (typing key by key is tested once, below)."""
    pilot.app.screen.query_one(selector, Input).value = value


async def press_button(pilot, selector: str) -> None:
    """Focus a button (scrolled into view) and press Enter, as from the keyboard."""
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press("enter")


def active_tab(pilot) -> str:
    return pilot.app.screen.query_one("#settings-parts", TabbedContent).active


# -- reaching it ----------------------------------------------------------------------------


async def palette_prompts(pilot, words: str) -> list[str]:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await type_text(pilot, words)
    await settle_until(pilot, lambda: pilot.app.screen.query_one(
        "CommandList", OptionList).option_count > 0)
    options = pilot.app.screen.query_one("CommandList", OptionList)
    return [str(options.get_option_at_index(i).prompt).split("\n")[0]
            for i in range(options.option_count)]


@pytest.mark.parametrize(("words", "title", "tab", "focused"), [
    ("export", "Export", "tab-transfer", "export-format"),
    ("import", "Import", "tab-transfer", "import-path"),
    ("passphrase", "Change passphrase", "tab-passphrase", "current-passphrase"),
    ("keys", "Vault keys", "tab-keys", "keys-table"),
    ("settings", "Settings", "tab-values", None),
    ("doctor", "Doctor", "tab-doctor", "run-doctor"),
])
async def test_the_palette_finds_each_part_and_opens_it(layout, session, words, title, tab,
                                                         focused):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        prompts = await palette_prompts(pilot, words)
        assert title in prompts
        options = app.screen.query_one("CommandList", OptionList)
        options.highlighted = prompts.index(title)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, CommandPalette)
        assert app.screen.__class__.__name__ == "SettingsScreen"
        assert active_tab(pilot) == tab
        if focused:
            assert app.focused is not None and app.focused.id == focused


async def test_key_0_opens_settings_and_the_keys_help_shows_it(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert ["0", "Settings", "go.settings", ""] in table_rows(pilot, "#keys")
        await pilot.press("escape")
        await pilot.press("0")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SettingsScreen"
        assert active_tab(pilot) == "tab-transfer"


# -- export and import -----------------------------------------------------------------------


async def test_the_export_leaves_private_entries_out_unless_the_box_is_ticked(
        layout, session, tmp_path):
    fill(session)
    session.close()
    target = tmp_path / "out" / "all.json"
    target.parent.mkdir()
    app = make_app(layout)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_settings(pilot, "transfer")
        assert "NOT encrypted" in widget_text(pilot, "#export-warning")
        assert "1 private journal entry: left out" in widget_text(pilot, "#export-private-note")
        assert app.screen.query_one("#export-private", Checkbox).value is False
        put(pilot, "#export-path", str(target))
        await pilot.press("ctrl+s")
        await settle_until(pilot, target.exists)
        document = json.loads(target.read_text())
        assert document["private_entries"] == "left out"
        assert [r["content"] for r in document["tables"]["journal_entries"]] == [
            "Shared walk by the river"]
        assert oct(target.stat().st_mode & 0o777) == "0o600"
        said = notifications(pilot)[-1]
        assert "NOT encrypted" in said and "1 private journal entry was left out" in said
        progress = [m.done for m in messages if isinstance(m, WorkProgress)]
        assert progress[0] == 0.0 and progress[-1] == 1.0  # the export's, in the row

        # Markdown, private entries asked for by name; the file there is replaced (asked).
        app.screen.query_one("#export-format", Select).value = "md"
        await pilot.pause()
        assert app.screen.query_one("#export-path", Input).value.endswith("all.md")
        put(pilot, "#export-path", str(target))
        app.screen.query_one("#export-private", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle_until(pilot, lambda: "Private worry" in target.read_text())
        assert "Shared walk by the river" in target.read_text()


async def test_the_export_form_refuses_no_file_and_a_folder(layout, session, tmp_path):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "transfer")
        put(pilot, "#export-path", "")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Say where to write the export" in field_error(pilot, "export-path")
        put(pilot, "#export-path", str(tmp_path))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is a folder" in field_error(pilot, "export-path")
        put(pilot, "#export-path", str(tmp_path / "missing" / "x.json"))
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: "Nothing was exported" in field_error(
            pilot, "export-path"))
    assert not list(tmp_path.glob("*.json"))


async def test_import_a_jrnl_export_and_a_bad_file_is_said_under_the_field(
        layout, session, tmp_path):
    session.close()
    jrnl = tmp_path / "jrnl.json"
    jrnl.write_text(json.dumps({"tags": {"@old": 1}, "entries": [
        {"title": "From jrnl.", "body": "Old words", "date": "2020-02-02", "time": "10:00",
         "tags": ["@old"], "starred": True}]}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "luna-export", "version": 1}')
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "import")
        await pilot.press("enter")
        await settle(pilot)
        assert "Say which file to import" in field_error(pilot, "import-path")
        put(pilot, "#import-path", str(broken))
        await pilot.press("enter")
        await settle_until(pilot, lambda: "no tables" in field_error(pilot, "import-path"))
        app.screen.query_one("#import-format", Select).value = "jrnl"
        put(pilot, "#import-path", str(jrnl))
        await pilot.press("enter")
        await settle_until(pilot, lambda: any("Imported 1 rows from a jrnl export" in n
                                              for n in notifications(pilot)))
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        me = Settings(reopened).current_patient_id()
        entries = Journal(reopened).page(me, limit=10).entries
        assert [e.title for e in entries] == ["From jrnl."]


# -- the passphrase ---------------------------------------------------------------------------


async def test_change_the_passphrase_typed_twice_never_shown(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "passphrase")
        for field in ("#current-passphrase", "#new-passphrase", "#new-again"):
            assert app.screen.query_one(field, Input).password
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "passphrase you have now" in field_error(pilot, "current-passphrase")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Type the new passphrase" in field_error(pilot, "new-passphrase")
        await type_text(pilot, NEW_PASSPHRASE)  # typed as a person would
        await pilot.press("enter")
        await type_text(pilot, "something else")
        await pilot.press("enter")
        await settle(pilot)
        assert "not the same" in field_error(pilot, "new-again")
        put(pilot, "#new-passphrase", "password")
        put(pilot, "#new-again", "password")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: "passphrase" in field_error(pilot, "new-passphrase"))
        assert "too short" in field_error(pilot, "new-passphrase") or "weak" in field_error(
            pilot, "new-passphrase")
        put(pilot, "#new-passphrase", NEW_PASSPHRASE)
        put(pilot, "#new-again", NEW_PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: any("is changed" in n for n in notifications(pilot)))
        assert app.screen.query_one("#new-passphrase", Input).value == ""
        assert app.screen.query_one("#current-passphrase", Input).value == ""
    with VaultSession.open(layout, NEW_PASSPHRASE):
        pass
    from luna_tui.errors import WrongPassphrase

    with pytest.raises(WrongPassphrase):
        VaultSession.open(layout, PASSPHRASE)


async def test_the_passphrase_changes_only_for_who_knows_the_current_one(layout, session):
    """An unlocked screen left alone is not enough to take the vault: the app asks for
    the current passphrase; a wrong one changes nothing and counts as a failed unlock."""
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "passphrase")
        for typed, said in (("not the passphrase at all", "not the current passphrase"),
                            (OTHER_PASSPHRASE, "read-only")):
            put(pilot, "#current-passphrase", typed)
            put(pilot, "#new-passphrase", NEW_PASSPHRASE)
            put(pilot, "#new-again", NEW_PASSPHRASE)
            await pilot.press("ctrl+s")
            await settle_until(pilot, lambda: field_error(pilot, "current-passphrase"))
            assert said in field_error(pilot, "current-passphrase")
            assert app.screen.query_one("#current-passphrase", Input).value == ""
    with VaultSession.open(layout, PASSPHRASE) as reopened:  # unchanged
        assert len(reopened.failed_unlocks) == 1


# -- the keys -------------------------------------------------------------------------------


async def test_add_a_read_only_key_with_an_expiry_then_revoke_it(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "keys")
        assert [r[0] for r in table_rows(pilot, "#keys-table")] == [
            "owner (this one)", "recovery key"]
        put(pilot, "#key-label", "caregiver")
        put(pilot, "#key-expiry", "31/12/2027")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is not a date; write it as YYYY-MM-DD" in field_error(pilot, "key-expiry")
        put(pilot, "#key-expiry", "2020-01-01")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: any("already past" in n
                                              for n in notifications(pilot)))
        put(pilot, "#key-expiry", "2027-06-30")
        put(pilot, "#key-passphrase", OTHER_PASSPHRASE)
        put(pilot, "#key-again", "not the same")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "did not match" in field_error(pilot, "key-again")
        put(pilot, "#key-again", OTHER_PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: len(table_rows(pilot, "#keys-table")) == 3)
        row = table_rows(pilot, "#keys-table")[2]
        assert row[:4] == ["caregiver", "passphrase", "read-only", "2027-06-30"]
        assert "until 2027-06-30" in notifications(pilot)[-1]

        table = app.screen.query_one("#keys-table")
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle_until(pilot, lambda: len(table_rows(pilot, "#keys-table")) == 2)
    from luna_tui.errors import WrongPassphrase

    with pytest.raises(WrongPassphrase):
        VaultSession.open(layout, OTHER_PASSPHRASE, clock=clock)


async def test_an_access_key_and_a_new_recovery_key_are_shown_once_and_open_the_vault(
        layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "keys")
        put(pilot, "#key-label", "clinic")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "ShownOnce")
        access = widget_text(pilot, "#recovery-key").replace("\n", " ")
        await pilot.press("space")  # "I have written it down"
        await pilot.pause()
        await pilot.click("#close")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SettingsScreen"

        await pilot.click("#replace-recovery")
        await settle(pilot)
        await pilot.press("y")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "ShownOnce")
        recovery = widget_text(pilot, "#recovery-key").replace("\n", " ")
        assert "Close" in str(app.screen.query_one("#close").label)
        assert app.screen.query_one("#close").disabled  # until it is ticked
    with VaultSession.open(layout, access, clock=clock) as reader:
        assert reader.read_only
    with VaultSession.open(layout, recovery, clock=clock):
        pass


# -- the settings ---------------------------------------------------------------------------


async def test_settings_are_checked_as_the_shell_checks_them(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "values")
        assert app.screen.query_one("#setting-auto-lock-minutes", Input).value == "5"
        put(pilot, "#setting-auto-lock-minutes", "abc")
        put(pilot, "#setting-backup-keep", "3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The sentence `luna settings auto_lock_minutes abc` says (Settings.set).
        assert field_error(pilot, "setting-auto-lock-minutes") == (
            "auto_lock_minutes must be a whole number between 1 and 720; 'abc' is not.")
        put(pilot, "#setting-auto-lock-minutes", "10")
        put(pilot, "#setting-ai-api-key", "sk-very-secret")
        assert app.screen.query_one("#setting-ai-api-key", Input).password
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.auto_lock_minutes == 10
        assert "locks after 10 min idle" in str(app.screen.query_one("#lock-hint").content)
        assert field_error(pilot, "setting-auto-lock-minutes") == ""
        key_field = app.screen.query_one("#setting-ai-api-key", Input)
        assert key_field.value == "" and "saved" in key_field.placeholder
        assert not any("sk-very-secret" in n for n in notifications(pilot))
        assert await app.vault.call(Settings(app.session).get, "ai.api_key") == (
            "sk-very-secret")
        forget = app.screen.query_one("#forget-api-key", Checkbox)
        assert forget.display
        forget.value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not forget.display and "none saved" in key_field.placeholder
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        settings = Settings(reopened)
        assert settings.get("auto_lock_minutes") == 10 and settings.get("backup.keep") == 3
        assert settings.get("ai.api_key") == ""


async def test_a_read_only_key_cannot_save_settings_import_or_add_keys(layout, session):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, OTHER_PASSPHRASE)
        await pilot.press("0")
        await settle(pilot)
        app.screen.show_part("values")
        await settle(pilot)
        put(pilot, "#setting-auto-lock-minutes", "30")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "cannot change a setting" in notifications(pilot)[-1]
        app.screen.show_part("import")
        await settle(pilot)
        put(pilot, "#import-path", "/nonexistent.json")
        await pilot.press("enter")
        await settle(pilot)
        assert "cannot import data" in notifications(pilot)[-1]
        app.screen.show_part("keys")
        await settle(pilot)
        put(pilot, "#key-label", "another")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "cannot add a key" in notifications(pilot)[-1]
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert Settings(reopened).get("auto_lock_minutes") == 5
        assert [k.label for k in KeyAdmin(reopened).list_keys()] == [
            "owner", "recovery key", "caregiver"]


async def test_what_is_typed_in_the_settings_stays_when_the_vault_changes_outside(
        layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "values")
        put(pilot, "#setting-backup-keep", "4")
        await app.vault.call(Settings(app.session).set, "auto_lock_minutes", 9)
        await app.screen.refresh_data()
        assert app.screen.query_one("#setting-backup-keep", Input).value == "4"
        assert app.screen.query_one("#setting-auto-lock-minutes", Input).value == "9"


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


async def test_test_connection_lists_the_models_of_the_local_server(layout, session, model):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "values")
        put(pilot, "#setting-ai-base-url", model.base_url)
        put(pilot, "#setting-ai-model", "mistral:7b")
        put(pilot, "#setting-ai-api-key", "sk-local")
        await press_button(pilot, "#test-ai")
        await settle_until(pilot, lambda: "Connected" in widget_text(pilot, "#ai-models"))
        said = widget_text(pilot, "#ai-models")
        assert "2 models: llama3.2:latest, mistral:7b" in said
        assert "'mistral:7b' is among them" in said
        assert model.gets[0][0] == "/api/tags"
        assert model.gets[0][1]["Authorization"] == "Bearer sk-local"
        # What was tested is what is saved: the companion uses it.
        assert "ai.base_url" in notifications(pilot)[-1]
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        assert Settings(reopened).get("ai.base_url") == model.base_url


async def test_test_connection_sends_nothing_to_a_remote_endpoint_without_the_opt_in(
        layout, session, monkeypatch):
    import httpx

    session.close()

    def no_request(*args, **kwargs):
        raise AssertionError("a request was made")

    monkeypatch.setattr(httpx, "Client", no_request)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "values")
        put(pilot, "#setting-ai-base-url", "https://api.example.com")
        put(pilot, "#setting-ai-api-key", "sk-remote-secret")
        await press_button(pilot, "#test-ai")
        await settle_until(pilot, lambda: "not on this machine" in widget_text(
            pilot, "#ai-models"))
        assert "tick ai.allow_remote and save" in widget_text(pilot, "#ai-models")
        assert app.screen.query_one("#setting-ai-allow-remote", Checkbox).value is False


# -- the doctor -------------------------------------------------------------------------------


async def test_the_doctors_checks_run_in_a_worker_and_show_each_result(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "doctor")
        await pilot.press("ctrl+s")
        await settle_until(pilot, lambda: "healthy" in widget_text(pilot, "#doctor-status"))
        findings = [str(label.content) for label in app.screen.query(".doctor-finding")]
        checks = [f.split(":")[0] for f in findings]
        assert {"✓ keys.db", "✓ luna.db", "✓ audit chain", "✓ attachments",
                "✓ permissions"} <= set(checks)


async def test_a_doctor_finding_that_fails_is_shown_as_failed(layout, session):
    session.close()
    os.chmod(layout.home / "luna.db", 0o644)
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "doctor")
        await pilot.click("#run-doctor")
        await settle_until(pilot, lambda: "failed" in widget_text(pilot, "#doctor-status"))
        failed = [str(label.content) for label in app.screen.query(".doctor-finding.error")]
        assert len(failed) == 1 and failed[0].startswith("✗ permissions")


# -- at 80×24 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["transfer", "keys"])
def test_settings_at_80_by_24(snap_compare, layout, session, part):
    """The smallest terminal Luna supports: the tabs, the form's first fields and the
    footer all show (what is below scrolls)."""
    session.close()

    async def run_before(pilot) -> None:
        await open_settings(pilot, part)

    assert snap_compare(make_app(layout), terminal_size=(80, 24), run_before=run_before)


async def test_vault_text_in_the_settings_place_stays_text(layout, session):
    """keys.db is a plain file and a patient's name is typed by a person: markup in
    them is shown as typed, never obeyed."""
    from luna_tui.services.patients import Patients

    KeyAdmin(session).add_key("[b]nurse[/b]", read_only=True, passphrase=OTHER_PASSPHRASE)
    Patients(session).create("[red]Mum[/red]")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "keys")
        assert "[b]nurse[/b]" in [r[0] for r in table_rows(pilot, "#keys-table")]
        app.screen.show_part("import")
        await settle(pilot)
        patients = app.screen.query_one("#import-patient", Select)
        assert "[red]Mum[/red]" in [str(prompt) for prompt, _ in patients._options]
