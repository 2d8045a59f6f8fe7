"""`luna insights` from a shell: the same rows as the app, as JSON or a table; and the
shell's fast commands never load the numerical libraries the insights need."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from conftest import PASSPHRASE
from helpers import run_cli
from insight_data import plant_mood
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings

KEYS = {"medication", "event", "date", "measure", "before_mean", "after_mean", "difference",
        "ci_low", "ci_high", "days_before", "days_after", "lag_days", "verdict",
        "confounders"}


@pytest.fixture
def planted(session, layout, clock, monkeypatch):
    """The planted record (mood +2 from 3 days after Metformin's start), in a closed vault
    with the passphrase in the environment."""
    plant_mood(session, clock, privacy="private")
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout


def test_json_has_one_object_per_change_and_measure_with_its_numbers(capsys, planted):
    result = run_cli(capsys, "insights", "--json")
    assert result.code == 0, result.err
    [row] = json.loads(result.out)  # one change, one measure: mood (private counts)
    assert KEYS <= set(row)
    assert (row["medication"], row["event"], row["measure"], row["verdict"]) == (
        "Metformin", "started", "mood", "clear change")
    assert row["ci_low"] > 0 and row["lag_days"] in (2, 3, 4)
    assert row["confounders"] == [] and row["patient"] == "Me"


def test_the_table_shows_the_same_verdict_and_a_window_can_be_chosen(capsys, planted):
    result = run_cli(capsys, "insights", "--window", "21")
    assert result.code == 0, result.err
    heading, header, line = result.out.splitlines()[:3]
    assert heading.endswith("Metformin started") and header.split()[:3] == [
        "measure", "before", "after"]
    assert line.split()[0] == "mood" and line.split()[-2:] == ["clear", "change"]
    assert "21/21" in line
    assert run_cli(capsys, "insights", "--window", "3").code == 2  # fewer than 8 days


@pytest.mark.slow
def test_list_and_add_do_not_import_numpy_or_scipy(vault, tmp_path):
    probe = ("import json, sys\n"
             "from luna_tui.cli.main import main\n"
             "codes = [main(['add', 'A', 'quiet', 'day']), main(['list'])]\n"
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy'))\n"
             "print(json.dumps({'codes': codes, 'heavy': heavy}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120, check=False)
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"codes": [0, 0], "heavy": []}, done.stderr


def test_without_changes_it_says_so_and_still_shows_the_pairs(capsys, session, layout, clock,
                                                              monkeypatch):
    me = Settings(session).current_patient_id()
    for days in range(1, 31):
        Journal(session).create(me, EntryDraft(
            content="A day", mood_scale=3 + days % 5, sleep_hours=5 + days % 4,
            entry_date=(clock.today() - dt.timedelta(days=days)).isoformat()))
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    assert json.loads(run_cli(capsys, "insights", "--json").out) == []
    out = run_cli(capsys, "insights").out.splitlines()
    assert out[0].startswith("Me has no medication changes yet")
    header, [pair] = out[2], [line for line in out if line.startswith("Sleep")]
    assert header.split()[:4] == ["first", "→", "then", "rho"]
    assert pair.split()[:3] == ["Sleep", "→", "Mood"] and "30" in pair.split()
