"""Where passphrases come from: a no-echo prompt, LUNA_PASSPHRASE, or a file.

Never from a command-line argument, which would land in shell history and in `ps`.
The prompt talks to the terminal itself (/dev/tty), so `echo text | luna add` can
still ask; with no terminal at all, Luna says how to pass the passphrase instead of
reading it from stdin with echo on.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from luna_tui.errors import UsageError, WeakPassphrase

PASSPHRASE_ENV = "LUNA_PASSPHRASE"
NEW_PASSPHRASE_ENV = "LUNA_NEW_PASSPHRASE"
MAX_ATTEMPTS = 3


def terminal_available() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def prompt_secret(prompt: str) -> str:
    """Ask on the terminal with echo off. Tests replace this function."""
    return getpass.getpass(prompt)


def _from_file(path: str) -> str:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"The passphrase file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Luna can't read the passphrase file {path} ({exc}).") from None
    line = text.splitlines()[0] if text else ""
    if not line:
        raise UsageError(f"The passphrase file {path} is empty.")
    return line


def _no_terminal(what: str, env: str, flag: str) -> UsageError:
    return UsageError(
        f"Luna needs {what}, and there is no terminal to ask on. Set {env}, or pass {flag} FILE."
    )


def read_passphrase(args: argparse.Namespace, prompt: str = "Passphrase: ") -> str:
    """The passphrase (or recovery/access key) that unlocks the vault."""
    path = getattr(args, "passphrase_file", None)
    if path:
        return _from_file(path)
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not terminal_available():
        raise _no_terminal("the passphrase", PASSPHRASE_ENV, "--passphrase-file")
    secret = prompt_secret(prompt)
    if not secret:
        raise UsageError("No passphrase given; nothing was done.")
    return secret


def read_new_passphrase(args: argparse.Namespace, *, env: str, file_option: str,
                        prompt: str = "New passphrase: ") -> str:
    """A new passphrase: from `env` or the file option, else asked twice on the terminal.

    On a terminal, a mismatch or a weak passphrase is explained and asked again.
    """
    from luna_tui.vault.passphrase_policy import check_new_passphrase

    path = getattr(args, file_option.lstrip("-").replace("-", "_"), None)
    if path:
        return check_new_passphrase(_from_file(path))
    if os.environ.get(env):
        return check_new_passphrase(os.environ[env])
    if not terminal_available():
        raise _no_terminal("a new passphrase", env, file_option)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        first = prompt_secret(prompt)
        try:
            checked = check_new_passphrase(first)
        except WeakPassphrase as weak:
            if attempt == MAX_ATTEMPTS:
                raise
            print(f"{weak} Please try again.")
            continue
        if prompt_secret("Type it again: ") == first:
            return checked
        if attempt == MAX_ATTEMPTS:
            raise UsageError("The two passphrases did not match; nothing was changed.")
        print("The two passphrases did not match. Please try again.")
    raise AssertionError("unreachable")
