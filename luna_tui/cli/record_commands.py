"""`luna records`, `luna attach` and `luna attachment`: medical records and their
encrypted files from the shell.

Ids are long; every command takes any unique prefix of one (the 8 characters
`luna records` shows). A file that cannot be attached says why, and the record it was
meant for is kept.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from luna_tui.cli.journal_commands import positive_count, print_json, resolve_patient
from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.cli.vault_commands import open_session
from luna_tui.errors import LunaError
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.records import RecordView
    from luna_tui.services.vault_session import VaultSession

RECORD_MODULES = ("luna_tui.services.records", "luna_tui.services.attachments",
                  "luna_tui.services.patients", "luna_tui.services.settings")
DEFAULT_COUNT = 50


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    _register_records(commands, common)
    attach = commands.add_parser(
        "attach", parents=[common], help="attach files to a record (encrypted)",
        description="Encrypt files into the vault and attach them to a record. Text files "
        "and PDFs with a text layer become searchable.")
    attach.add_argument("record", metavar="RECORD_ID", help="the record (a unique prefix will do)")
    attach.add_argument("files", nargs="+", metavar="FILE")
    attach.set_defaults(handler=cmd_attach)
    _register_attachment(commands, common)


def _register_records(commands: argparse._SubParsersAction,
                      common: argparse.ArgumentParser) -> None:
    records = commands.add_parser(
        "records", parents=[common], help="list, search, add and delete medical records",
        description="Medical records, newest event first: lab results, visit notes, "
        "prescriptions, imaging reports. `luna records add` adds one.")
    records.add_argument("--type", metavar="TYPE", help="only this type, e.g. lab")
    records.add_argument("--tag", metavar="TAG", help="only records with this tag")
    records.add_argument("--search", metavar="WORDS",
                         help="records with these words (in attachments' text too)")
    records.add_argument("-n", type=positive_count, default=DEFAULT_COUNT, metavar="N",
                         help=f"how many (default {DEFAULT_COUNT})")
    records.add_argument("--json", action="store_true", help="print JSON")
    records.add_argument("--patient", metavar="NAME", default=None,
                         help="whose records (default: the current patient)")
    records.set_defaults(handler=cmd_records)
    actions = records.add_subparsers(dest="records_action", metavar="ACTION",
                                     parser_class=LunaArgumentParser)

    add = actions.add_parser("add", parents=[common], help="add a record",
                             description="Add a record, optionally with files attached.")
    add.add_argument("--title", required=True, metavar="T")
    add.add_argument("--type", dest="record_type", default=None, metavar="TYPE",
                     help="lab, visit, prescription, imaging, vaccination, referral or other")
    add.add_argument("--date", metavar="DATE", help="when it happened: YYYY-MM-DD, today, …")
    add.add_argument("--tags", metavar="TAGS", help='e.g. "iron, bloods"')
    add.add_argument("--description", metavar="T")
    add.add_argument("--text", metavar="T", help="free text (notes, a transcription)")
    add.add_argument("--attach", action="append", default=[], metavar="FILE",
                     help="a file to attach (repeat for more)")
    add.add_argument("--patient", metavar="NAME", default=argparse.SUPPRESS)
    add.set_defaults(handler=cmd_records_add)

    show = actions.add_parser("show", parents=[common], help="one record and its files")
    show.add_argument("record", metavar="RECORD_ID")
    # SUPPRESS: `luna records --json show ID` keeps the --json given before the action.
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                      help="print JSON")
    show.set_defaults(handler=cmd_records_show)

    delete = actions.add_parser("delete", parents=[common],
                                help="delete a record and its attached files")
    delete.add_argument("record", metavar="RECORD_ID")
    delete.add_argument("--yes", action="store_true", help="don't ask first")
    delete.set_defaults(handler=cmd_records_delete)


def _register_attachment(commands: argparse._SubParsersAction,
                         common: argparse.ArgumentParser) -> None:
    attachment = commands.add_parser(
        "attachment", parents=[common], help="save a copy of an attachment, or remove one",
        description="Attachments stay encrypted in the vault; `get` writes a decrypted copy "
        "after checking it is exactly the file that was attached.")
    actions = attachment.add_subparsers(dest="attachment_action", metavar="ACTION",
                                        parser_class=LunaArgumentParser, required=True)
    get = actions.add_parser("get", parents=[common], help="save a decrypted copy")
    get.add_argument("attachment", metavar="ATTACHMENT_ID")
    get.add_argument("--out", required=True, metavar="PATH",
                     help="a file name, or a folder to put it in under its own name")
    get.add_argument("--force", action="store_true", help="replace a file already there")
    get.set_defaults(handler=cmd_attachment_get)
    delete = actions.add_parser("delete", parents=[common], help="remove an attachment")
    delete.add_argument("attachment", metavar="ATTACHMENT_ID")
    delete.add_argument("--yes", action="store_true", help="don't ask first")
    delete.set_defaults(handler=cmd_attachment_delete)


# -- records ------------------------------------------------------------------------------


def cmd_records(args: argparse.Namespace) -> int:
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.services.records import Records

        patient_id, patient_name = resolve_patient(session, args.patient)
        records = Records(session)
        if args.search:
            hits = records.search(patient_id, args.search, record_type=args.type,
                                  tag=args.tag, limit=args.n)
            found = [hit.record for hit in hits]
        else:
            found = records.list(patient_id, record_type=args.type, tag=args.tag, limit=args.n)
    if args.json:
        print_json([record_json(r, patient_name) for r in found])
    elif not found:
        what = "matching records" if (args.search or args.type or args.tag) else "records"
        print(f"{terminal_text(patient_name)} has no {what}. Add one with: luna records add "
              '--title "Blood test" --type lab --date 2026-11-20 --attach results.pdf')
    else:
        _print_records(found)
    return 0


def _print_records(records: list[RecordView]) -> None:
    from luna_tui.cli.health_commands import _print_table

    _print_table(("id", "date", "type", "title", "tags", "files"), (
        (r.short_id, r.event_date or "-", r.type_label, r.title,
         " ".join(f"#{t}" for t in r.tags), str(len(r.attachments)) if r.attachments else "")
        for r in records))


def cmd_records_add(args: argparse.Namespace) -> int:
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.services.records import Records

        session.require_writable("add a record")
        patient_id, patient_name = resolve_patient(session, getattr(args, "patient", None))
        record = Records(session).create(  # --type before `add` counts as well
            patient_id, title=args.title, record_type=args.record_type or args.type,
            event_date=args.date,
            tags=args.tags, description=args.description, text=args.text)
        print(terminal_text(f'Added "{record.title}" ({record.type_label}) to '
                            f"{patient_name}'s records as {record.short_id}."))
        return _attach_all(session, record.id, args.attach)


def cmd_records_show(args: argparse.Namespace) -> int:
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.services.patients import Patients
        from luna_tui.services.records import Records

        records = Records(session)
        record = records.get(records.resolve(args.record))
        patient_name = Patients(session).get(record.patient_id).name
    if args.json:
        print_json(record_json(record, patient_name))
        return 0
    print(terminal_text(f"{record.title}  ({record.type_label}, "
                        f"{record.event_date or 'no date'})  id {record.id}"))
    if record.tags:
        print(terminal_text("tags: " + " ".join(f"#{t}" for t in record.tags)))
    for label, value in (("description", record.description), ("text", record.text)):
        if value:
            print(f"{label}: {terminal_text(value, multiline=True)}")
    if not record.attachments:
        print(f"No files attached. Attach one with: luna attach {record.short_id} FILE")
    for attachment in record.attachments:
        searchable = ", text searchable" if attachment.has_text else ""
        print(terminal_text(f"  {attachment.id[:8]}  {attachment.file_name}  "
                            f"({attachment.display_size}, {attachment.mime_type}{searchable})"))
    return 0


def cmd_records_delete(args: argparse.Namespace) -> int:
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.services.records import Records

        records = Records(session)
        session.require_writable("delete a record")
        record = records.get(records.resolve(args.record))
        files = len(record.attachments)
        if not _confirmed(args, terminal_text(f'Delete "{record.title}" and its {files} '
                                              f"attached file{'s' if files != 1 else ''}?")):
            print("Nothing was deleted.")
            return 0
        removed = records.delete(record.id)
    print(terminal_text(f'Deleted "{record.title}" and {removed} attached '
                        f'file{"s" if removed != 1 else ""}.'))
    return 0


def _confirmed(args: argparse.Namespace, question: str) -> bool:
    """--yes, or a y at the prompt; without a terminal to ask on, --yes is required."""
    from luna_tui.errors import UsageError

    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("This can't be undone; add --yes to confirm.")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


# -- attachments --------------------------------------------------------------------------


def cmd_attach(args: argparse.Namespace) -> int:
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.services.records import Records

        session.require_writable("attach files")
        record_id = Records(session).resolve(args.record)
        return _attach_all(session, record_id, args.files)


def _attach_all(session: VaultSession, record_id: str, files: list[str]) -> int:
    """Attach each file; one that fails is named with its reason and the rest go on.
    Returns the exit code: 0, or the first failure's (6 for a full disk, …)."""
    from luna_tui.cli.journal_commands import _progress
    from luna_tui.services.attachments import Attachments

    exit_code = 0
    for path in files:
        try:
            with _progress(f"Encrypting {path}") as advance:
                attached = Attachments(session).add(record_id, path, progress=advance)
        except LunaError as error:
            print(terminal_text(f"luna: {path} was not attached: {error}"), file=sys.stderr)
            exit_code = exit_code or error.exit_code
            continue
        searchable = ", text searchable" if attached.has_text else ""
        print(terminal_text(f"Attached {attached.file_name} ({attached.display_size}, "
                            f"{attached.mime_type}{searchable}) as {attached.id[:8]}."))
    return exit_code


