"""`luna insights`: each medication change against mood, sleep and each vital, and how
pairs of series move together, with the same numbers and verdicts as the app's
Insights place (services/insights). `--json` prints one object per (change, measure)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from luna_tui.cli.journal_commands import print_json, resolve_patient
from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import whole_number
from luna_tui.cli.vault_commands import open_session
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.insights.rows import InsightRow, PairRow

DEFAULT_WINDOW = 14
# Imported while the key is derived: the analysis' numpy and scipy are most of its start.
INSIGHT_MODULES = ("luna_tui.services.insights.summary", "luna_tui.services.patients",
                   "luna_tui.services.settings", "numpy", "scipy.stats")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    insights = commands.add_parser(
        "insights", parents=[common],
        help="did a medication change move mood, sleep or a vital? said honestly",
        description="For each medication change: mood, sleep and each vital in the days "
        "before against the days after (lags of 0-7 days considered, corrected for "
        "choosing among them), with a 95 %% interval and the days with data on each side. "
        "The verdict is 'clear change', 'no clear change' or 'not enough data' (fewer than "
        "8 days on a side). Then pairs of series: Spearman's rank correlation at the "
        "strongest lag. Private entries' mood counts: these are your own insights.",
    )
    insights.add_argument("--window", type=whole_number(8, 180), default=DEFAULT_WINDOW,
                          metavar="DAYS",
                          help=f"days before and after each change (default {DEFAULT_WINDOW})")
    insights.add_argument("--json", action="store_true",
                          help="print JSON: one object per (change, measure)")
    insights.add_argument("--patient", metavar="NAME",
                          help="whose data (default: the current patient)")
    insights.set_defaults(handler=cmd_insights)


def cmd_insights(args: argparse.Namespace) -> int:
    with open_session(args, warm=INSIGHT_MODULES) as session:
        from luna_tui.services.insights.before_after import AnalysisSettings
        from luna_tui.services.insights.summary import Insights

        patient_id, patient_name = resolve_patient(session, args.patient)
        inputs = Insights(session).inputs(patient_id, include_private=True,
                                          settings=AnalysisSettings(window=args.window))
    from luna_tui.services.insights.summary import analyse_changes, analyse_pairs

    rows = analyse_changes(inputs)
    if args.json:
        print_json([with_patient(row.as_json(), patient_id, patient_name) for row in rows])
        return 0
    if not inputs.changes:
        print(f"{terminal_text(patient_name)} has no medication changes yet: insights compare "
              "the days before a medication is started, stopped or changed with the days "
              "after.")
    else:
        _print_changes(rows)
    pairs = analyse_pairs(inputs)
    if pairs:
        print()
        _print_pairs(pairs)
    return 0


def _print_changes(rows: list[InsightRow]) -> None:
    """A heading per change (and what else happened in its window), then its measures."""
    changes: dict[tuple[str, str, str], list[InsightRow]] = {}
    for row in rows:
        changes.setdefault((row.date, row.medication, row.event), []).append(row)
    for number, ((date, medication, event), measures) in enumerate(changes.items()):
        if number:
            print()
        print(terminal_text(f"{date}  {medication} {event}"))
        for sentence in measures[0].confounders:
            print(terminal_text(f"  also in the window: {sentence}"))
        _print_table(
            ("measure", "before", "after", "change", "95 % CI", "days", "lag", "verdict"),
            ((row.measure, _number(row.before_mean), _number(row.after_mean),
              _number(row.difference, signed=True), _interval(row.ci_low, row.ci_high),
              f"{row.days_before}/{row.days_after}",
              "" if row.lag_days is None else f"{row.lag_days} d", row.verdict)
             for row in measures))


def _print_pairs(pairs: list[PairRow]) -> None:
    _print_table(("first → then", "rho", "95 % CI", "days", "lag", "verdict"),
                 ((f"{p.first_label} → {p.second_label}", _number(p.rho, signed=True, digits=2),
                   _interval(p.ci_low, p.ci_high, digits=2), str(p.paired_days),
                   "" if p.lag_days is None else f"{p.lag_days} d", p.verdict)
                  for p in pairs))


def _number(value: float | None, *, signed: bool = False, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _interval(low: float | None, high: float | None, digits: int = 1) -> str:
    if low is None or high is None:
        return "–"
    return f"{low:+.{digits}f}…{high:+.{digits}f}"


def _print_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for number, column in enumerate(columns):
        # The first wraps, if one must, but never to nothing (Rich gives a narrow
        # terminal's width to the columns that may not wrap first).
        table.add_column(column, no_wrap=number > 0, min_width=16 if number == 0 else None)
    for row in rows:
        # Text, not markup: a name with [brackets] is shown as typed.
        table.add_row(*(Text(terminal_text(cell)) for cell in row))
    Console().print(table)
