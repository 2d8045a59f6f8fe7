"""The safety plan from the shell: `luna plan` shows it, `luna plan --card` shows the
crisis card without the passphrase, and `luna add` says in one neutral line that the plan
is one command away when an entry fires a trigger — and changes nothing else."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import PASSPHRASE
from helpers import run_cli, stdin
from luna_tui.cli.journal_commands import SAFETY_PLAN_LINE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.safety.plan import SafetyPlans
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession


def with_session(layout, do):  # noqa: ANN001, ANN201
    with VaultSession.open(layout, PASSPHRASE) as session:
        return do(session, Settings(session).current_patient_id())


def test_luna_plan_shows_every_section_in_order(capsys, vault):
    with_session(vault, lambda s, me: (
        SafetyPlans(s).add_item(me, "reasons_for_living", "My daughter"),
        SafetyPlans(s).add_item(me, "warning_signs", "Not sleeping")))
    result = run_cli(capsys, "plan")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Me's safety plan"
    headings = [line for line in lines if line[:2] in {f"{n}." for n in range(1, 8)}]
    assert headings == ["1. Warning signs", "2. Internal coping strategies",
                        "3. People and social settings that provide distraction",
                        "4. People I can ask for help",
                        "5. Professionals or agencies to contact in a crisis",
                        "6. Making the environment safe", "7. Reasons for living"]
    assert lines[lines.index("1. Warning signs") + 1] == "   - Not sleeping"
    assert lines[lines.index("7. Reasons for living") + 1] == "   - My daughter"


def test_luna_plan_card_needs_no_passphrase(capsys, vault, monkeypatch):
    def choose(session, me):  # noqa: ANN001, ANN202
        plans = SafetyPlans(session)
        line = plans.add_item(me, "professionals", "Crisis line 0800 555 0199")
        plans.add_item(me, "professionals", "Dr Rivera, not on the card")
        plans.set_card(me, {line.id})

    with_session(vault, choose)
    monkeypatch.delenv("LUNA_PASSPHRASE")
    result = run_cli(capsys, "plan", "--card")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Crisis card",
        "- Crisis line 0800 555 0199  (Professionals or agencies to contact in a crisis)"]


def test_luna_plan_card_without_a_card_is_a_sentence(capsys, vault):
    result = run_cli(capsys, "plan", "--card")
    assert result.code == 1 and "There is no crisis card" in result.err


@pytest.mark.parametrize("text", ["I can't go on", "Some days I WANT TO DIE"])
def test_add_with_a_phrase_prints_one_neutral_line(capsys, vault, monkeypatch, text):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", *text.split())
    assert result.code == 0, result.err
    assert result.err.splitlines() == [SAFETY_PLAN_LINE]
    assert SAFETY_PLAN_LINE == "luna: your safety plan is one command away: luna plan"
    assert result.out.startswith("Saved to Me's journal")  # saved as always


def test_add_without_a_phrase_or_with_the_trigger_off_prints_nothing_more(capsys, vault,
                                                                          monkeypatch):
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", "A", "quiet", "day")
    assert result.code == 0 and result.err == ""
    with_session(vault, lambda s, me: Settings(s).set("safety.phrase_trigger", "off"))
    result = run_cli(capsys, "add", "I", "want", "to", "die")
    assert result.code == 0 and result.err == ""


def test_add_with_a_drop_in_mood_prints_the_same_line(capsys, vault, monkeypatch, clock):
    before = (clock.today() - dt.timedelta(days=1)).isoformat()
    with_session(vault, lambda s, me: Journal(s).create(me, EntryDraft(
        content="Good", mood_scale=9, entry_date=before)))
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", "Flat", "--mood-scale", "3")
    assert result.code == 0 and result.err.splitlines() == [SAFETY_PLAN_LINE]
