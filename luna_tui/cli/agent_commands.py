"""`luna unlock`, `luna lock` and `luna agent`: unlock once per sitting.

`luna unlock` reads the passphrase as every command does (the prompt, LUNA_PASSPHRASE or
--passphrase-file) and hands it to the vault's agent over its private socket: to the
`luna agent --wait` already waiting, else to an agent it starts in the background. The
agent derives the key and keeps it; the passphrase itself is not kept anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from luna_tui import agent_link
from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.errors import LunaError, UsageError

DEFAULT_FOR = "8h"
DEFAULT_IDLE = "30m"
MAX_SECONDS = 7 * 24 * 3600
START_PATIENCE_SECONDS = 30.0  # a loaded machine: Python and the parser, at worst


class AgentMissing(LunaError):
    """The agent `luna unlock` started did not come up."""


def duration(text: str) -> float:
    """An argparse type: `8h`, `30m`, `90s`, `1h30m` (at most 7 days); `0` is none."""
    match = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text.strip())
    if text.strip() == "0":
        return 0.0
    if not text.strip() or match is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration such as 8h, 30m or 1h30m")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"'{text}' is longer than 7 days")
    return float(total)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
             run_here: Callable[..., int]) -> None:
    """`run_here` runs one command in this process (main.py's): what the agent runs."""
    unlock = commands.add_parser(
        "unlock", parents=[common], help="unlock once: an agent keeps the vault open",
        description="Ask the passphrase once and keep the vault unlocked in a background "
        "agent, which runs every `luna` command of this user for this vault without "
        "deriving the key again (the key never leaves the agent). Any process of yours can "
        "use it while it runs, as with ssh-agent; see README, Security.",
    )
    unlock.add_argument("--for", dest="for_", type=duration, default=duration(DEFAULT_FOR),
                        metavar="TIME", help=f"lock after this long (default {DEFAULT_FOR})")
    unlock.add_argument("--idle", type=duration, default=duration(DEFAULT_IDLE),
                        metavar="TIME", help=f"lock after this long unused (default "
                        f"{DEFAULT_IDLE}; 0 for no idle limit)")
    unlock.set_defaults(handler=cmd_unlock)

    lock = commands.add_parser(
        "lock", parents=[common], help="end the agent `luna unlock` started",
        description="Lock: the agent drops the key (an agent from `luna agent --wait` "
        "keeps waiting, locked).",
    )
    lock.set_defaults(handler=cmd_lock)

    agent = commands.add_parser(
        "agent", parents=[common], help="the agent: its status, or a locked agent that waits",
        description="`luna agent status` says whether an agent runs for this vault. "
        "`luna agent --wait` runs a locked agent in the foreground (e.g. from a systemd "
        "user unit at login): it holds no key and answers every command with \"locked: "
        "run luna unlock\" until `luna unlock` hands it the unlock.",
    )
    agent.add_argument("--wait", action="store_true",
                       help="run a locked agent in the foreground until SIGTERM")
    agent.add_argument("--exit-when-locked", action="store_true", help=argparse.SUPPRESS)
    agent_actions = agent.add_subparsers(dest="agent_command", metavar="ACTION",
                                         parser_class=LunaArgumentParser)
    agent.set_defaults(handler=functools.partial(cmd_agent, run_here=run_here))
    status = agent_actions.add_parser("status", parents=[common],
                                      help="is an agent running, for which key, until when")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=cmd_agent_status)


def _home(args: argparse.Namespace) -> Path:
    from luna_tui.cli.vault_commands import layout_from

    return layout_from(args).home


def _ask(home: Path, op: str, **fields: object) -> dict | None:
    """The agent's answer, or None if none runs; a stale socket is removed and said."""
    try:
        sock = agent_link.connect(home)
    except agent_link.Stale as stale:
        print(f"luna: note: removed the socket of a Luna agent that is gone ({stale}).",
              file=sys.stderr)
        return None
    if sock is None:
        return None
    with sock:
        try:
            agent_link.send(sock, {"op": op, **fields})
            return agent_link.receive(sock)
        except ConnectionError:
            return None  # it ended just now


