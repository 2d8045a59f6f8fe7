"""Named points where a test can stop a Luna process to kill it there.

Crash-safety claims ("a restore killed half-way leaves the old vault or the new one")
are only worth something if a test kills the process at the worst moment. With
`LUNA_TEST_PAUSE_AT=<name>` in its environment, a process reaching that point says so
on stderr and waits to be killed. Nothing else reads the variable.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "LUNA_TEST_PAUSE_AT"


def pause_here(name: str) -> None:
    if os.environ.get(PAUSE_ENV) != name:
        return
    sys.stderr.write(f"paused at {name}\n")
    sys.stderr.flush()
    time.sleep(600)
