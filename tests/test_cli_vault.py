"""`luna init`, `passwd`, `keys` and `doctor` as a person uses them: prompts, sentences
and exit codes (0 ok, 1 error, 2 usage, 3 key, 4 corrupt, 5 busy)."""

from __future__ import annotations

import re

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import keys_db_rows, loosen_keys_table, rewrite_key_row, run_cli
from luna_tui.services.vault_session import VaultSession


class Answers(list):
    """Answers queued for Luna's prompts; `prompts` records what was asked."""

    prompts: list[str]


@pytest.fixture
def answers(monkeypatch):
    """Type answers at Luna's no-echo prompts, in order."""
    queue = Answers()
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        if not queue:
            raise AssertionError(f"unexpected prompt {text!r}")
        return queue.pop(0)

    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: True)
    monkeypatch.setattr("luna_tui.cli.secrets_input.prompt_secret", prompt)
    queue.prompts = prompts
    return queue


@pytest.fixture
def no_terminal(monkeypatch):
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)


@pytest.mark.slow
def test_init_asks_twice_explains_weak_choices_and_prints_the_recovery_key(
    capsys, answers, layout
):
    answers.extend(["sunset", PASSPHRASE, "typo " + PASSPHRASE, PASSPHRASE, PASSPHRASE])
    result = run_cli(capsys, "init")
    assert result.code == 0, result.err
    assert "too short" in result.out and "did not match" in result.out
    groups = re.findall(r"^    ((?:[0-9A-Z]{4}  ){3}[0-9A-Z]{4})$", result.out, re.MULTILINE)
    assert len(groups) == 2
    recovery = "".join(groups).replace(" ", "")
    assert "Argon2id, 64 MiB" in result.out
    with VaultSession.open(layout, recovery) as session:
        assert session.key.kind == "recovery"
    assert recovery not in layout.keys_db.read_bytes().decode("latin-1")


def test_init_from_a_script_reads_luna_passphrase(capsys, monkeypatch, no_terminal, layout):
    monkeypatch.setattr("luna_tui.vault.kdf.calibrate", lambda *a, **k: _cheap())
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    assert run_cli(capsys, "init").code == 0
    assert layout.exists()
    again = run_cli(capsys, "init")
    assert again.code == 1 and "already a vault" in again.err


def _cheap():
    from conftest import cheap_kdf

    return cheap_kdf()


def test_init_refuses_kdf_seconds_above_the_ceiling_before_asking_anything(capsys, answers,
                                                                          monkeypatch, layout):
    monkeypatch.setattr("luna_tui.vault.kdf._seconds_per_pass", lambda params: 0.001)
    refused = run_cli(capsys, "init", "--kdf-seconds", "10")
    assert refused.code == 3 and "--allow-heavy-kdf" in refused.err
    assert answers.prompts == [] and not layout.exists()
    for bad in ("nan", "inf", "-1", "11", "soon"):
        result = run_cli(capsys, "init", "--kdf-seconds", bad)
        assert result.code == 2 and "seconds from 0 to 10" in result.err, bad


def test_init_refuses_a_weak_passphrase_from_a_script(capsys, monkeypatch, no_terminal, layout):
    monkeypatch.setenv("LUNA_PASSPHRASE", "password1")
    result = run_cli(capsys, "init")
    assert result.code == 1 and "weak" in result.err and "common" in result.err
    assert not layout.exists()


def test_init_gives_up_after_three_tries(capsys, answers, layout):
    answers.extend(["password1", "sunset", PASSPHRASE, "typo"])
    result = run_cli(capsys, "init")
    assert result.code == 2 and "did not match" in result.err
    assert not layout.exists()


def test_without_a_terminal_or_passphrase_luna_says_how_to_give_one(capsys, session, no_terminal):
    session.close()
    result = run_cli(capsys, "keys", "list")
    assert result.code == 2
    assert "LUNA_PASSPHRASE" in result.err and "--passphrase-file" in result.err


def test_a_wrong_passphrase_exits_3(capsys, session, monkeypatch):
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", "definitely not it")
    result = run_cli(capsys, "doctor")
    assert result.code == 3 and "Wrong passphrase" in result.err
    assert "Traceback" not in result.err


def test_a_missing_vault_suggests_init_before_asking_for_a_passphrase(capsys, answers):
    result = run_cli(capsys, "doctor")
    assert result.code == 1 and "luna init" in result.err
    assert answers.prompts == []


def test_a_corrupt_vault_exits_4(capsys, session, layout, monkeypatch):
    session.close()
    layout.main_db.write_bytes(layout.main_db.read_bytes()[:3000])
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    result = run_cli(capsys, "doctor")
    assert result.code == 4 and "luna.db" in result.err and "damaged" in result.err


def test_passphrase_file_and_home_work_before_or_after_the_command(capsys, session, layout,
                                                                   tmp_path, monkeypatch):
    session.close()
    monkeypatch.delenv("LUNA_HOME")
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE + "\n")
    before = run_cli(capsys, "--home", str(layout.home), "--passphrase-file", str(secret),
                     "keys", "list")
    after = run_cli(capsys, "keys", "list", "--home", str(layout.home),
                    "--passphrase-file", str(secret))
    assert before.code == after.code == 0, before.err + after.err
    assert "owner (this one)" in before.out and "recovery key" in after.out
    missing = run_cli(capsys, "keys", "list", "--home", str(layout.home), "--passphrase-file",
                      str(tmp_path / "nope"))
    assert missing.code == 2 and "does not exist" in missing.err


def test_passwd_from_prompts(capsys, session, layout, answers):
    session.close()
    answers.extend([PASSPHRASE, OTHER_PASSPHRASE, OTHER_PASSPHRASE])
    result = run_cli(capsys, "passwd")
    assert result.code == 0, result.err
    assert "passphrase of 'owner' is changed" in result.out
    with VaultSession.open(layout, OTHER_PASSPHRASE):
        pass


