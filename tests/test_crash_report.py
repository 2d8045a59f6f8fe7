"""The crash policy (luna_tui/crash_report.py) and the command line's use of it: an
unexpected exception is one sentence and exit code 70; under LUNA_DEBUG=1 a 0600 report
holds its traceback without locals and without any exception's message. Every test puts
a canary where a careless handler would print it (a local, a message, a note, the vault)
and looks for it in everything written. The app's crashes: tests/test_app_crash.py."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PASSPHRASE, FakeClock
from helpers import run_cli
from luna_tui import crash_report
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.settings import Settings
from luna_tui.services.validation import parse_date

CANARY = "CANARY-crash-7f3a"


def config_dir(luna_home: Path) -> Path:
    return luna_home.parent / "luna-config"  # tests/conftest.py's LUNA_CONFIG_DIR


def reports(folder: Path) -> list[Path]:
    return sorted(folder.glob("crash-*.txt")) if folder.is_dir() else []


def chained_failure() -> BaseException:
    """A Luna ValidationError quoting the canary, the cause of a RuntimeError, during
    whose handling a KeyError (with a note and a local) was raised: three messages,
    one note and two locals that all hold the canary."""
    secret = CANARY  # a local in the failing frame
    try:
        try:
            parse_date(f"{secret} tomorrow", "entry_date", dt.date(2026, 11, 22))
        except Exception as error:
            raise RuntimeError(f"could not save '{secret}'") from error
    except RuntimeError:
        try:
            raise KeyError(secret)
        except KeyError as last:
            last.add_note(f"note: {secret}")
            return last
    raise AssertionError("unreachable")


def test_the_report_keeps_types_places_and_luna_lines_but_no_message_or_local():
    text = crash_report.traceback_text(chained_failure())
    assert CANARY not in text
    # Oldest first, joined as Python joins them, each type named, each message withheld.
    kinds = [line.split(":")[0] for line in text.splitlines() if crash_report.WITHHELD in line]
    assert kinds == ["luna_tui.errors.ValidationError", "RuntimeError", "KeyError"]
    assert "The above exception was the direct cause" in text
    assert "During handling of the above exception" in text
    # Files, lines and functions; the source line of Luna's own code, not of the caller's.
    assert 'File "luna_tui/services/validation.py", line ' in text and ", in parse_date" in text
    assert "raise ValidationError(" in text
    assert 'test_crash_report.py", line ' in text and "in chained_failure" in text
    assert "secret" not in text  # the test's own lines (and names in them) are left out


def test_a_syntax_error_and_an_exception_group_keep_nothing_of_their_text():
    try:
        compile(f"x = '{CANARY}' +", "<typed>", "exec")
    except SyntaxError as error:
        syntax = error
    group = ExceptionGroup(f"group {CANARY}", [ValueError(CANARY), syntax])
    try:
        raise group
    except ExceptionGroup as raised:
        text = crash_report.traceback_text(raised)
    assert CANARY not in text
    assert "exception 1 of 2" in text and "| ValueError: " in text and "| SyntaxError: " in text


def test_without_luna_debug_nothing_is_written_and_the_sentence_says_how_to_report(
        luna_home):
    crash = crash_report.record(chained_failure(), where="a test")
    assert crash == crash_report.Crash(kind="KeyError")
    said = crash_report.sentence(crash)
    assert said.startswith("something went wrong inside Luna (KeyError); ")
    assert "LUNA_DEBUG=1" in said
    assert not config_dir(luna_home).exists()


def test_with_luna_debug_the_report_is_a_private_file_named_in_the_sentence(
        luna_home, monkeypatch):
    monkeypatch.setenv("LUNA_DEBUG", "1")
    clock = FakeClock()
    old_umask = os.umask(0)  # a careless umask must not make it readable by others
    try:
        first = crash_report.record(chained_failure(), where="a test", clock=clock)
        second = crash_report.record(chained_failure(), where="a test", clock=clock)
    finally:
        os.umask(old_umask)
    folder = config_dir(luna_home)
    assert reports(folder) == sorted([first.report, second.report])  # same second: two files
    assert first.report.name == f"crash-20261122-093000-{os.getpid()}.txt"
    for path in (first.report, second.report):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert CANARY.encode() not in path.read_bytes()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    text = first.report.read_text()
    assert "Where: a test" in text and "When: 2026-11-22T09:30:00.000Z" in text
    assert "in parse_date" in text
    assert str(first.report) in crash_report.sentence(first)


def test_a_report_that_cannot_be_written_is_said_and_the_crash_still_told(
        luna_home, monkeypatch):
    monkeypatch.setenv("LUNA_DEBUG", "1")
    config_dir(luna_home).parent.mkdir(parents=True, exist_ok=True)
    config_dir(luna_home).write_text("a file where the folder should be")
    crash = crash_report.record(chained_failure(), where="a test")
    assert crash.kind == "KeyError" and crash.report is None
    said = crash_report.sentence(crash)
    assert "could not be written" in said and CANARY not in said


# -- the command line ------------------------------------------------------------------


@pytest.fixture
def diary(session):
    """A vault whose only entry is the canary; closed, ready for the CLI."""
    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content=CANARY, entry_date="2026-11-21"))
    session.close()


@pytest.mark.parametrize("debug", [False, True])
def test_a_command_that_fails_in_a_db_thread_call_says_one_sentence(
        capsys, luna_home, monkeypatch, diary, debug):
    """`luna list`, where reading the entries fails on the DB thread with a message that
    quotes the entry (a date parser given its text)."""
    original = Journal.page

    def failing_page(self, patient_id, *args, **kwargs):
        def on_db_thread():
            content = original(self, patient_id, *args, **kwargs).entries[0].content
            return dt.date.fromisoformat(content)  # "Invalid isoformat string: 'CANARY…'"

        return self.session.run(on_db_thread)

    monkeypatch.setattr(Journal, "page", failing_page)
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    if debug:
        monkeypatch.setenv("LUNA_DEBUG", "1")
    result = run_cli(capsys, "list")
    assert result.code == crash_report.EXIT_CRASH == 70
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "luna: something went wrong inside Luna (ValueError); ")
    assert CANARY not in result.err and "Traceback" not in result.err
    made = reports(config_dir(luna_home))
    if not debug:
        assert made == [] and "LUNA_DEBUG=1" in result.err
        return
    [report] = made
    assert str(report) in result.err
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text()
    assert CANARY not in text
    assert "Where: a command" in text and "in on_db_thread" in text
    assert "luna_tui/cli/journal_commands.py" in text and "ValueError: " in text


def test_a_command_that_raises_with_a_canary_local_and_message(capsys, luna_home,
                                                                monkeypatch, diary):
    def broken(args):
        title = CANARY  # noqa: F841 - a local Textual's or rich's traceback would show
        raise LookupError(f"no patient named {CANARY}")

    monkeypatch.setattr("luna_tui.cli.vault_commands.cmd_doctor", broken)
    monkeypatch.setenv("LUNA_DEBUG", "1")
    result = run_cli(capsys, "doctor")
    assert result.code == 70 and CANARY not in result.out + result.err
    [report] = reports(config_dir(luna_home))
    assert CANARY not in report.read_text() and "in broken" in report.read_text()


def test_a_luna_error_is_still_its_own_sentence_and_code(capsys, luna_home, monkeypatch):
    monkeypatch.setenv("LUNA_DEBUG", "1")
    result = run_cli(capsys, "list")  # no vault here
    assert result.code == 1 and "There is no Luna vault" in result.err
    assert reports(config_dir(luna_home)) == []


# -- the whole process ------------------------------------------------------------------


def run_luna_process(tmp_path: Path, body: str, *, debug: bool) -> subprocess.CompletedProcess:
    """Run `body` (which may patch Luna) then Luna's console script entry, as `luna`."""
    script = tmp_path / "launch.py"
    script.write_text(textwrap.dedent(body) + textwrap.dedent("""
        from importlib.metadata import entry_points
        [luna] = entry_points(group="console_scripts", name="luna")
        luna.load()()
    """))
    env = {**os.environ}
    env.pop("LUNA_DEBUG", None)
    if debug:
        env["LUNA_DEBUG"] = "1"
    return subprocess.run([sys.executable, str(script), "doctor"], capture_output=True,
                          text=True, env=env, timeout=60, input="")


