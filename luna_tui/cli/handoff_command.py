"""`luna handoff`: the packet for a clinician, from the shell.

It shows first what will be included (for whom, the dates, how many of each kind, the
records chosen) and asks at a terminal before anything is written (`--yes` for a
script). Dates and the kinds asked for are checked before the passphrase is asked for.
The archive's passphrase is printed once, to the terminal, and nowhere else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from luna_tui.cli.journal_commands import resolve_patient
from luna_tui.cli.vault_commands import open_session
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.handoff.packet import WrittenPacket

HANDOFF_MODULES = ("luna_tui.services.handoff.contents", "luna_tui.services.handoff.preview",
                   "luna_tui.services.handoff.packet", "luna_tui.services.patients",
                   "luna_tui.services.settings", "numpy")  # numpy: the insights page


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    # The kinds are spelled out rather than imported: every command builds this parser,
    # and the services' module of them imports the database models.
    handoff = commands.add_parser(
        "handoff", parents=[common], help="write a packet for your doctor: PDF, FHIR, .ics",
        description="Write what you choose to show a clinician: a PDF to read in two "
        "minutes, the same data as a FHIR R4 document (.json) and the upcoming "
        "appointments (.ics). What will be included is shown first, and asked about at a "
        "terminal. Private journal entries are never included, nor their mood or sleep. "
        "The files are NOT encrypted, unless --archive writes them only as one AES-256 "
        "zip whose passphrase is shown once.")
    handoff.add_argument("--patient", metavar="NAME",
                         help="whose data (default: the current patient)")
    handoff.add_argument("--from", dest="start", required=True, metavar="DATE",
                         help="the first day (2026-09-01, 3 weeks ago, …)")
    handoff.add_argument("--to", dest="end", required=True, metavar="DATE",
                         help="the last day (today, yesterday, 2026-11-30, …)")
    handoff.add_argument("--include", metavar="KINDS", default=None,
                         help="what to include, comma-separated, from: meds, doses, vitals, "
                         "mood, sleep, appointments, records, journal, insights (default: "
                         "meds, doses, vitals, mood, sleep, appointments, insights); records "
                         "come with --record, journal takes only entries shared with the "
                         "therapist, insights (a page: how mood, sleep and vitals moved after "
                         "each medication change) needs meds and mood, sleep or vitals")
    handoff.add_argument("--record", action="append", default=[], metavar="ID",
                         help="a record to include (a unique prefix of its id will do); "
                         "repeat it for more")
    handoff.add_argument("--attachments", action="store_true",
                         help="the chosen records' attached files too")
    handoff.add_argument("--out", required=True, metavar="DIR",
                         help="the folder to write into (made, 0700, if new)")
    handoff.add_argument("--archive", action="store_true",
                         help="write only one AES-256 encrypted zip (passphrase shown once)")
    handoff.add_argument("--yes", action="store_true",
                         help="don't ask before writing (for scripts)")
    handoff.set_defaults(handler=cmd_handoff)


def cmd_handoff(args: argparse.Namespace) -> int:
    from luna_tui.clock import SystemClock, local_today
    from luna_tui.errors import UsageError
    from luna_tui.services.handoff.choices import parse_include, parse_period

    # What was typed is checked before the passphrase is asked for.
    start, end = parse_period(args.start, args.end, local_today(SystemClock()))
    include = parse_include(args.include, records_chosen=bool(args.record))
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("`luna handoff` shows what it will write and asks first; without "
                         "a terminal to ask on, add --yes.")
    with open_session(args, warm=HANDOFF_MODULES) as session:
        from luna_tui.services.handoff.choices import HandoffChoice
        from luna_tui.services.handoff.insight_rows import WEIGHING
        from luna_tui.services.handoff.packet import write_packet
        from luna_tui.services.handoff.preview import HandoffPreviews
        from luna_tui.services.records import Records

        patient_id, _ = resolve_patient(session, args.patient)
        records = Records(session)
        choice = HandoffChoice(
            patient_id, start, end, include,
            record_ids=frozenset(records.resolve(typed) for typed in args.record),
            attachments=args.attachments, archive=args.archive)
        preview = HandoffPreviews(session).preview(choice)
        print(terminal_text("\n".join(preview.lines()), multiline=True))
        if not _confirmed(args):
            print("Nothing was written.")
            return 0
        changes = preview.count("insights")
        if changes:
            # The permutation tests take seconds on a long record: say why it waits.
            print(f"{WEIGHING} ({changes} change{'' if changes == 1 else 's'}); this can "
                  "take a few seconds.", file=sys.stderr)
        written = write_packet(session, choice, Path(args.out).expanduser())
    _tell(written)
    return 0


def _confirmed(args: argparse.Namespace) -> bool:
    if args.yes:
        return True
    return input("Write the hand-off? [y/N] ").strip().lower() in ("y", "yes")


def _tell(written: WrittenPacket) -> None:
    for name in written.files:
        print(terminal_text(str(written.folder / name)))
    for sentence in written.sentences():
        print(sentence, file=sys.stderr)
    if written.passphrase is not None:
        # Shown once, here, and never logged nor audited: the one copy is the person's.
        print(f"\nThe archive's passphrase (shown only now; write it down):\n\n"
              f"    {written.passphrase}\n", file=sys.stderr)
