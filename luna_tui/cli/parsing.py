"""argparse, as Luna's commands use it: usage errors exit 2 with one line, the global
options work before or after the sub-command, and every number an option takes is
bounded (a count far beyond any vault used to reach SQLite and fail as an overflow)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from luna_tui.errors import EXIT_USAGE


class LunaArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from luna_tui.terminal_text import terminal_text

        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"luna: {terminal_text(message)}\n")  # it quotes what was typed


def common_options(top_level: bool) -> argparse.ArgumentParser:
    """--home and --passphrase-file, accepted before or after the sub-command.

    On sub-commands their default is SUPPRESS, so an option given before the
    sub-command is not overwritten by the sub-command's default.
    """
    default = None if top_level else argparse.SUPPRESS
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", metavar="DIR", default=default,
                        help="the vault's folder (default: $LUNA_HOME, else your data folder)")
    common.add_argument("--passphrase-file", metavar="FILE", default=default,
                        help="read the passphrase from the first line of FILE (for scripts)")
    return common


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a usage sentence."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"'{text}' is not a whole number from {low:,} to {high:,}")
        return number

    return parse
