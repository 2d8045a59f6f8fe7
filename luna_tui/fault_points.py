"""Named points where a test can stop a Luna process to kill it there.

Crash-safety claims ("a restore killed half-way leaves the old vault or the new one",
"a kill between the two audit commits loses no row") are only worth something if a
test kills the process at the worst moment. With `LUNA_TEST_PAUSE_AT=<name>` in its
environment, a process reaching that point says so on stderr and waits to be killed;
`<name>#<n>` waits at the n-th time it gets there (a command commits several times).
Nothing else reads the variable.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "LUNA_TEST_PAUSE_AT"

_reached: dict[str, int] = {}


def pause_here(name: str) -> None:
    wanted = os.environ.get(PAUSE_ENV)
    if wanted is None or wanted.partition("#")[0] != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    times = wanted.partition("#")[2]
    if times and int(times) != _reached[name]:
        return
    sys.stderr.write(f"paused at {wanted}\n")
    sys.stderr.flush()
    time.sleep(600)