def cmd_attachment_get(args: argparse.Namespace) -> int:
    from pathlib import Path

    from luna_tui.errors import UsageError

    target = Path(args.out).expanduser()
    if target.exists() and not target.is_dir() and not args.force:
        raise UsageError(f"{target} already exists; choose another name, or add --force to "
                         "replace it.")
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.cli.journal_commands import _progress
        from luna_tui.services.attachments import Attachments

        attachments = Attachments(session)
        attachment_id = attachments.resolve(args.attachment)
        with _progress("Decrypting") as advance:
            path = attachments.save_copy(attachment_id, args.out, overwrite=args.force,
                                         progress=advance)
    print(f"Saved {terminal_text(path)} (checksum verified). This copy is NOT encrypted: keep "
          "it safe, and delete it when you no longer need it.", file=sys.stderr)
    return 0


def cmd_attachment_delete(args: argparse.Namespace) -> int:
    with open_session(args, warm=RECORD_MODULES) as session:
        from luna_tui.services.attachments import Attachments

        attachments = Attachments(session)
        session.require_writable("remove an attachment")
        attachment = attachments.get(attachments.resolve(args.attachment))
        if not _confirmed(args, terminal_text(f"Remove {attachment.file_name} from its "
                                              "record?")):
            print("Nothing was removed.")
            return 0
        attachments.delete(attachment.id)
    print(terminal_text(f"Removed {attachment.file_name} and its encrypted file."))
    return 0


def record_json(record: RecordView, patient_name: str) -> dict[str, object]:
    from dataclasses import asdict

    # With its attachments, ids included.
    return with_patient(asdict(record), record.patient_id, patient_name)
