"""jrnl's habits in the shell: `luna add` with a leading `yesterday:` and @tags, `luna list`
filters and `luna -n 5`, `luna edit`, `delete`, `star`, and future dates wanting --future.

Every date is said relative to the test clock's today; tests marked `dates` run at each
of conftest's TODAYS (month and year ends, daylight-saving nights, a leap day)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import PASSPHRASE
from helpers import run_cli, stdin
from luna_tui.errors import EXIT_USAGE
from luna_tui.services.drafts import Drafts
from luna_tui.services.vault_session import VaultSession

DAY = dt.timedelta(days=1)


def add(capsys, monkeypatch, text: str, *options: str, code: int = 0):
    stdin(monkeypatch, text)
    result = run_cli(capsys, "add", *options)
    assert result.code == code, result.err
    return result


def entries(capsys, *options: str) -> list[dict]:
    result = run_cli(capsys, "list", "--json", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def now_local(clock) -> dt.datetime:
    return clock.now().astimezone().replace(tzinfo=None)


# -- luna add: a leading date phrase and @tags -----------------------------------------------


@pytest.mark.dates
@pytest.mark.parametrize(("phrase", "days", "time"), [
    ("yesterday", -1, ""), ("3 days ago", -3, ""), ("yesterday at 3pm", -1, "15:00"),
    ("2 weeks ago at 15:00", -14, "15:00"),
])
def test_a_leading_phrase_sets_when_it_happened(capsys, vault, monkeypatch, clock, phrase,
                                                days, time):
    result = add(capsys, monkeypatch, f"{phrase}: Went to the pharmacy\nsecond line\n")
    [entry] = entries(capsys)
    assert entry["entry_date"] == (clock.today() + days * DAY).isoformat()
    assert entry["entry_time"] == time
    assert entry["content"] == "Went to the pharmacy\nsecond line"
    assert f'Read "{phrase}" as' in result.err
    assert "pharmacy" not in result.err  # what was read, never the text


@pytest.mark.dates
def test_today_at_a_time_and_a_weekday(capsys, vault, monkeypatch, clock):
    now = now_local(clock)
    earlier = (now - dt.timedelta(minutes=1)).strftime("%H:%M") if now.minute or now.hour \
        else "00:00"
    add(capsys, monkeypatch, f"today at {earlier}: a dose")
    name = clock.today().strftime("%A").lower()
    add(capsys, monkeypatch, f"{name}: a quiet day")  # today's own weekday: today
    times = {e["content"]: (e["entry_date"], e["entry_time"]) for e in entries(capsys)}
    assert times["a dose"] == (clock.today().isoformat(), earlier)
    assert times["a quiet day"] == (clock.today().isoformat(), "")


def test_an_iso_date_and_time_with_a_colon(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "2026-10-30 21:00: Late dose")
    [entry] = entries(capsys)
    assert (entry["entry_date"], entry["entry_time"], entry["content"]) == (
        "2026-10-30", "21:00", "Late dose")


def test_the_phrase_alone_as_an_argument_and_the_text_piped_in(capsys, vault, monkeypatch,
                                                              clock):
    stdin(monkeypatch, "Knee sore after the stairs @knee\n")
    result = run_cli(capsys, "add", "yesterday:")
    assert result.code == 0, result.err
    [entry] = entries(capsys)
    assert entry["entry_date"] == (clock.today() - DAY).isoformat()
    assert entry["content"] == "Knee sore after the stairs @knee"
    assert entry["tags"] == ["knee"]


def test_the_phrase_as_typed_at_the_prompt(capsys, vault, monkeypatch, clock):
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: True)
    stdin(monkeypatch, "3 days ago: typed at the prompt\n", tty=True)
    assert run_cli(capsys, "add").code == 0
    [entry] = entries(capsys)
    assert entry["entry_date"] == (clock.today() - 3 * DAY).isoformat()
    assert entry["content"] == "typed at the prompt"


def test_at_tags_stay_in_the_text_and_become_tags(capsys, vault, monkeypatch):
    result = add(capsys, monkeypatch, "Pharmacy run @errands, wrote to a@b.com @Knee-Pain.",
                 "--tag", "meds")
    [entry] = entries(capsys)
    assert entry["content"] == "Pharmacy run @errands, wrote to a@b.com @Knee-Pain."
    assert entry["tags"] == ["meds", "errands", "knee-pain"]
    assert "Read tags #errands #knee-pain." in result.err


def test_a_text_without_a_phrase_is_left_whole(capsys, vault, monkeypatch, clock):
    result = add(capsys, monkeypatch, "Note: call the clinic")
    [entry] = entries(capsys)
    assert entry["content"] == "Note: call the clinic"
    assert entry["entry_date"] == clock.today().isoformat()
    assert result.err == ""


def test_date_option_wins_and_the_text_is_kept_whole(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "yesterday: was fine", "--date", "2026-10-01")
    [entry] = entries(capsys)
    assert (entry["entry_date"], entry["content"]) == ("2026-10-01", "yesterday: was fine")


@pytest.mark.dates
@pytest.mark.parametrize(("option", "days", "time"), [
    ("monday at 9:00", None, "09:00"), ("3 days ago", -3, ""), ("yesterday 8pm", -1, "20:00"),
    ("2026-10-30 21:00", None, "21:00"), ("2026-10-30T21:00", None, "21:00"),
])
def test_the_date_option_reads_the_phrases(capsys, vault, monkeypatch, clock, option, days,
                                           time):
    add(capsys, monkeypatch, "x", "--date", option)
    [entry] = entries(capsys)
    today = clock.today()
    expected = {"monday at 9:00": today - today.weekday() * DAY}.get(
        option, today + (days or 0) * DAY)
    if option.startswith("2026"):
        expected = dt.date(2026, 10, 30)
    assert (entry["entry_date"], entry["entry_time"]) == (expected.isoformat(), time)


# -- future dates (friction 8) ------------------------------------------------------------------


@pytest.mark.dates
@pytest.mark.parametrize("when", ["tomorrow", "3000-01-01", "in 2 weeks"])
def test_a_future_date_needs_future(capsys, vault, monkeypatch, clock, when):
    result = add(capsys, monkeypatch, "Plans", "--date", when, code=1)
    assert "in the future" in result.err and "--future" in result.err
    assert entries(capsys) == []
    add(capsys, monkeypatch, "Plans", "--date", when, "--future")
    [entry] = entries(capsys)
    assert entry["entry_date"] > clock.today().isoformat()


@pytest.mark.dates
def test_a_future_phrase_in_the_text_needs_future_and_is_kept_as_a_draft(
        capsys, vault, monkeypatch, clock, layout):
    result = add(capsys, monkeypatch, "tomorrow: dentist", code=1)
    assert "--future" in result.err and "draft" in result.err
    assert entries(capsys) == []
    resumed = run_cli(capsys, "add", "--resume", "--future")
    assert resumed.code == 0, resumed.err
    [entry] = entries(capsys)
    assert entry["entry_date"] == (clock.today() + DAY).isoformat()
    with VaultSession.open(layout, PASSPHRASE) as session:
        assert Drafts(session).newest("journal_entry", source="luna add") is None


def test_a_future_date_is_refused_before_the_passphrase(capsys, vault, monkeypatch):
    monkeypatch.delenv("LUNA_PASSPHRASE")
    stdin(monkeypatch, "", tty=True)
    result = run_cli(capsys, "add", "--date", "3000-01-01")
    assert result.code == 1 and "in the future" in result.err


@pytest.mark.dates
def test_later_today_is_the_future_earlier_today_is_not(capsys, vault, monkeypatch, clock):
    now = now_local(clock)
    later = now + dt.timedelta(minutes=2)
    if later.date() == now.date():
        result = add(capsys, monkeypatch, "x", "--date", f"today at {later:%H:%M}", code=1)
        assert "in the future" in result.err
    add(capsys, monkeypatch, "today, no time", "--date", "today")
    assert [e["content"] for e in entries(capsys)] == ["today, no time"]


# -- luna list: filters, and luna -n ---------------------------------------------------------


@pytest.fixture
def journal(capsys, vault, monkeypatch, clock):
    """Six entries over the last three weeks, relative to the clock's today."""
    today = clock.today()
    for days, text, options in (
        (0, "today's knee @knee", ("--mood-scale", "3", "--favorite")),
        (1, "yesterday sleep @sleep", ("--mood-scale", "7", "--mood", "calm")),
        (8, "last week knee @knee @sleep", ("--mood-scale", "5",)),
        (12, "older walk", ("--mood-scale", "9",)),
        (20, "three weeks @knee", ()),
    ):
        add(capsys, monkeypatch, text, "--date", (today - days * DAY).isoformat(), *options)
    return today


