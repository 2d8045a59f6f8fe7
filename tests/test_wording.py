"""What Luna says when something is wrong reads as a sentence a person would write
(issue 15, friction 6): the right article, no field name doubled with its unit, no
Python exception text, no file name of Luna's own, plurals that agree."""

from __future__ import annotations

import pytest

from app_helpers import make_app, settle, unlock
from conftest import PASSPHRASE
from helpers import run_cli
from luna_tui.errors import ValidationError
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.validation import choice, parse_number
from luna_tui.ui.screens.unlock import UnlockScreen


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A closed vault, the passphrase in the environment, no terminal to ask on."""
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def test_a_choice_starting_with_a_vowel_takes_an(capsys, vault):
    result = run_cli(capsys, "appts", "add", "--date", "tomorrow", "--type", "dentist")
    assert result.code == 1
    assert "'dentist' is not an appointment type; choose one of: routine" in result.err
    with pytest.raises(ValidationError, match="'x' is not a dose status"):
        choice("x", "dose status", ("taken",))


def test_sleep_out_of_bounds_names_sleep_once(session, clock):
    me = Settings(session).current_patient_id()
    with pytest.raises(ValidationError) as refused:
        Journal(session).create(me, EntryDraft(content="Bad night", sleep_hours="-5"))
    assert str(refused.value) == ("A night's sleep of -5 hours is not possible; it must be "
                                  "between 0 and 24 hours.")


def test_a_quantity_named_with_its_unit_drops_the_unit_from_its_name():
    with pytest.raises(ValidationError) as refused:
        parse_number("2000", "duration_minutes", low=1, high=1440, unit="minutes")
    assert str(refused.value).startswith("A duration of 2000 minutes is not possible")
    with pytest.raises(ValidationError) as refused:
        parse_number("900", "oxygen_level", low=0, high=100, unit="%")
    assert str(refused.value).startswith("An oxygen level of 900 % is not possible")


def test_the_cli_says_sleep_once_too(capsys, vault):
    result = run_cli(capsys, "add", "--sleep", "-5", "Bad", "night")
    assert result.code == 1
    assert "A night's sleep of -5 hours is not possible" in result.err
    assert "sleep hours of" not in result.err


@pytest.mark.parametrize("typed", ["abc", "0", "721", "2.5"])
def test_a_whole_number_setting_says_what_it_must_be(capsys, vault, typed):
    result = run_cli(capsys, "settings", "auto_lock_minutes", typed)
    assert result.code == 1
    assert ("auto_lock_minutes must be a whole number between 1 and 720; "
            f"'{typed}' is not.") in result.err
    assert "invalid literal" not in result.err


def test_an_export_that_cannot_be_written_names_the_persons_file(capsys, vault, tmp_path):
    ok = run_cli(capsys, "appts", "add", "--date", "tomorrow", "--time", "09:30")
    assert ok.code == 0, ok.err
    missing = tmp_path / "no-such-folder" / "tui-appt.ics"
    result = run_cli(capsys, "appts", "export", "--out", str(missing))
    assert result.code == 1
    assert "luna-tmp" not in result.err
    assert str(missing.parent) in result.err
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    (read_only / "tui-appt.ics").mkdir()  # the person's target is a folder: no replacing it
    result = run_cli(capsys, "appts", "export", "--out", str(read_only / "tui-appt.ics"))
    assert result.code != 0
    assert "luna-tmp" not in result.err and "tui-appt.ics" in result.err


async def test_locking_after_one_minute_says_minute(layout, session, clock):
    Settings(session).set("auto_lock_minutes", 1)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=(100, 36)) as pilot:
        await unlock(pilot)
        await settle(pilot)
        clock.advance(minutes=1)
        await app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.screen.message == "Locked after 1 minute without use."
