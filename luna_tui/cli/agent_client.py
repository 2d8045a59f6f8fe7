"""The thin client: a `luna` command served by a running agent.

`luna_tui/cli/main.py` calls `serve` before it imports anything heavy. If an agent holds
this vault, the command's words, working folder, environment and terminal flags go to
it; it runs the command itself (the key never leaves it) and streams back the output,
the prompts it needs and the exit code. This module and what it imports are the
standard library, `luna_tui.agent_link` and `luna_tui.errors` only: no peewee, SQLCipher,
cryptography or Argon2 (tests/test_agent.py checks sys.modules).

Commands that make no sense through an agent run here as always: the app (no command),
`init` (there is no vault yet), `passwd` (it re-derives on purpose and then ends the
agent), `backup restore` (it ends the agent, then swaps the files), `keys rotate` (it
needs the vault to itself, so it asks for `luna lock` first), `doctor --repair`
(it opens the vault in repair mode), `bench` (its own vaults), and the agent's own
`unlock`, `lock` and `agent`, and `edit` and `add --template` at a terminal (they open the
app's own editor).
Help and --version never need the vault.
"""

from __future__ import annotations

import os
import sys

from luna_tui import agent_link

LOCAL_COMMANDS = frozenset({"init", "passwd", "bench", "unlock", "lock", "agent"})
LOCAL_SUB_COMMANDS = frozenset({("backup", "restore"), ("keys", "rotate"), ("sync", "join")})
LOCAL_OPTIONS = frozenset({"-h", "--help", "--version", "--repair"})
# Global options that take a value (so the word after them is not the command).
VALUE_OPTIONS = frozenset({"--home", "--passphrase-file"})


def command_words(words: list[str]) -> list[str]:
    """The command and sub-command named in `words` (the positionals before any other
    option's value could be mistaken for one): `["backup", "restore"]`, `["list"]`."""
    found: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--":
            break
        if word in VALUE_OPTIONS:
            skip = True
            continue
        if word.startswith("-"):
            if found:
                break
            continue
        found.append(word)
        if len(found) == 2:
            break
    return found


def through_agent(words: list[str]) -> bool:
    named = command_words(words)
    if not named or named[0] in LOCAL_COMMANDS or tuple(named) in LOCAL_SUB_COMMANDS:
        return False
    if (named[0] == "settings" and named[1:] in (["agent.unlocks_app"], ["agent.follows_app"])
            and len(command_words(words[1:])) > 1):
        return False  # changed only with the passphrase (the agent refuses it)
    if named[0] == "edit" and sys.stdin.isatty():
        return False  # at a terminal it opens the app's editor, here (cli/journal_commands)
    if named[0] == "add" and sys.stdin.isatty() and any(
            word == "--template" or word.startswith("--template=") for word in words):
        return False  # so does `add --template` (unless TEXT is given: it decides there)
    return not any(word in LOCAL_OPTIONS or word.startswith("--home=")
                   or word.startswith("--passphrase-file=") for word in words)


def home_of(words: list[str]) -> str:
    """The vault the command is for, as `luna_tui.home.resolve_home` tells it (without
    pathlib when --home or LUNA_HOME names it)."""
    explicit = None
    for index, word in enumerate(words[:-1]):
        if word == "--home":
            explicit = words[index + 1]
    explicit = explicit or os.environ.get("LUNA_HOME")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    from luna_tui.home import resolve_home

    return str(resolve_home(None))


def serve(words: list[str]) -> int | None:
    """Run the command through this vault's agent: its exit code, or None when no agent
    runs (or the command is one that runs here)."""
    if not through_agent(words):
        return None
    home = home_of(words)
    try:
        sock = agent_link.connect(home)
    except agent_link.Stale as stale:
        print(f"luna: note: removed the socket of a Luna agent that is gone ({stale}); "
              "this command unlocks by itself.", file=sys.stderr)
        return None
    except agent_link.AgentUnsafe as unsafe:
        print(f"luna: warning: {unsafe} Running without the agent.", file=sys.stderr)
        return None
    except OSError as error:
        print(f"luna: note: the Luna agent can't be reached ({error}); this command "
              "unlocks by itself.", file=sys.stderr)
        return None
    if sock is None:
        return None
    with sock:
        try:
            return converse(sock, words)
        except (OSError, ValueError) as error:
            # Not run again here: the agent may have done it already (an `add`).
            print(f"luna: the connection to the agent broke ({error}); the command may or "
                  "may not have run.", file=sys.stderr)
            return 1


def _terminal_size() -> list[int] | None:
    for fd in (0, 1, 2):
        try:
            size = os.get_terminal_size(fd)
        except (OSError, ValueError):
            continue
        return [size.columns, size.lines]
    return None


def _terminal_available() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def converse(sock: agent_link.Connection, words: list[str]) -> int:
    """Send the command, then do what the agent asks until it sends the exit code."""
    agent_link.send(sock, {
        "op": "run", "argv": words, "cwd": os.getcwd(), "env": dict(os.environ),
        "tty": [_isatty(0), _isatty(1), _isatty(2)], "terminal": _terminal_available(),
        "size": _terminal_size(),
        "encoding": [getattr(stream, "encoding", None) or "utf-8"
                     for stream in (sys.stdin, sys.stdout, sys.stderr)],
    })
    while True:
        message = agent_link.receive(sock)
        if message is None:
            print("luna: the agent ended while it ran this command.", file=sys.stderr)
            return 1
        kind = message.get("op")
        if kind == "out":
            sys.stdout.write(message["data"])
        elif kind == "err":
            sys.stderr.write(message["data"])
        elif kind == "read":
            sys.stdout.flush()
            data = sys.stdin.readline() if message.get("line") else sys.stdin.read()
            agent_link.send(sock, {"data": data})
        elif kind == "secret":
            sys.stdout.flush()
            import getpass

            agent_link.send(sock, {"data": getpass.getpass(message.get("prompt", ""))})
        elif kind == "exit":
            sys.stdout.flush()
            return int(message.get("code", 1))
        else:
            print(f"luna: the agent said something this luna does not know ({kind}).",
                  file=sys.stderr)
            return 1
