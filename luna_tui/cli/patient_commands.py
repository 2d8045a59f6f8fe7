"""`luna patients`: the owner and the people a caregiver looks after, from the shell.

The same service calls as the app's patients place, so the same checks, the same audit
rows and the same refusals (a read-only key, archiving the vault's owner). A patient is
named by their name (a unique beginning will do) or the beginning of their id.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from luna_tui.cli.health_commands import _print_table
from luna_tui.cli.journal_commands import print_json
from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.cli.vault_commands import open_session
from luna_tui.errors import ValidationError
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.patients import PatientView

PATIENT_MODULES = ("luna_tui.services.patients", "luna_tui.services.settings")
SHORT_ID = 8
# Options of `patients add` → the service's profile fields.
PROFILE_OPTIONS = (("born", "date_of_birth"), ("relationship", "relationship"),
                   ("gender", "gender"), ("phone", "phone"),
                   ("emergency_contact", "emergency_contact"), ("doctor", "primary_doctor"),
                   ("doctor_phone", "doctor_phone"), ("allergies", "allergies"),
                   ("notes", "notes"))


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    patients = commands.add_parser(
        "patients", parents=[common], help="list, add, rename and archive patients",
        description="The people whose health this vault keeps: you (the owner) and anyone "
        "you care for. `--patient NAME` on other commands chooses whose data they show.")
    patients.add_argument("--all", action="store_true", help="include archived patients")
    patients.add_argument("--json", action="store_true", help="print JSON")
    patients.set_defaults(handler=cmd_patients)
    actions = patients.add_subparsers(dest="patients_action", metavar="ACTION",
                                      parser_class=LunaArgumentParser)

    add = actions.add_parser("add", parents=[common], help="add a patient",
                             description="Add someone you look after.")
    add.add_argument("name", nargs="+", metavar="NAME", help="their name, e.g. Sam")
    add.add_argument("--born", metavar="YYYY-MM-DD", help="date of birth")
    add.add_argument("--relationship", metavar="R", help="e.g. mother, son")
    add.add_argument("--gender", metavar="G")
    add.add_argument("--phone", metavar="P")
    add.add_argument("--emergency-contact", metavar="C")
    add.add_argument("--doctor", metavar="D", help="their doctor")
    add.add_argument("--doctor-phone", metavar="P")
    add.add_argument("--allergies", metavar="T")
    add.add_argument("--notes", metavar="T")
    add.set_defaults(handler=cmd_patients_add)

    rename = actions.add_parser("rename", parents=[common], help="change a patient's name")
    rename.add_argument("patient", metavar="ID|NAME", help='the patient ("quote" two words)')
    rename.add_argument("new_name", nargs="+", metavar="NEW", help="the new name")
    rename.set_defaults(handler=cmd_patients_rename)

    for name, help_text, description in (
            ("archive", "hide a patient, keeping everything of theirs",
             "Hide a patient from lists and the app's screens; all their data stays, and "
             "`luna patients unarchive` brings them back. The vault's owner can't be "
             "archived."),
            ("unarchive", "bring an archived patient back", "Bring an archived patient "
             "back into lists and the app's screens.")):
        action = actions.add_parser(name, parents=[common], help=help_text,
                                    description=description)
        action.add_argument("patient", metavar="ID|NAME")
        action.set_defaults(handler=cmd_patients_archive, archived=name == "archive")


def cmd_patients(args: argparse.Namespace) -> int:
    with open_session(args, warm=PATIENT_MODULES) as session:
        from luna_tui.services.patients import Patients
        from luna_tui.services.settings import Settings

        patients = Patients(session)
        listed = patients.list(include_archived=args.all)
        counts = patients.entry_counts()
        current = Settings(session).current_patient_id()
    if args.json:
        print_json([patient_json(p, entries=counts.get(p.id, 0), current=p.id == current)
                    for p in listed])
        return 0
    _print_table(("", "id", "name", "relationship", "entries", "status"), (
        ("●" if p.id == current else "", p.id[:SHORT_ID], p.name, _relationship(p),
         str(counts.get(p.id, 0)), "active" if p.active else "archived")
        for p in listed))
    if not args.all:
        print("● the current patient. Archived patients: luna patients --all")
    return 0


def patient_json(patient: PatientView, *, entries: int, current: bool) -> dict[str, Any]:
    return with_patient({**asdict(patient), "owner": patient.is_owner,
                         "archived": not patient.active, "current": current,
                         "entries": entries}, patient.id, patient.name)


def _relationship(patient: PatientView) -> str:
    return "owner" if patient.is_owner else (patient.relationship or "")


def cmd_patients_add(args: argparse.Namespace) -> int:
    with open_session(args, warm=PATIENT_MODULES) as session:
        from luna_tui.services.patients import Patients

        session.require_writable("add a patient")
        profile = {field: getattr(args, option) for option, field in PROFILE_OPTIONS
                   if getattr(args, option) is not None}
        patient = Patients(session).create(" ".join(args.name), **profile)
    print(terminal_text(f"Added {patient.name} ({patient.id[:SHORT_ID]}). Write in their "
                        f"journal with: luna add --patient \"{patient.name}\""))
    return 0


def cmd_patients_rename(args: argparse.Namespace) -> int:
    with open_session(args, warm=PATIENT_MODULES) as session:
        from luna_tui.services.patients import Patients

        session.require_writable("change a patient")
        patients = Patients(session)
        patient = patients.resolve(args.patient)
        renamed = patients.update(patient.id, name=" ".join(args.new_name))
    print(terminal_text(f"Renamed {patient.name} to {renamed.name}."))
    return 0


def cmd_patients_archive(args: argparse.Namespace) -> int:
    action = "archive a patient" if args.archived else "bring back a patient"
    with open_session(args, warm=PATIENT_MODULES) as session:
        from luna_tui.services.patients import Patients
        from luna_tui.services.settings import Settings

        session.require_writable(action)
        patients, settings = Patients(session), Settings(session)
        patient = patients.resolve(args.patient)
        if bool(patient.active) != args.archived:
            state = "archived" if args.archived else "not archived"
            raise ValidationError(f"{patient.name} is already {state}.", "patient")
        was_current = patient.id == settings.current_patient_id()
        changed = patients.set_archived(patient.id, args.archived)
        now_current = None
        if was_current and args.archived:
            # Said and kept: unarchiving them later doesn't quietly make them current again.
            now_current = patients.get(settings.current_patient_id())
            settings.set("current_patient", now_current.id)
    if not args.archived:
        print(terminal_text(f"{changed.name} is back in lists and the app's screens."))
        return 0
    print(terminal_text(f"Archived {changed.name}: hidden from lists, everything of theirs "
                        f"kept (luna patients unarchive \"{changed.name}\" brings them "
                        "back)."))
    if now_current is not None:
        print(terminal_text(f"{changed.name} was the current patient; now "
                            f"{now_current.name} is."))
    return 0
