"""The habits from the shell: `luna list --today-in-history`, `luna streak`, `luna
templates` and `luna add --template`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import local_timezone
from helpers import run_cli, stdin
from luna_tui.errors import EXIT_USAGE

DAY = dt.timedelta(days=1)


def cli_json(capsys, *argv: str):
    result = run_cli(capsys, *argv, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def add(capsys, monkeypatch, text: str, *options: str, code: int = 0):
    stdin(monkeypatch, text)
    result = run_cli(capsys, "add", *options)
    assert result.code == code, result.err
    return result


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


# -- on this day ---------------------------------------------------------------------------


@pytest.mark.dates
def test_today_in_history_lists_this_day_of_earlier_years(capsys, vault, monkeypatch, clock):
    today = clock.today()
    for years in (1, 2):
        add(capsys, monkeypatch, f"{years} years back", "--date",
            _years_ago(today, years).isoformat())
    add(capsys, monkeypatch, "today", "--date", today.isoformat())
    add(capsys, monkeypatch, "a day off", "--date", (_years_ago(today, 1) - DAY).isoformat())
    found = cli_json(capsys, "list", "--today-in-history")
    leap_day = (today.month, today.day) == (2, 29)
    # On a leap day, one and two years back have no 29th: they fell on the 28th.
    assert [e["content"] for e in found] == ([] if leap_day else
                                            ["1 years back", "2 years back"])
    said = run_cli(capsys, "list", "--on-this-day")
    assert said.code == 0 and (("in earlier years" in said.out) if leap_day
                               else "1 years back" in said.out)


def test_today_in_history_follows_the_local_day(capsys, vault, monkeypatch, clock):
    with local_timezone("Pacific/Auckland"):
        clock.set_local(dt.date(2027, 6, 15), "08:00")  # still 14 June in UTC
        add(capsys, monkeypatch, "Auckland's day", "--date", "2026-06-15")
        add(capsys, monkeypatch, "UTC's day", "--date", "2026-06-14")
        found = cli_json(capsys, "list", "--today-in-history")
    assert [e["content"] for e in found] == ["Auckland's day"]


def test_today_in_history_refuses_other_filters(capsys, vault):
    result = run_cli(capsys, "list", "--today-in-history", "--tag", "walk")
    assert result.code == EXIT_USAGE and "leave the other filters out" in result.err


# -- streak --------------------------------------------------------------------------------


def test_streak_counts_the_journal_and_the_doses(capsys, vault, monkeypatch, clock):
    today = clock.today()
    for back in (0, 1, 2, 4):
        add(capsys, monkeypatch, f"{back} back", "--date", (today - back * DAY).isoformat())
    result = run_cli(capsys, "meds", "add", "Sertraline", "--dosage", "50 mg",
                     "--frequency", "once daily", "--schedule", "08:00",
                     "--start", (today - 2 * DAY).isoformat())
    assert result.code == 0, result.err
    for back in (2, 1):
        day = (today - back * DAY).isoformat()
        assert run_cli(capsys, "dose", "Sertraline", "taken", "--at",
                       f"{day}T08:00").code == 0
    streaks = cli_json(capsys, "streak")
    assert streaks["journal"] == {"current_days": 3, "longest_days": 3, "written_today": True}
    # Today's 08:00 dose may still be ahead or unlogged: today is passed over.
    assert streaks["doses"] == {"current_days": 2, "scheduled": True}
    assert streaks["patient"] == "Me" and streaks["patient_id"]
    said = run_cli(capsys, "streak")
    assert said.code == 0 and "3 days in a row" in said.out


# -- templates -----------------------------------------------------------------------------


def test_templates_are_added_listed_changed_and_deleted(capsys, vault, monkeypatch):
    stdin(monkeypatch, "## What went well\n\n## What was hard\n")
    made = run_cli(capsys, "templates", "add", "Evening check-in", "--title",
                   "Evening {weekday}", "--tag", "evening", "--no-ask-sleep")
    assert made.code == 0, made.err
    [template] = cli_json(capsys, "templates")
    assert (template["name"], template["title"], template["tags"], template["asks_mood"],
            template["asks_sleep"]) == ("Evening check-in", "Evening {weekday}",
                                        ["evening"], True, False)
    assert template["body"] == "## What went well\n\n## What was hard"

    stdin(monkeypatch, "")
    twice = run_cli(capsys, "templates", "add", "EVENING check-in")
    assert twice.code == 1 and "already a template called" in twice.err

    stdin(monkeypatch, "One line only", tty=False)
    changed = run_cli(capsys, "templates", "edit", "even", "--name", "Evening",
                      "--type", "prompted", "--prompt", "What helped today?")
    assert changed.code == 0, changed.err
    [template] = cli_json(capsys, "templates", "list")
    assert (template["name"], template["journal_type"], template["prompt"],
            template["body"]) == ("Evening", "prompted", "What helped today?", "One line only")

    stdin(monkeypatch, "")
    refused = run_cli(capsys, "templates", "delete", "Evening")
    assert refused.code == EXIT_USAGE and "--yes" in refused.err
    assert run_cli(capsys, "templates", "delete", "Evening", "--yes").code == 0
    assert cli_json(capsys, "templates") == []
    missing = run_cli(capsys, "templates", "delete", "Evening", "--yes")
    assert missing.code == 1 and "no template called 'Evening'" in missing.err


def test_add_with_a_template_takes_its_title_tags_and_type(capsys, vault, monkeypatch, clock):
    stdin(monkeypatch, "")
    assert run_cli(capsys, "templates", "add", "Gratitude", "--title", "Thanks, {date}",
                   "--tag", "gratitude", "--type", "prompted", "--prompt",
                   "What are you grateful for?").code == 0
    yesterday = clock.today() - DAY
    add(capsys, monkeypatch, "The sun came out @walk", "--template", "grat", "--tag", "sun",
        "--date", yesterday.isoformat())
    [entry] = cli_json(capsys, "list")
    assert entry["title"] == f"Thanks, {yesterday.isoformat()}"
    assert entry["tags"] == ["gratitude", "sun", "walk"]
    assert (entry["journal_type"], entry["prompt"]) == ("prompted",
                                                        "What are you grateful for?")
    assert entry["content"] == "The sun came out @walk"


def test_add_with_an_unknown_template_keeps_the_text_as_a_draft(capsys, vault, monkeypatch):
    result = add(capsys, monkeypatch, "Worth keeping", "--template", "nope", code=1)
    assert "no template called 'nope'" in result.err and "draft" in result.err
    assert cli_json(capsys, "list") == []


def test_add_with_a_template_at_a_terminal_opens_the_apps_editor(capsys, vault, monkeypatch):
    opened = []
    monkeypatch.setattr("luna_tui.cli.main._run_app",
                        lambda args, template=None: opened.append(template) or 0)
    stdin(monkeypatch, "", tty=True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    assert run_cli(capsys, "add", "--template", "Evening").code == 0
    assert opened == ["Evening"]
    refused = run_cli(capsys, "add", "--template", "Evening", "--mood-scale", "7")
    assert refused.code == EXIT_USAGE and "--mood-scale" in refused.err
    assert opened == ["Evening"]


def test_add_template_at_a_terminal_is_run_here_not_by_an_agent(monkeypatch):
    from luna_tui.cli.agent_client import through_agent

    stdin(monkeypatch, "", tty=True)
    assert not through_agent(["add", "--template", "Evening"])
    assert through_agent(["add", "some", "text"])
