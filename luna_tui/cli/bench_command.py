"""`luna bench`: measure Luna against its performance budget on a synthetic vault."""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    bench = commands.add_parser(
        "bench", help="measure speed on a synthetic vault (in a temp folder)",
        description="Build synthetic vaults in a temporary folder (never your own vault) "
        "and print each measurement against its target. The defaults are the budget's ten "
        "years: 100,000 entries and 1,000,000 messages; that takes a few minutes.",
    )
    bench.add_argument("--entries", type=int, default=100_000, metavar="N")
    bench.add_argument("--messages", type=int, default=1_000_000, metavar="N")
    bench.add_argument("--repeat", type=int, default=7, metavar="N",
                       help="runs per measurement; the median is shown (default 7)")
    bench.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from luna_tui.bench.runner import render, run
    from luna_tui.bench.synthetic import Sizes

    if args.entries < 100 or args.messages < 0 or args.repeat < 1:
        from luna_tui.errors import UsageError

        raise UsageError("Use at least 100 entries, zero or more messages, one repeat or more.")
    sizes = Sizes(entries=args.entries, messages=args.messages,
                  vitals=max(100, args.entries // 2), doses=max(100, args.entries // 20))
    results = run(sizes, report=lambda text: print(f"… {text}", file=sys.stderr),
                  repeat=args.repeat)
    render(results)
    return 0