def _local_time(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def cmd_unlock(args: argparse.Namespace) -> int:
    from luna_tui.cli.secrets_input import read_passphrase
    from luna_tui.cli.vault_commands import layout_from

    layout = layout_from(args)
    layout.require_vault()
    status = _ask(layout.home, "status")
    if status and status.get("unlocked"):
        raise agent_link.AgentRunning(f"A Luna agent already holds this vault unlocked (the "
                           f"{status.get('role')} key, until {_local_time(status['until'])}); "
                           "`luna lock` ends it.")
    if args.for_ <= 0:
        raise UsageError("--for must be longer than 0.")
    secret = read_passphrase(args)
    if status is None:
        _start_agent(layout.home)
    answer = _ask(layout.home, "unlock", secret=secret, idle=args.idle, **{"for": args.for_})
    if answer is None:
        raise AgentMissing("The Luna agent ended before it could unlock; try again.")
    if not answer.get("ok"):
        error = LunaError(str(answer.get("error")))
        error.exit_code = int(answer.get("exit", 1))
        raise error
    for note in answer.get("notes", []):
        print(f"luna: {note}", file=sys.stderr)
    idle = f", or after {_said(args.idle)} unused" if args.idle else ""
    print(f"Unlocked with the {answer['role']} key: an agent keeps this vault open until "
          f"{_local_time(answer['limit'])}{idle}. `luna lock` ends it.")
    return 0


def _said(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 60:
        return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    return f"{minutes} min" if minutes else f"{int(seconds)} s"


def _start_agent(home: Path) -> None:
    """An agent for `home` in the background, in its own session (it outlives this
    shell's job control), with nothing of this terminal; wait until it answers."""
    from luna_tui.cli.secrets_input import NEW_PASSPHRASE_ENV, PASSPHRASE_ENV

    # The passphrase goes over the socket, once; it must not live on in the agent's
    # environment.
    env = {name: value for name, value in os.environ.items()
           if name not in (PASSPHRASE_ENV, NEW_PASSPHRASE_ENV)}
    # What it says (its lifecycle, never vault data) goes to a log beside its socket.
    log_path = agent_link.socket_path(home).removesuffix(agent_link.SOCKET_SUFFIX) + ".log"
    agent_link.private_folder(os.path.dirname(log_path), create=True)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        # -I and cwd "/": `-m` would put the working folder first on sys.path, where a
        # folder named luna_tui would be run instead of Luna (with the passphrase).
        agent = subprocess.Popen(
            [sys.executable, "-I", "-m", "luna_tui", "agent", "--wait", "--exit-when-locked",
             "--home", str(home)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            start_new_session=True, close_fds=True, env=env, cwd="/",
        )
    finally:
        os.close(log)
    started = time.monotonic()
    while time.monotonic() - started < START_PATIENCE_SECONDS and agent.poll() is None:
        try:
            sock = agent_link.connect(home)
        except agent_link.Stale:
            sock = None
        if sock is not None:
            sock.close()
            return
        time.sleep(0.02)
    raise AgentMissing(f"The Luna agent did not start (its log: {log_path}).")


def cmd_lock(args: argparse.Namespace) -> int:
    home = _home(args)
    answer = _ask(home, "end", reason="luna lock")
    if answer is None:
        print("No Luna agent runs for this vault; nothing to lock.")
    elif answer.get("held"):
        print("Locked: the agent dropped the key.")
    else:
        print("The agent was already locked.")
    return 0


def cmd_agent(args: argparse.Namespace, run_here: Callable[..., int]) -> int:
    if not args.wait:
        raise UsageError("Say what: `luna agent status`, or `luna agent --wait`.")
    from luna_tui.cli.agent_server import run_agent
    from luna_tui.cli.vault_commands import layout_from
    from luna_tui.clock import SystemClock
    from luna_tui.terminal_text import terminal_text

    clock = SystemClock()
    stream = sys.stderr  # its own: while a command runs, sys.stderr is the client's

    def report(text: str) -> None:
        at = clock.now().astimezone().strftime("%H:%M:%S")
        print(f"luna agent {at}: {terminal_text(text)}", file=stream, flush=True)

    # Reminders while it holds the key: on the desktop, else on this terminal (never
    # into the log file of a background agent: a notice may name a medication).
    from luna_tui.cli.agent_reminders import reminders_job
    from luna_tui.cli.agent_sync import sync_job

    terminal = stream if stream.isatty() else None
    # And sync, a few seconds after a command writes (when this vault syncs).
    return run_agent(layout_from(args), run_here, exit_when_locked=args.exit_when_locked,
                     report=report, jobs=[reminders_job(terminal), sync_job(report)])


def cmd_agent_status(args: argparse.Namespace) -> int:
    import json

    home = _home(args)
    status = _ask(home, "status") or {"unlocked": False, "running": False, "vault": str(home)}
    status.setdefault("running", True)
    status.pop("ok", None)
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    if not status["running"]:
        print(f"No Luna agent runs for {home}.")
    elif not status["unlocked"]:
        print(f"A Luna agent (pid {status['pid']}) waits, locked, for {home}: "
              "`luna unlock` hands it the unlock.")
    else:
        from luna_tui.terminal_text import terminal_text

        print(f"A Luna agent (pid {status['pid']}) holds {home} unlocked with the "
              f"{status['role']} key '{terminal_text(status['label'])}' until "
              f"{_local_time(status['until'])} (at the latest {_local_time(status['limit'])}).")
    return 0
