"""`luna meds`, `dose`, `appts` and `vitals`: medications, appointments and vitals
from the shell.

Each group lists when given no action (`luna meds`) and changes things through its
actions (`luna meds add`). Every write goes through the services, so it is checked,
audited and refused for a read-only key exactly as in the app; what is wrong with the
input comes back as the service's own sentence.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from luna_tui.cli.journal_commands import positive_count, print_json, resolve_patient
from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.cli.vault_commands import open_session
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.appointments import AppointmentView
    from luna_tui.services.medications import Adherence, MedicationView

DEFAULT_COUNT = 20
DOSE_DAYS = 7  # what `luna doses` shows without --from
PATIENT_MODULES = ("luna_tui.services.patients", "luna_tui.services.settings")
MEDICATION_MODULES = ("luna_tui.services.medications",
                      "luna_tui.services.read_models.medications", *PATIENT_MODULES)
APPOINTMENT_MODULES = ("luna_tui.services.appointments", *PATIENT_MODULES)
VITAL_MODULES = ("luna_tui.services.vitals", *PATIENT_MODULES)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    _register_meds(commands, common)
    _register_dose(commands, common)
    _register_doses(commands, common)
    _register_appts(commands, common)
    _register_vitals(commands, common)


def _actions(parser: argparse.ArgumentParser, dest: str) -> argparse._SubParsersAction:
    return parser.add_subparsers(dest=dest, metavar="ACTION", parser_class=LunaArgumentParser)


def _patient_option(parser: argparse.ArgumentParser, *, in_action: bool = False) -> None:
    # In an action, SUPPRESS keeps `luna meds --patient Sam add …` from being undone
    # by the action's own default.
    parser.add_argument("--patient", metavar="NAME",
                        default=argparse.SUPPRESS if in_action else None,
                        help="whose data (default: the current patient)")


def _register_meds(commands: argparse._SubParsersAction,
                   common: argparse.ArgumentParser) -> None:
    meds = commands.add_parser(
        "meds", parents=[common], help="list, add and stop medications",
        description="Your medications, active first. `luna meds add` and `luna meds stop` "
        "change them; `luna dose` logs a dose.",
    )
    meds.add_argument("--all", action="store_true", help="include stopped medications")
    meds.add_argument("--json", action="store_true", help="print JSON")
    _patient_option(meds)
    meds.set_defaults(handler=cmd_meds)
    actions = _actions(meds, "meds_action")

    add = actions.add_parser(
        "add", parents=[common], help="add a medication",
        description="Add a medication. Its dose times come from the frequency (\"twice "
        "daily\": 08:00 and 20:00) unless --schedule gives them.",
    )
    add.add_argument("name", nargs="+", metavar="NAME", help="the medication, e.g. Metformin")
    add.add_argument("--dosage", required=True, metavar="D",
                     help='one dose: an amount and a unit, e.g. "500 mg", "2 puffs"')
    add.add_argument("--frequency", required=True, metavar="F",
                     help='e.g. "twice daily", "every 8 hours", "as needed"')
    add.add_argument("--route", metavar="R", help="e.g. oral, inhaled")
    add.add_argument("--prescriber", metavar="P", help="who prescribed it")
    add.add_argument("--pharmacy", metavar="P")
    add.add_argument("--rx", metavar="N", help="the prescription number")
    add.add_argument("--start", metavar="DATE", help="when you started (default: today)")
    add.add_argument("--schedule", metavar="TIMES",
                     help='the day\'s dose times, e.g. "08:00,20:00" ("" for none)')
    add.add_argument("--supply", metavar="N", help="how many doses you have now")
    add.add_argument("--refill", metavar="DATE", help="when to refill")
    add.add_argument("--notes", metavar="T")
    _patient_option(add, in_action=True)
    add.set_defaults(handler=cmd_meds_add)

    stop = actions.add_parser("stop", parents=[common], help="stop taking a medication",
                              description="Stop a medication; its history and doses stay.")
    stop.add_argument("name", nargs="+", metavar="NAME", help="the medication (a unique "
                      "beginning of its name will do)")
    stop.add_argument("--on", metavar="DATE", help="the last day taken (default: today)")
    stop.add_argument("--reason", metavar="T", help="why, for the history")
    _patient_option(stop, in_action=True)
    stop.set_defaults(handler=cmd_meds_stop)


def _register_dose(commands: argparse._SubParsersAction,
                   common: argparse.ArgumentParser) -> None:
    dose = commands.add_parser(
        "dose", parents=[common], help="log a dose: taken, missed, late or skipped",
        description="Log what became of a dose. It belongs to the scheduled time nearest "
        "now (or --at, on that day); logging the same time again changes it. Taken within "
        "the dose window (settings dose.early_minutes / dose.late_minutes) counts as taken, "
        "after it as late; before it needs --early or a yes at the prompt.",
    )
    dose.add_argument("name", nargs="+", metavar="NAME", help="the medication")
    dose.add_argument("status", metavar="taken|missed|late|skipped",
                      help="what became of the dose")
    dose.add_argument("--at", metavar="WHEN",
                      help="when you took it: YYYY-MM-DDTHH:MM, or HH:MM for today "
                      "(default: now)")
    dose.add_argument("--early", action="store_true",
                      help="log it taken although its window has not opened yet "
                      "(dose.early_minutes before its time); without it Luna asks")
    _patient_option(dose)
    dose.set_defaults(handler=cmd_dose)


def _register_doses(commands: argparse._SubParsersAction,
                    common: argparse.ArgumentParser) -> None:
    doses = commands.add_parser(
        "doses", parents=[common], help="the doses logged: taken, late, missed, skipped",
        description=f"The doses logged, newest first, with when each was due and taken. "
        f"Without --from, the last {DOSE_DAYS} days up to --to (default: today).")
    doses.add_argument("--from", dest="start", metavar="DATE",
                       help="the first day (YYYY-MM-DD, today, yesterday, …)")
    doses.add_argument("--to", dest="end", metavar="DATE", help="the last day (default: today)")
    doses.add_argument("--med", nargs="+", metavar="NAME",
                       help="only this medication (a unique beginning of its name will do)")
    doses.add_argument("--json", action="store_true", help="print JSON")
    _patient_option(doses)
    doses.set_defaults(handler=cmd_doses)


def _register_appts(commands: argparse._SubParsersAction,
                    common: argparse.ArgumentParser) -> None:
    appts = commands.add_parser(
        "appts", parents=[common], help="list, add and export appointments",
        description="Upcoming appointments, soonest first (--past: the others, latest "
        "first). `luna appts add` adds one; `luna appts export` writes a calendar file.",
    )
    appts.add_argument("--past", action="store_true",
                       help="past, completed and cancelled appointments instead")
    appts.add_argument("-n", type=positive_count, default=DEFAULT_COUNT, metavar="N",
                       help=f"how many (default {DEFAULT_COUNT})")
    appts.add_argument("--json", action="store_true", help="print JSON")
    _patient_option(appts)
    appts.set_defaults(handler=cmd_appts)
    actions = _actions(appts, "appts_action")

    add = actions.add_parser("add", parents=[common], help="add an appointment")
    add.add_argument("--date", required=True, metavar="DATE",
                     help="YYYY-MM-DD, or today / tomorrow")
    add.add_argument("--time", metavar="HH:MM", help="e.g. 09:30 or 2pm (none: all day)")
    add.add_argument("--provider", metavar="P", help="who you will see, e.g. \"Dr Rivera\"")
    add.add_argument("--type", metavar="TYPE",
                     help="routine (default), follow_up, specialist, emergency or other")
    add.add_argument("--location", metavar="L")
    add.add_argument("--reason", metavar="R")
    add.add_argument("--prep", metavar="T", help="what to bring or do beforehand")
    add.add_argument("--duration", metavar="MIN", help="how long, in minutes")
    _patient_option(add, in_action=True)
    add.set_defaults(handler=cmd_appts_add)

    export = actions.add_parser(
        "export", parents=[common], help="write appointments to a calendar file (.ics)",
        description="Write your upcoming appointments (--all: every one) to an iCalendar "
        "file that calendar apps import; importing a newer file updates the events. "
        "The file is NOT encrypted.",
    )
    export.add_argument("--all", action="store_true", help="past and cancelled ones too")
    export.add_argument("--out", required=True, metavar="FILE.ics", help="where to write it")
    _patient_option(export, in_action=True)
    export.set_defaults(handler=cmd_appts_export)


def _register_vitals(commands: argparse._SubParsersAction,
                     common: argparse.ArgumentParser) -> None:
    vitals = commands.add_parser(
        "vitals", parents=[common], help="list and record vitals",
        description="Your readings, newest first. `luna vitals add` records one.",
    )
    vitals.add_argument("--kind", metavar="K", help="only this kind, e.g. weight")
    vitals.add_argument("-n", type=positive_count, default=DEFAULT_COUNT, metavar="N",
                        help=f"how many (default {DEFAULT_COUNT})")
    vitals.add_argument("--json", action="store_true", help="print JSON")
    _patient_option(vitals)
    vitals.set_defaults(handler=cmd_vitals)
    actions = _actions(vitals, "vitals_action")

    add = actions.add_parser(
        "add", parents=[common], help="record a reading",
        description="Record a reading: weight, blood_pressure (bp), heart_rate (pulse), "
        "glucose, temperature, spo2, sleep, or a kind of your own with --unit.",
    )
    add.add_argument("kind", metavar="KIND", help="e.g. weight, bp, pulse")
    add.add_argument("value", metavar="VALUE", help="e.g. 72.5, or 120/80 for a bp")
    add.add_argument("value2", nargs="?", metavar="VALUE2",
                     help="the second number (a bp's diastolic)")
    add.add_argument("--unit", metavar="U", help="e.g. lb, mg/dL, °F (default: the usual)")
    add.add_argument("--at", metavar="WHEN",
                     help="YYYY-MM-DDTHH:MM, or HH:MM for today (default: now)")
    add.add_argument("--notes", metavar="T")
    _patient_option(add, in_action=True)
    add.set_defaults(handler=cmd_vitals_add)


# -- medications and doses ----------------------------------------------------------------


def cmd_meds(args: argparse.Namespace) -> int:
    with open_session(args, warm=MEDICATION_MODULES) as session:
        from luna_tui.services.read_models.medications import MedicationsPlace

        patient_id, patient_name = resolve_patient(session, args.patient)
        listed = MedicationsPlace(session).adherence(patient_id, include_stopped=args.all)
    if args.json:
        print_json([{**view_json(m.medication, patient_name),
                     "adherence": {str(days): _adherence_json(a)
                                   for days, a in m.adherence.items()}} for m in listed])
    elif not listed:
        print(f"{terminal_text(patient_name)} has no {'' if args.all else 'active '}"
              "medications. Add one "
              'with: luna meds add NAME --dosage "500 mg" --frequency "twice daily"')
    else:
        _print_table(("name", "dosage", "frequency", "times", "7 d", "30 d", "refill",
                      "status"), (_medication_row(m.medication, m.adherence) for m in listed))
        print("7 d, 30 d: doses taken (on time or late) of those due over the last 7 and 30 "
              "days; – none were due.")
    return 0


def _medication_row(medication: MedicationView, adherence: dict[int, Adherence]
                    ) -> tuple[str, ...]:
    status = "active" if medication.active else f"stopped {medication.end_date or ''}"
    return (medication.name, medication.dosage, medication.frequency,
            " ".join(medication.schedule) or "-",
            *(_percent(adherence[days]) for days in sorted(adherence)),
            medication.refill_date or "", status.strip())


def _percent(adherence: Adherence) -> str:
    return "–" if adherence.percent is None else f"{adherence.percent:.0f}%"


def _adherence_json(adherence: Adherence) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(adherence), "unlogged": adherence.unlogged,
            "percent": None if adherence.percent is None else round(adherence.percent, 1)}


def cmd_doses(args: argparse.Namespace) -> int:
    from luna_tui.clock import SystemClock, local_today
    from luna_tui.errors import ValidationError
    from luna_tui.services.validation import parse_date

    # Dates are checked before the passphrase is asked for.
    today = local_today(SystemClock())
    end = parse_date(args.end, "to_date", today) if args.end else today
    start = (parse_date(args.start, "from_date", today) if args.start
             else end - dt.timedelta(days=DOSE_DAYS - 1))
    if start > end:
        raise ValidationError(f"The --from date ({start}) is after the --to date ({end}).",
                              "from_date")
    with open_session(args, warm=MEDICATION_MODULES) as session:
        from luna_tui.services.medications import Medications
        from luna_tui.services.read_models.medications import MedicationsPlace

        patient_id, patient_name = resolve_patient(session, args.patient)
        medication_id = (Medications(session).find(patient_id, " ".join(args.med)).id
                         if args.med else None)
        logged = MedicationsPlace(session).dose_history(patient_id, start, end,
                                                        medication_id=medication_id)
    if args.json:
        print_json([with_patient({
            **view_json(entry.dose), "medication": entry.medication.name,
            "dosage": entry.medication.dosage}, patient_id, patient_name)
            for entry in logged])
    elif not logged:
        print(f"No doses logged for {terminal_text(patient_name)} from {start} to {end}. "
              "Log one with: luna dose NAME taken")
    else:
        _print_table(("due", "medication", "dose", "status", "taken at", "notes"), (
            (entry.dose.scheduled_at.replace("T", " "), entry.medication.name,
             entry.medication.dosage, entry.dose.status,
             _taken_at(entry.dose.scheduled_at, entry.dose.taken_at),
             entry.dose.notes or "") for entry in logged))
    return 0


def _taken_at(scheduled_at: str, taken_at: str | None) -> str:
    """The time taken; with its date when that is not the day it was due."""
    if not taken_at:
        return ""
    day, _, time = taken_at.partition("T")
    return time if day == scheduled_at.partition("T")[0] else f"{day} {time}"


def cmd_meds_add(args: argparse.Namespace) -> int:
    with open_session(args, warm=MEDICATION_MODULES) as session:
        from luna_tui.services.medications import Medications

        session.require_writable("add a medication")
        patient_id, patient_name = resolve_patient(session, args.patient)
        medication = Medications(session).create(
            patient_id, " ".join(args.name), args.dosage, args.frequency, route=args.route,
            prescribing_doctor=args.prescriber, pharmacy=args.pharmacy, rx_number=args.rx,
            start_date=args.start, schedule=args.schedule, supply_count=args.supply,
            refill_date=args.refill, notes=args.notes)
    times = ", ".join(medication.schedule) or "no set times"
    print(terminal_text(f"Added {medication.name} {medication.dosage}, {medication.frequency} "
                        f"({times}), to {patient_name}'s medications."))
    return 0


def cmd_meds_stop(args: argparse.Namespace) -> int:
    with open_session(args, warm=MEDICATION_MODULES) as session:
        from luna_tui.services.medications import Medications

        session.require_writable("stop a medication")
        patient_id, _ = resolve_patient(session, args.patient)
        medications = Medications(session)
        medication = medications.find(patient_id, " ".join(args.name))
        stopped = medications.stop(medication.id, on=args.on, reason=args.reason)
    print(terminal_text(f"Stopped {stopped.name} on {stopped.end_date}."))
    return 0


def cmd_dose(args: argparse.Namespace) -> int:
    from luna_tui.errors import DoseTooEarly, UsageError

    at = _moment_argument(args.at)
    with open_session(args, warm=MEDICATION_MODULES) as session:
        from luna_tui.services.medications import Medications

        session.require_writable("log a dose")
        patient_id, _ = resolve_patient(session, args.patient)
        medications = Medications(session)
        medication = medications.find(patient_id, " ".join(args.name))
        try:
            dose = medications.log_dose(medication.id, args.status, at=at, early=args.early)
        except DoseTooEarly as early:
            if not sys.stdin.isatty():
                raise UsageError(f"{early} Add --early if you took it ahead of time.") from None
            answer = input(terminal_text(f"{early} Log it as taken ahead of time? [y/N] "))
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing logged.")
                return 1
            dose = medications.log_dose(medication.id, args.status, slot=early.slot, at=at,
                                        early=True)
        today = medications.today().isoformat()
    day, _, time = dose.scheduled_at.partition("T")
    when = time if day == today else f"{day} {time}"
    print(terminal_text(f"Logged {medication.name} {medication.dosage} {when} as "
                        f"{dose.status}."))
    return 0


# -- appointments ---------------------------------------------------------------------------


def cmd_appts(args: argparse.Namespace) -> int:
    with open_session(args, warm=APPOINTMENT_MODULES) as session:
        from luna_tui.services.appointments import Appointments

        patient_id, patient_name = resolve_patient(session, args.patient)
        listing = Appointments(session).past if args.past else Appointments(session).upcoming
        appointments = listing(patient_id, limit=args.n).appointments
    if args.json:
        print_json([view_json(a, patient_name) for a in appointments])
    elif not appointments:
        which = "past" if args.past else "upcoming"
        print(f"{terminal_text(patient_name)} has no {which} appointments. Add one with: "
              'luna appts add --date 2026-12-01 --time 09:30 --provider "Dr Rivera"')
    else:
        _print_table(("date", "time", "what", "where", "status"),
                     (_appointment_row(a) for a in appointments))
    return 0


def _appointment_row(appointment: AppointmentView) -> tuple[str, ...]:
    from luna_tui.services.calendar_export import appointment_title

    return (appointment.appointment_date, appointment.appointment_time or "all day",
            appointment_title(appointment), appointment.location or "",
            appointment.status)


def cmd_appts_add(args: argparse.Namespace) -> int:
    with open_session(args, warm=APPOINTMENT_MODULES) as session:
        from luna_tui.services.appointments import Appointments

        session.require_writable("add an appointment")
        patient_id, patient_name = resolve_patient(session, args.patient)
        appointment = Appointments(session).create(
            patient_id, args.date, appointment_time=args.time, provider_name=args.provider,
            appointment_type=args.type, location=args.location, reason=args.reason,
            preparation_notes=args.prep, duration_minutes=args.duration)
    from luna_tui.services.calendar_export import appointment_title

    at = f" at {appointment.appointment_time}" if appointment.appointment_time else ""
    print(terminal_text(f'Added "{appointment_title(appointment)}" on '
                        f"{appointment.appointment_date}{at} to {patient_name}'s appointments."))
    return 0


def cmd_appts_export(args: argparse.Namespace) -> int:
    from luna_tui.errors import NotFound
    from luna_tui.services.export_files import private_output

    with open_session(args, warm=APPOINTMENT_MODULES) as session:
        from luna_tui.services.calendar_export import CalendarExport

        patient_id, patient_name = resolve_patient(session, args.patient)
        exporter = CalendarExport(session)
        calendar = exporter.everything(patient_id) if args.all else exporter.upcoming(patient_id)
    if calendar.count == 0:
        which = "" if args.all else "upcoming "
        raise NotFound(f"{patient_name} has no {which}appointments to export; nothing was "
                       "written.")
    with private_output(args.out, binary=True) as out:
        out.write(calendar.data)
    plural = "" if calendar.count == 1 else "s"
    print(f"Wrote {calendar.count} appointment{plural} to {args.out}. This file is NOT "
          "encrypted: keep it safe, and delete it once your calendar has imported it."
          + calendar.left_out_sentence(), file=sys.stderr)
    return 0


# -- vitals -----------------------------------------------------------------------------------


def cmd_vitals(args: argparse.Namespace) -> int:
    with open_session(args, warm=VITAL_MODULES) as session:
        from luna_tui.services.vitals import Vitals

        patient_id, patient_name = resolve_patient(session, args.patient)
        readings = Vitals(session).page(patient_id, kind=args.kind, limit=args.n).vitals
    if args.json:
        print_json([view_json(v, patient_name) for v in readings])
    elif not readings:
        what = f"{args.kind} readings" if args.kind else "readings"
        print(f"{terminal_text(patient_name)} has no {terminal_text(what)} yet. Record one "
              "with: luna vitals add weight 72.5")
    else:
        _print_table(("when", "kind", "value", "notes"),
                     ((v.measured_at.replace("T", " "), _kind_label(v.kind), v.display_value,
                       v.notes or "") for v in readings))
    return 0


def cmd_vitals_add(args: argparse.Namespace) -> int:
    at = _moment_argument(args.at)
    with open_session(args, warm=VITAL_MODULES) as session:
        from luna_tui.services.vitals import Vitals, split_pair

        value, value2 = split_pair(args.value, args.value2)  # "120/80"

        session.require_writable("record a reading")
        patient_id, _ = resolve_patient(session, args.patient)
        reading = Vitals(session).record(patient_id, args.kind, value, value2, unit=args.unit,
                                         measured_at=at, notes=args.notes)
    print(terminal_text(f"Recorded {reading.kind.replace('_', ' ')} {reading.display_value} "
                        f"at {reading.measured_at.replace('T', ' ')}."))
    return 0


def _kind_label(kind: str) -> str:
    from luna_tui.services.vitals import KINDS

    known = KINDS.get(kind)
    return known.label if known else kind.replace("_", " ")


# -- shared -----------------------------------------------------------------------------------


def view_json(view: Any, patient_name: str | None = None) -> dict[str, Any]:
    """Every field of a service's view, as JSON (tuples become lists); a view of one
    patient's data also names the patient (`patient`, beside `patient_id`)."""
    from dataclasses import asdict

    fields = {name: list(value) if isinstance(value, tuple) else value
              for name, value in asdict(view).items()}
    if patient_name is None:
        return fields
    return with_patient(fields, fields["patient_id"], patient_name)


def _moment_argument(text: str | None) -> str | None:
    """`--at 08:10` means today at 08:10; dates and date-times pass through."""
    from luna_tui.errors import ValidationError
    from luna_tui.services.validation import parse_time

    if not text or "T" in text or " " in text.strip():
        return text
    try:
        parse_time(text, "time")
    except ValidationError:
        return text  # a date, or a mistake the service will name
    return f"today {text}"


def _print_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        # Text, not markup: a note with [brackets] is shown as typed; and text only, not
        # terminal controls.
        table.add_row(*(Text(terminal_text(cell)) for cell in row))
    Console().print(table)
