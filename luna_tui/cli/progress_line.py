"""A long command's progress on one line of stderr (a backup, a restore, a rotation)."""

from __future__ import annotations

import sys


class ProgressLine:
    """`Backing up… 42%` on one line of stderr, when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()
        self.last = ""

    def __call__(self, done: float, label: str) -> None:
        if not self.shown:
            return
        line = f"{label} {done:4.0%}"
        if line != self.last:
            sys.stderr.write("\r\033[K" + line)
            sys.stderr.flush()
            self.last = line

    def close(self) -> None:
        if self.shown and self.last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
