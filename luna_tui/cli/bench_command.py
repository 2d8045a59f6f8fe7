"""`luna bench`: measure Luna against its performance budget on a synthetic vault."""

from __future__ import annotations

import argparse
import sys

from luna_tui.cli.parsing import whole_number


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    bench = commands.add_parser(
        "bench", help="measure speed on a synthetic vault (in a temp folder)",
        description="Build synthetic vaults in a temporary folder (never your own vault) "
        "and print each measurement against its target. The defaults are the budget's ten "
        "years: 100,000 entries and 1,000,000 messages; that takes a few minutes.",
    )
    bench.add_argument("--entries", type=whole_number(100, 10_000_000), default=100_000,
                       metavar="N")
    bench.add_argument("--messages", type=whole_number(0, 100_000_000), default=1_000_000,
                       metavar="N")
    bench.add_argument("--repeat", type=whole_number(1, 100), default=7, metavar="N",
                       help="runs per measurement; the median is shown (default 7)")
    bench.add_argument("--apple-health", type=whole_number(1000, 100_000_000), metavar="N",
                       help="measure only an Apple Health import instead: N records "
                       "generated to a temp file and imported by `luna import` (its time "
                       "and peak RSS, against the 150 MB bound)")
    bench.add_argument("--sync", type=whole_number(100, 10_000_000), metavar="N",
                       help="measure only sync instead: N changes written on one device "
                       "and applied on another (time, change files' size), and a new device "
                       "joining the vault they make")
    bench.add_argument("--json", action="store_true",
                       help="print the measurements as JSON (name, value, target, unit, ok) "
                       "instead of a table, for scripts that compare runs")
    bench.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from luna_tui.bench.runner import print_json, render, run
    from luna_tui.bench.synthetic import Sizes

    if args.apple_health:
        from luna_tui.bench import apple_health_timing

        results = apple_health_timing.run(args.apple_health, _report)
    elif args.sync:
        from luna_tui.bench import sync_timing

        results = sync_timing.run(args.sync, _report)
    else:
        sizes = Sizes(entries=args.entries, messages=args.messages,
                      vitals=max(100, args.entries // 2), doses=max(100, args.entries // 20))
        results = run(sizes, report=_report, repeat=args.repeat)
    if args.json:
        print_json(results)
    else:
        render(results)
    return 0


def _report(text: str) -> None:
    print(f"… {text}", file=sys.stderr)