@pytest.mark.parametrize("debug", [False, True])
def test_an_exception_escaping_a_thread_of_luna_prints_only_the_sentence(
        tmp_path, luna_home, debug):
    result = run_luna_process(tmp_path, f"""
        import threading
        import luna_tui.cli.vault_commands as commands

        def doctor(args):
            def background():
                secret = "{CANARY}"
                raise ValueError("bad value " + secret)
            worker = threading.Thread(target=background, name="worker")
            worker.start()
            worker.join()
            return 0

        commands.cmd_doctor = doctor
    """, debug=debug)
    assert result.returncode == 0  # the command itself finished
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("luna: something went wrong inside Luna (ValueError) in a "
                           "background task; ")
    assert CANARY not in result.stderr
    made = reports(config_dir(luna_home))
    assert len(made) == int(debug)
    if debug:
        assert str(made[0]) in line and CANARY not in made[0].read_text()
        assert "Where: a background thread (worker)" in made[0].read_text()


def test_an_exception_escaping_luna_entirely_prints_only_the_sentence(tmp_path, luna_home):
    """What main() does not catch (a BaseException that is not an Exception) meets the
    process's hook instead of Python's traceback."""
    result = run_luna_process(tmp_path, f"""
        import luna_tui.cli.vault_commands as commands

        class Escaping(BaseException):
            pass

        def doctor(args):
            raise Escaping("{CANARY}")

        commands.cmd_doctor = doctor
    """, debug=True)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith("luna: something went wrong inside Luna (Escaping); please attach")
    [report] = reports(config_dir(luna_home))
    assert CANARY not in result.stderr + report.read_text()
    assert "Where: the luna process" in report.read_text()


def test_an_unraisable_exception_prints_only_the_sentence(tmp_path, luna_home):
    """An exception in a __del__ can't be raised; Python prints "Exception ignored in:"
    with the object's repr and a traceback instead. The process's hook says the sentence,
    and the command goes on."""
    result = run_luna_process(tmp_path, f"""
        import gc
        import luna_tui.cli.vault_commands as commands

        class Holder:
            def __repr__(self):
                return "Holder({CANARY})"

            def __del__(self):
                raise ValueError("{CANARY}")

        def doctor(args):
            Holder()
            gc.collect()
            return 0

        commands.cmd_doctor = doctor
    """, debug=True)
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("luna: something went wrong inside Luna (ValueError) while "
                           "cleaning up (Luna went on); please attach")
    [report] = reports(config_dir(luna_home))
    assert CANARY not in result.stderr + report.read_text()
    assert "Where: an exception Python could not raise" in report.read_text()