def test_keys_add_list_and_revoke(capsys, session, layout, monkeypatch, no_terminal):
    session.close()  # the commands' clock is the test's: the expiry stays ahead of it
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    added = run_cli(capsys, "keys", "add", "--label", "caregiver", "--read-only", "--generate",
                    "--expires", "2027-06-30")
    assert added.code == 0, added.err
    assert "read everything and change nothing until 2027-06-30" in added.out
    access_key = re.search(r"^    ((?:[0-9A-Z]{4} ){7}[0-9A-Z]{4})$", added.out, re.MULTILINE)
    assert access_key
    listed = run_cli(capsys, "keys", "list")
    assert re.search(r"caregiver\s+access\s+read-only\s+2027-06-30", listed.out)

    monkeypatch.setenv("LUNA_PASSPHRASE", access_key.group(1))
    refused = run_cli(capsys, "keys", "add", "--label", "sneaky", "--generate")
    assert refused.code == 3 and "read-only key 'caregiver'" in refused.err

    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    assert run_cli(capsys, "keys", "revoke", "caregiver").code == 0
    monkeypatch.setenv("LUNA_PASSPHRASE", access_key.group(1))
    assert run_cli(capsys, "keys", "list").code == 3


@pytest.mark.parametrize("changes", [
    {"acl": '{"role":"owner"}'},  # a caregiver's key made an owner's
    {"expiry_date": "2099-12-31"},  # its expiry pushed out
    {"kind": "recovery"},  # dressed up as the recovery key
    # Fields of a type Luna never writes (SQLite lets a column hold any):
    {"display_name": "a label as text"},
    {"display_name": None},
    {"acl": 1},
    {"expiry_date": b"2099-12-31"},
    {"wrapped_master_key": None},
], ids=["acl", "expiry", "kind", "label-text", "label-null", "acl-number", "expiry-bytes",
        "wrap-null"])
def test_doctor_and_keys_list_judge_an_edited_key_row_alike(capsys, session, layout,
                                                            monkeypatch, changes):
    import datetime as dt

    from luna_tui.services.key_admin import KeyAdmin

    added = KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE,
                                      expiry=dt.date(2026, 12, 31))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("COLUMNS", "150")  # one table row a line
    assert run_cli(capsys, "doctor").code == 0
    loosen_keys_table(layout.keys_db)
    rewrite_key_row(layout.keys_db, added.info.locator, **changes)
    assert [r["checksum"] for r in keys_db_rows(layout.keys_db)]  # still looks whole

    doctor = run_cli(capsys, "doctor")
    listed = run_cli(capsys, "keys", "list")
    assert doctor.code == 4, doctor.out
    flagged = [line for line in listed.out.splitlines() if line.rstrip().endswith("damaged")]
    assert len(flagged) == 1, listed.out
    name = "(altered key, made 2026-11-22)"
    assert flagged[0].startswith(name)
    assert f"keys.db: {name}" in " ".join(doctor.out.split())
    assert "The vault is healthy" not in doctor.out
    monkeypatch.setenv("LUNA_PASSPHRASE", OTHER_PASSPHRASE)  # the edited key itself opens nothing
    assert run_cli(capsys, "keys", "list").code in (3, 4)


def test_a_key_row_whose_creation_time_is_not_text_is_still_named(capsys, session, layout,
                                                                 monkeypatch):
    from luna_tui.services.key_admin import KeyAdmin

    added = KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    loosen_keys_table(layout.keys_db)
    rewrite_key_row(layout.keys_db, added.info.locator, created_at=None)
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    doctor = run_cli(capsys, "doctor")
    assert doctor.code == 4, doctor.err
    assert ("(altered key, made on an unknown day) (passphrase, read-only) was edited outside "
            "Luna: its created_at is NULL") in " ".join(doctor.out.split())


def test_a_bad_expiry_date_is_a_usage_error(capsys, session):
    result = run_cli(capsys, "keys", "add", "--label", "x", "--expires", "31/12/2027")
    assert result.code == 2 and "YYYY-MM-DD" in result.err


def test_revoking_the_last_owner_passphrase_is_refused(capsys, session, monkeypatch):
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    result = run_cli(capsys, "keys", "revoke", "owner")
    assert result.code == 3 and "only owner passphrase" in result.err


def test_an_unexpected_error_is_one_sentence_without_a_traceback(capsys, monkeypatch, session):
    session.close()

    def broken(args):
        raise ValueError("internal detail")

    monkeypatch.setattr("luna_tui.cli.vault_commands.cmd_doctor", broken)
    result = run_cli(capsys, "doctor")
    assert result.code == 70  # a crash (luna_tui/crash_report.py; more in test_crash_report)
    assert "something went wrong inside Luna (ValueError)" in result.err
    assert "Traceback" not in result.err and "internal detail" not in result.err


def test_settings_are_listed_shown_and_changed(capsys, session, monkeypatch):
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    listed = run_cli(capsys, "settings")
    assert listed.code == 0 and "auto_lock_minutes = 5" in listed.out
    changed = run_cli(capsys, "settings", "auto_lock_minutes", "15")
    assert changed.code == 0 and "auto_lock_minutes = 15" in changed.out
    assert run_cli(capsys, "settings", "auto_lock_minutes").out.strip() == "15"
    bad = run_cli(capsys, "settings", "auto_lock_minutes", "0")
    assert bad.code == 1 and "between 1 and 720" in bad.err
    unknown = run_cli(capsys, "settings", "colour", "blue")
    assert unknown.code == 1 and "no setting called 'colour'" in unknown.err
