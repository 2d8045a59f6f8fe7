"""`luna bench`'s rows for the agent (issue 16): `luna list -n 10`, `luna search WORD -n
10` and `luna add` (named by their first word in the rows) as whole processes served
by a running agent, on the small vault and the large one (the cost must stay flat),
and on 10,000 entries paired run by run with jrnl on a journal of the same entries,
with and without the agent, when jrnl is installed (`LUNA_BENCH_JRNL=/path/to/jrnl`,
else `jrnl` on PATH; e.g. `python -m venv /tmp/jrnl && /tmp/jrnl/bin/pip install jrnl==4.6`).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from luna_tui.bench.synthetic import COMMON_WORD, Sizes, journal_drafts

JRNL_ENV = "LUNA_BENCH_JRNL"
PEER_ENTRIES = 10_000
LUNA_COMMANDS = (("list", "-n", "10"), ("search", COMMON_WORD, "-n", "10"),
                 ("add", "bench entry"))
JRNL_COMMANDS = (("-n", "10"), ("-contains", COMMON_WORD, "-n", "10"), ("bench entry",))

Row = tuple[str, float, float | None, str]  # name, value, target, unit (see Measurement)


def jrnl_program() -> str | None:
    return os.environ.get(JRNL_ENV) or shutil.which("jrnl")


def luna_command() -> list[str]:
    """`luna` as a person runs it: the console script beside this Python (`python -m`
    imports runpy and pathlib first), else the module."""
    script = Path(sys.executable).with_name("luna")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "luna_tui"]


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        from luna_tui.errors import LunaError

        said = result.stderr.strip().splitlines()[-1:] or ["nothing"]
        raise LunaError(f"The benchmark's `{' '.join(command[-4:])}` failed (exit status "
                        f"{result.returncode}); its last words: {said[0]}")
    return seconds


@contextlib.contextmanager
def agent_for(home: Path, passphrase: str) -> Iterator[dict[str, str]]:
    """A running agent for `home` (its own short runtime folder); the environment of a
    `luna` process that uses it. Locked and gone afterwards."""
    runtime = Path(tempfile.mkdtemp(prefix="lb-", dir="/tmp"))
    env = {**os.environ, "LUNA_HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    luna = luna_command()
    _timed([*luna, "unlock", "--for", "2h", "--idle", "0"],
           {**env, "LUNA_PASSPHRASE": passphrase})
    try:
        yield env
    finally:
        subprocess.run([*luna, "lock"], env=env, capture_output=True)
        deadline = time.monotonic() + 10
        while any(runtime.glob("luna/*.sock")) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(runtime, ignore_errors=True)


def write_jrnl_journal(folder: Path, sizes: Sizes, today) -> dict[str, str]:  # noqa: ANN001
    """The bench's entries (the same drafts, seed and dates as synthetic.build) as a
    plain jrnl journal, and the environment whose config points jrnl at it."""
    journal = folder / "journal.txt"
    with journal.open("w", encoding="utf-8") as out:
        for draft in journal_drafts(sizes, random.Random(7), today):
            title = f"{draft.title}." if draft.title else ""
            out.write(f"[{draft.entry_date} {draft.entry_time}] {title} {draft.content}\n\n")
    config = folder / "config" / "jrnl"
    config.mkdir(parents=True)
    (config / "jrnl.yaml").write_text(
        "colors: {body: none, date: none, tags: none, title: none}\n"
        "default_hour: 9\ndefault_minute: 0\neditor: ''\nencrypt: false\nhighlight: false\n"
        "indent_character: '|'\n"
        f"journals:\n  default:\n    journal: {journal}\n"
        "linewrap: 79\ntagsymbols: '#@'\ntemplate: false\ntimeformat: '%Y-%m-%d %H:%M'\n"
        "version: v4.6\n", encoding="utf-8")
    return {**os.environ, "XDG_CONFIG_HOME": str(folder / "config")}


def measure(homes: list[tuple[Path, str]], peer: Path | None, peer_sizes: Sizes,
            passphrase: str, repeat: int, today, report: Callable[[str], None]  # noqa: ANN001
            ) -> list[Row]:
    """`homes`: the small and the large vault (label: their size) for the flat rows;
    `peer`: a vault of PEER_ENTRIES entries for jrnl's pairing."""
    rows: list[Row] = []
    luna = luna_command()
    served: dict[str, list[float]] = {}
    for home, label in homes:
        with agent_for(home, passphrase) as env:
            for args in LUNA_COMMANDS:
                _timed([*luna, *args], env)  # a warm-up: the agent's first command
                times = [_timed([*luna, *args], env) for _ in range(repeat)]
                served.setdefault(args[0], []).append(statistics.median(times))
                rows.append((f"agent: `luna {args[0]}` at {label} entries",
                             statistics.median(times), None, "ms"))
    if len(homes) == 2:
        for command, (small, large) in served.items():
            rows.append((f"agent: `luna {command}` {homes[1][1]} ÷ {homes[0][1]} entries",
                         large / small, 1.3, "×"))
    program = jrnl_program()
    if peer is None or program is None:
        report(f"jrnl not found (set {JRNL_ENV} or put jrnl on PATH): no pairing with jrnl")
        return rows
    report(f"pairing with jrnl ({program}) on {PEER_ENTRIES:,} entries")
    with tempfile.TemporaryDirectory(prefix="luna-bench-jrnl-") as folder:
        jrnl_env = write_jrnl_journal(Path(folder), peer_sizes, today)
        without_env = {**os.environ, "LUNA_HOME": str(peer), "LUNA_PASSPHRASE": passphrase}
        with agent_for(peer, passphrase) as env:
            for args, jrnl_args in zip(LUNA_COMMANDS, JRNL_COMMANDS, strict=True):
                _timed([program, *jrnl_args], jrnl_env)
                _timed([*luna, *args], env)
                jrnl_times, with_ratio, without_ratio = [], [], []
                # Each ratio is paired with jrnl run by run, in two loops: a command run
                # without the agent between the agent's runs changes the database under
                # it, so the agent's next run found its page cache dropped — a sitting with
                # an agent does not alternate like that (it cost `search` ~15 ms).
                for _ in range(repeat):
                    with_agent = _timed([*luna, *args], env)
                    jrnl = _timed([program, *jrnl_args], jrnl_env)
                    jrnl_times.append(jrnl)
                    with_ratio.append(with_agent / jrnl)
                for _ in range(repeat):
                    alone = _timed([*luna, *args], without_env)
                    jrnl = _timed([program, *jrnl_args], jrnl_env)
                    jrnl_times.append(jrnl)
                    without_ratio.append(alone / jrnl)
                rows.append((f"`jrnl {' '.join(jrnl_args)}`, {PEER_ENTRIES:,} entries",
                             statistics.median(jrnl_times), None, "ms"))
                rows.append((f"`luna {args[0]}`, no agent (with KDF) ÷ jrnl",
                             statistics.median(without_ratio), None, "×"))
                rows.append((f"agent: `luna {args[0]}` ÷ jrnl, paired",
                             statistics.median(with_ratio), 0.08, "×"))
    return rows