def contents(capsys, *options: str) -> list[str]:
    return [e["content"] for e in entries(capsys, *options)]


@pytest.mark.dates
def test_list_filters(capsys, journal):
    assert contents(capsys, "--tag", "knee") == [
        "today's knee @knee", "last week knee @knee @sleep", "three weeks @knee"]
    assert contents(capsys, "--tag", "@knee", "--tag", "#sleep") == [
        "last week knee @knee @sleep"]
    assert contents(capsys, "--starred") == ["today's knee @knee"]
    assert contents(capsys, "--mood", "7") == ["yesterday sleep @sleep"]
    assert contents(capsys, "--mood", "3-5") == ["today's knee @knee",
                                                 "last week knee @knee @sleep"]
    assert contents(capsys, "--mood", "calm") == ["yesterday sleep @sleep"]
    assert contents(capsys, "--type", "free", "-n", "2") == [
        "today's knee @knee", "yesterday sleep @sleep"]
    assert contents(capsys, "--type", "mood check") == []
    assert contents(capsys, "--from", "yesterday") == [
        "today's knee @knee", "yesterday sleep @sleep"]
    assert contents(capsys, "--to", "yesterday", "-n", "1") == ["yesterday sleep @sleep"]
    assert contents(capsys, "--from", "2 weeks ago", "--to", "8 days ago") == [
        "last week knee @knee @sleep", "older walk"]


