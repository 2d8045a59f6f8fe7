"""`luna add` that fails keeps its text: as an encrypted draft where the vault can still
be written (`luna add --resume` saves it), else it says plainly that nothing was saved
and gives back what was typed at the prompt."""

from __future__ import annotations

import json

import pytest
from test_cli_journal import stdin
from test_drafts import assert_not_on_disk

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from helpers import run_cli
from luna_tui.errors import DiskFull, ValidationError
from luna_tui.services.drafts import Drafts
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.patients import Patients
from luna_tui.services.vault_session import VaultSession

CANARY = "Canary-Shell-3P8 the knee hurt after the stairs"


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A closed vault with a second patient, and the passphrase in the environment."""
    Patients(session).create("Mum")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def kept(layout):
    with VaultSession.open(layout, PASSPHRASE) as session:
        return Drafts(session).pending()


def entries(capsys, *args):
    return json.loads(run_cli(capsys, "list", "--json", *args).out)


def audited(layout, name):
    from luna_tui.store.models.audit import AuditEvent

    with VaultSession.open(layout, PASSPHRASE) as session:
        return session.run(lambda: [e.diff for e in AuditEvent.select().where(
            AuditEvent.event_name == name)])


def test_a_bad_option_keeps_the_text_as_a_draft_that_resume_saves(capsys, vault, monkeypatch):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", *CANARY.split(), "--mood", "sore", "--mood-scale", "11",
                     "--tag", "knee")
    assert result.code == 1, result.err
    assert "goes from 1 to 10" in result.err and "kept as an encrypted draft" in result.err
    assert "luna add --resume" in result.err
    [draft] = kept(vault)
    assert (draft.kind, draft.item_id, draft.patient_name) == ("journal_entry", None, "Me")
    assert (draft.fields["content"], draft.fields["mood"], draft.fields["mood_scale"],
            draft.fields["tags"]) == (CANARY, "sore", "11", "#knee")
    assert entries(capsys) == []
    assert_not_on_disk(vault.home, CANARY)

    result = run_cli(capsys, "add", "--resume", "--mood-scale", "7")
    assert result.code == 0, result.err
    [entry] = entries(capsys)
    assert (entry["content"], entry["mood"], entry["mood_scale"], entry["tags"]) == (
        CANARY, "sore", 7, ["knee"])
    assert kept(vault) == []
    [diff] = audited(vault, "draft.resume")
    assert CANARY not in diff and json.loads(diff)["lengths"]["content"] == len(CANARY)
    assert run_cli(capsys, "add", "--resume").code == 1  # nothing left to resume


def test_resume_never_takes_a_draft_the_app_kept(capsys, vault, monkeypatch):
    """The editor's draft of a new entry is the same kind; `--resume` leaves it for the
    app to offer, and saves only the one `luna add` kept, even when it is older."""
    stdin(monkeypatch, "", tty=True)
    assert run_cli(capsys, "add", *CANARY.split(), "--mood-scale", "11").code == 1
    with VaultSession.open(vault, PASSPHRASE) as session:
        Drafts(session).keep("editor", "journal_entry", {"content": "typed in the app"})
    result = run_cli(capsys, "add", "--resume", "--mood-scale", "7")
    assert result.code == 0, result.err
    assert [entry["content"] for entry in entries(capsys)] == [CANARY]
    [left] = kept(vault)
    assert (left.id, left.fields["content"]) == ("editor", "typed in the app")
    result = run_cli(capsys, "add", "--resume")
    assert result.code == 1 and "There is no kept draft" in result.err


def test_piped_text_with_a_bad_date_is_kept(capsys, vault, monkeypatch):
    stdin(monkeypatch, CANARY + "\nsecond line\n")
    result = run_cli(capsys, "add", "--date", "2026-02-30")
    assert result.code == 1 and "not a date" in result.err and "draft" in result.err
    [draft] = kept(vault)
    assert draft.fields["content"] == CANARY + "\nsecond line\n"
    assert draft.fields["entry_date"] == "2026-02-30"
    result = run_cli(capsys, "add", "--resume", "--date", "2026-11-20T08:15")
    assert result.code == 0, result.err
    assert "2026-11-20 08:15" in result.out


def test_a_resume_that_fails_again_keeps_the_draft_with_the_new_options(capsys, vault,
                                                                        monkeypatch):
    stdin(monkeypatch, CANARY)
    assert run_cli(capsys, "add", "--mood-scale", "0").code == 1
    monkeypatch.setattr("luna_tui.services.journal.MAX_CONTENT", 10)
    result = run_cli(capsys, "add", "--resume", "--mood-scale", "6", "--private")
    assert result.code == 1 and "too long" in result.err and "Still not saved" in result.err
    [draft] = kept(vault)
    assert (draft.fields["mood_scale"], draft.fields["privacy_level"]) == ("6", "private")
    assert entries(capsys) == []


def test_an_unknown_patient_keeps_the_text_for_the_one_named_at_resume(capsys, vault,
                                                                       monkeypatch):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", CANARY, "--patient", "Mom")
    assert result.code == 1 and "no patient called 'Mom'" in result.err
    [draft] = kept(vault)
    assert draft.patient_id is None
    assert run_cli(capsys, "add", "--resume", "--patient", "Mum").code == 0
    assert [e["content"] for e in entries(capsys, "--patient", "Mum")] == [CANARY]
    assert entries(capsys) == []  # not in Me's journal


def test_resume_takes_no_text(capsys, vault, monkeypatch):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", "--resume", "more words")
    assert result.code == 2 and "leave TEXT out" in result.err


def test_a_full_disk_says_nothing_was_saved_and_keeps_no_draft(capsys, vault, monkeypatch):
    def full(*args, **kwargs):
        raise DiskFull()

    monkeypatch.setattr("luna_tui.services.journal.Journal.create", full)
    stdin(monkeypatch, CANARY)
    result = run_cli(capsys, "add")
    assert result.code == 6
    assert "Nothing was saved, not even a draft" in result.err
    assert CANARY not in result.err  # piped: its source still has it; never echoed to a log
    assert kept(vault) == []


def test_typed_text_is_given_back_when_not_even_a_draft_can_be_kept(capsys, vault,
                                                                     monkeypatch):
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: True)
    stdin(monkeypatch, CANARY + "\n", tty=True)

    def refused(*args, **kwargs):
        raise ValidationError("The mood is one word or two.", "mood")

    def full(*args, **kwargs):
        raise DiskFull()

    monkeypatch.setattr("luna_tui.services.journal.Journal.create", refused)
    monkeypatch.setattr("luna_tui.services.drafts.Drafts.keep", full)
    result = run_cli(capsys, "add", "--mood", "a very long mood")
    assert result.code == 1
    assert "Here it is, to copy" in result.err and CANARY in result.err
    assert "Nothing was saved, not even a draft" in result.err


def test_text_typed_at_the_prompt_is_kept_when_the_service_refuses_it(capsys, vault,
                                                                      monkeypatch):
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: True)
    stdin(monkeypatch, CANARY + "\n", tty=True)
    result = run_cli(capsys, "add", "--mood", "x" * 41)  # the service's check, not argparse's
    assert result.code == 1 and "kept as an encrypted draft" in result.err
    assert CANARY not in result.err
    assert [d.fields["content"] for d in kept(vault)] == [CANARY]


def test_a_read_only_key_keeps_no_draft_and_says_so(capsys, session, layout, monkeypatch):
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", OTHER_PASSPHRASE)
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", CANARY)
    assert result.code == 3 and "Nothing was saved, not even a draft" in result.err
    assert kept(layout) == []


def test_a_vault_that_will_not_open_says_the_bad_option_and_that_nothing_was_saved(
        capsys, vault, monkeypatch):
    monkeypatch.delenv("LUNA_PASSPHRASE")
    result = run_cli(capsys, "add", CANARY, "--sleep", "30")
    assert result.code == 1
    assert "not possible" in result.err and "Nothing was saved, not even a draft" in result.err
    assert "needs the passphrase" in result.err
