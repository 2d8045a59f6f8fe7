"""The `luna` command: the app by default, sub-commands for scripts.

This is the one place errors meet the person: a `LunaError` becomes its sentence on
stderr and its exit code (0 ok, 1 error, 2 usage, 3 key, 4 corrupt, 5 busy, 6 disk full); anything
else is a crash (luna_tui/crash_report.py): one sentence and exit code 70, with a report
that holds nothing from the vault written only under LUNA_DEBUG=1. The app returns its own
exit code (70 after a crash too). Command modules are imported only when their command
runs, and none of them imports Textual.

When a Luna agent runs (`luna unlock`), it serves the command before anything else is
imported here: this module's own imports are deferred, so the thin client is os, sys,
a socket and JSON (see cli/agent_client.py).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself is not imported: the thin client would pay for it
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from luna_tui import __version__
    from luna_tui.cli import (
        agent_commands,
        ai_commands,
        backup_commands,
        bench_command,
        habit_commands,
        handoff_command,
        health_commands,
        insights_command,
        journal_commands,
        patient_commands,
        plan_command,
        record_commands,
        remind_command,
        settings_command,
        sync_commands,
        vault_commands,
    )
    from luna_tui.cli.parsing import LunaArgumentParser, common_options

    parser = LunaArgumentParser(
        prog="luna",
        description="Luna: an encrypted health journal for the terminal.",
        parents=[common_options(top_level=True)],
        epilog="Passphrases are never taken as arguments: Luna asks for them, or reads "
        "LUNA_PASSPHRASE or --passphrase-file. `luna -n 5` is `luna list -n 5`. "
        "Exit codes: 0 ok, 1 error, 2 usage, 3 wrong passphrase or a key that may not do "
        "it, 4 the vault is damaged or failed a check, 5 busy, 6 the disk is full, 70 a "
        "bug in Luna, 130 cancelled.",
    )
    parser.add_argument("--version", action="version", version=f"luna {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=LunaArgumentParser
    )
    common = common_options(top_level=False)
    journal_commands.register(commands, common)
    habit_commands.register(commands, common)
    health_commands.register(commands, common)
    insights_command.register(commands, common)
    record_commands.register(commands, common)
    vault_commands.register(commands, common)
    settings_command.register(commands, common)
    backup_commands.register(commands, common)
    bench_command.register(commands, common)
    ai_commands.register(commands, common)
    remind_command.register(commands, common)
    patient_commands.register(commands, common)
    handoff_command.register(commands, common)
    plan_command.register(commands, common)
    sync_commands.register(commands, common)
    agent_commands.register(commands, common, run_here)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Whatever the shell's umask, nothing Luna writes is readable by others.
    os.umask(0o077)
    words = _list_shortcut(list(sys.argv[1:] if argv is None else argv))
    served = _served_by_agent(words)
    return run_here(words) if served is None else served


def _served_by_agent(words: list[str]) -> int | None:
    """The exit code of the command run by this vault's agent; None if none runs."""
    if not words:
        return None
    from luna_tui.cli import agent_client

    try:
        return agent_client.serve(words)
    except KeyboardInterrupt:
        print("\nluna: cancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the crash policy holds here too
        from luna_tui import crash_report

        crash_report.tell(crash_report.record(error, where="a command"))
        return crash_report.EXIT_CRASH


_kept_parser: list = []  # argparse.ArgumentParser, imported lazily


def run_here(argv: Sequence[str] | None = None, *, keep_parser: bool = False) -> int:
    """The command in this process. The agent runs the commands it serves with this,
    with `keep_parser`: the parser is built once (10-50 ms a command otherwise)."""
    if keep_parser and not _kept_parser:
        _kept_parser.append(build_parser())
    import argparse

    from luna_tui import crash_report
    from luna_tui.errors import LunaError
    from luna_tui.terminal_text import terminal_text

    parser = _kept_parser[0] if keep_parser else None
    try:
        if not (sys.argv[1:] if argv is None else argv):
            # `luna` alone starts the app: the sub-commands' parsers and modules, all
            # built to find none was asked for, would delay the unlock screen.
            return _run_app(argparse.Namespace(home=None, passphrase_file=None))
        args = (parser or build_parser()).parse_args(_list_shortcut(
            list(sys.argv[1:] if argv is None else argv)))
        # `luna edit ID` and `luna add --template NAME` at a terminal open the app's editor.
        args.start_app = _run_app
        handler = getattr(args, "handler", None) or _run_app
        return int(handler(args) or 0)
    except LunaError as error:
        # A sentence may quote the vault (a key's label, a file's name): text only.
        print(f"luna: {terminal_text(error, multiline=True)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\nluna: cancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `luna list | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001 - the last line of defence
        crash_report.tell(crash_report.record(error, where="a command"))
        return crash_report.EXIT_CRASH


def run() -> None:
    """The `luna` console script (and `python -m luna_tui`): the crash policy covers the
    whole process, so an exception escaping any thread prints its sentence, never a
    traceback. Tests call `main` instead, leaving the test runner's own hooks alone.
    The thin client of an agent starts no thread: its errors are caught in
    `_served_by_agent`, and the hooks are installed only for a command run here."""
    os.umask(0o077)
    served = _served_by_agent(_list_shortcut(sys.argv[1:]))
    if served is not None:
        sys.exit(served)
    from luna_tui import crash_report

    crash_report.install_process_hooks()
    sys.exit(run_here())


def _list_shortcut(argv: list[str]) -> list[str]:
    """jrnl's `-n 5` without a command: `luna -n 5` is `luna list -n 5`."""
    if argv and (argv[0] == "-n" or (argv[0].startswith("-n") and argv[0][2:].isdigit())):
        return ["list", *argv]
    return argv


def _run_app(args: argparse.Namespace, *, edit_entry: str | None = None,
             template: str | None = None) -> int:
    """`luna` with no command: the app (the welcome screen if there is no vault yet);
    `luna edit ID` at a terminal: the app's entry editor on that entry; `luna add
    --template NAME` at a terminal: the editor on a new entry from that template."""
    from luna_tui.home import VaultLayout, resolve_home

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from luna_tui.errors import UsageError

        raise UsageError("The app needs a terminal; for scripts, see `luna --help`.")
    from luna_tui.ui.app import run_app

    layout = VaultLayout(resolve_home(getattr(args, "home", None)))
    if template is not None:
        return run_app(layout, template=template)
    if edit_entry is None:
        return run_app(layout)
    return run_app(layout, edit_entry=edit_entry)


if __name__ == "__main__":
    run()