@pytest.mark.dates
def test_list_from_last_week(capsys, journal):
    """`last week` is the previous calendar week: from its Monday, to its Sunday."""
    monday = journal - journal.weekday() * DAY - 7 * DAY
    sunday = monday + 6 * DAY
    dated = {e["content"]: dt.date.fromisoformat(e["entry_date"])
             for e in entries(capsys, "-n", "50")}
    since = [c for c, d in dated.items() if d >= monday]
    within = [c for c, d in dated.items() if monday <= d <= sunday]
    assert sorted(contents(capsys, "--from", "last week")) == sorted(since)
    assert sorted(contents(capsys, "--from", "last week", "--to", "last week")) == sorted(
        within)


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "soonish"], "last week"), (["--mood", "11"], "goes from 1 to 10"),
    (["--mood", "0-3"], "goes from 1 to 10"), (["--type", "poem"], "free, prompted"),
])
def test_bad_filters_are_said_before_the_passphrase(capsys, vault, monkeypatch, options,
                                                    message):
    monkeypatch.delenv("LUNA_PASSPHRASE")
    result = run_cli(capsys, "list", *options)
    assert result.code == 1 and message in result.err


def test_luna_dash_n_is_list(capsys, journal):
    shortcut = run_cli(capsys, "-n", "2").out
    assert shortcut == run_cli(capsys, "list", "-n", "2").out
    assert len(shortcut.splitlines()) == 2
    assert run_cli(capsys, "-n2").out == shortcut


def test_no_match_is_said(capsys, journal):
    assert "match" in run_cli(capsys, "list", "--tag", "nothing").out


# -- edit, delete, star --------------------------------------------------------------------


def first_id(capsys) -> str:
    return entries(capsys)[0]["id"]


def test_edit_reads_the_new_text_from_stdin(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "Old text", "--tag", "keep")
    entry_id = first_id(capsys)
    stdin(monkeypatch, "New text after the physio @physio\n")
    result = run_cli(capsys, "edit", entry_id[:8])
    assert result.code == 0, result.err
    assert entry_id[:8] in result.out and "New text" not in result.out
    [entry] = entries(capsys)
    assert entry["content"] == "New text after the physio @physio"
    assert entry["tags"] == ["keep", "physio"]


def test_edit_at_a_terminal_opens_the_apps_editor_never_editor(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "Old text")
    entry_id = first_id(capsys)
    opened = []
    monkeypatch.setenv("EDITOR", "/bin/false-editor-never-run")
    monkeypatch.setattr("luna_tui.cli.main._run_app",
                        lambda args, edit_entry=None: opened.append(edit_entry) or 0)
    stdin(monkeypatch, "", tty=True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    result = run_cli(capsys, "edit", entry_id[:8])
    assert result.code == 0 and opened == [entry_id[:8]]


def test_edit_with_an_empty_text_changes_nothing(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "Kept")
    entry_id = first_id(capsys)
    stdin(monkeypatch, "  \n")
    assert run_cli(capsys, "edit", entry_id).code == 1
    assert entries(capsys)[0]["content"] == "Kept"


def test_delete_wants_yes_in_a_script_and_asks_at_a_terminal(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "To go")
    entry_id = first_id(capsys)
    stdin(monkeypatch, "")
    refused = run_cli(capsys, "delete", entry_id[:8])
    assert refused.code == EXIT_USAGE and "--yes" in refused.err
    stdin(monkeypatch, "n\n", tty=True)
    kept = run_cli(capsys, "delete", entry_id[:8])
    assert kept.code == 0 and "Nothing was deleted" in kept.out
    assert len(entries(capsys)) == 1
    stdin(monkeypatch, "y\n", tty=True)
    assert run_cli(capsys, "delete", entry_id[:8]).code == 0
    assert entries(capsys) == []
    add(capsys, monkeypatch, "Also to go")
    stdin(monkeypatch, "")
    assert run_cli(capsys, "delete", first_id(capsys), "--yes").code == 0
    assert entries(capsys) == []


def test_an_unknown_id_is_a_sentence(capsys, vault, monkeypatch):
    stdin(monkeypatch, "")
    result = run_cli(capsys, "star", "abcd1234")
    assert result.code == 1 and "No entry has the id abcd1234" in result.err


def test_star_and_unstar(capsys, vault, monkeypatch):
    add(capsys, monkeypatch, "A good day")
    entry_id = first_id(capsys)
    assert run_cli(capsys, "star", entry_id[:6]).code == 0
    assert entries(capsys, "--starred")[0]["id"] == entry_id
    assert run_cli(capsys, "star", entry_id[:6], "--off").code == 0
    assert entries(capsys, "--starred") == []


def test_help_lists_the_exit_codes(capsys):
    out = run_cli(capsys, "--help").out
    assert "Passphrases are never taken as arguments" in out
    for code in ("0 ok", "1 error", "2 usage", "3 wrong passphrase", "4 the vault is",
                 "5 busy", "6 the disk is full", "70 a bug", "130 cancelled"):
        assert code in " ".join(out.split()), code


@pytest.mark.dates
def test_a_keys_expiry_reads_the_phrases_too(clock):
    from luna_tui.cli.vault_commands import _expiry_date

    assert _expiry_date("in 2 weeks") == clock.today() + 14 * DAY
    assert _expiry_date("2027-03-31") == dt.date(2027, 3, 31)
