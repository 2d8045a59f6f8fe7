"""`luna backup create | list | verify | restore | prune`: backups from the shell.

`create`, `list` and `prune` unlock the vault (they read it); `verify` and `restore`
ask for the passphrase the *backup* opens with — the vault's passphrase when the
backup was made — and need no working vault at all, which is the point of a backup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from luna_tui.cli.parsing import LunaArgumentParser, whole_number
from luna_tui.cli.progress_line import ProgressLine
from luna_tui.cli.vault_commands import layout_from, open_session
from luna_tui.errors import EXIT_CORRUPT, UsageError
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.backups.folder import BackupInfo

BACKUP_MODULES = ("luna_tui.services.backups.folder", "luna_tui.services.settings")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    backup = commands.add_parser(
        "backup", parents=[common], help="create, list, verify, restore and prune backups",
        description="A backup is one encrypted file (luna-YYYYMMDD-HHMMSS.lunabak) that opens "
        "with the passphrases the vault had when it was made.",
    )
    actions = backup.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=LunaArgumentParser)
    create = actions.add_parser("create", parents=[common], help="back up the vault now")
    create.add_argument("--to", metavar="DIR", help="folder to write it to "
                        "(default: the backup.folder setting, else LUNA_HOME/backups)")
    create.set_defaults(handler=cmd_create)

    listing = actions.add_parser("list", parents=[common], help="the backups in a folder")
    listing.add_argument("--dir", metavar="DIR", help="folder to look in")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)

    verify = actions.add_parser(
        "verify", parents=[common], help="check a backup end to end (exit 0 whole, 4 not)",
        description="Checks the manifest and every checksum, opens the backup with its "
        "passphrase, runs SQLite's integrity check on every database and walks the audit "
        "chain. Exit status 0 when it is whole, 4 when it is not.")
    verify.add_argument("file", metavar="FILE")
    verify.set_defaults(handler=cmd_verify)

    restore = actions.add_parser(
        "restore", parents=[common], help="put a backup back (verifies it first)",
        description="Verifies the backup, moves the current vault aside into "
        "LUNA_HOME/backups/before-restore-…/ and puts the backup in its place. Refused while "
        "the vault is open in another Luna process.")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--to", metavar="HOME", help="restore into this folder instead of "
                         "LUNA_HOME (an empty or new folder, or a vault of the same backup)")
    restore.add_argument("--yes", action="store_true",
                         help="don't ask before replacing an existing vault")
    restore.set_defaults(handler=cmd_restore)

    prune = actions.add_parser(
        "prune", parents=[common], help="delete all but the newest N backups of this vault",
        description="Lists the backups it would delete, then asks; in a script (no "
        "terminal to ask on) it deletes only with --yes.")
    prune.add_argument("--keep", metavar="N", type=whole_number(1, 1000), required=True,
                       help="how many of the newest to keep (1 to 1,000)")
    prune.add_argument("--dir", metavar="DIR", help="folder to prune")
    prune.add_argument("--dry-run", action="store_true",
                       help="only list what would be deleted")
    prune.add_argument("--yes", action="store_true", help="don't ask first")
    prune.set_defaults(handler=cmd_prune)


def cmd_create(args: argparse.Namespace) -> int:
    from luna_tui.human_size import human_size
    from luna_tui.services.backups.folder import Backups

    progress = ProgressLine()
    with open_session(args, warm=BACKUP_MODULES) as session:
        try:
            info = Backups(session).create(args.to, progress)
        finally:
            progress.close()
    print(f"Backup saved: {info.path} ({human_size(info.size)}, "
          f"{_count(info.entries, 'entry', 'entries')}).")
    print(f"Check it can bring the vault back with: luna backup verify {info.path}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from luna_tui.human_size import human_size
    from luna_tui.services.backups.folder import Backups

    with open_session(args, warm=BACKUP_MODULES) as session:
        backups = Backups(session)
        folder = backups.folder(args.dir)
        found = backups.list(args.dir)
    if args.json:
        print(json.dumps([_as_json(info) for info in found], indent=2))
        return 0
    if not found:
        print(f"No backups in {terminal_text(folder)}. Make one with: luna backup create")
        return 0
    print(f"Backups in {terminal_text(folder)}, newest first:")
    for info in found:
        print(f"  {_when(info.created_at):16}  {human_size(info.size):>9}  "
              f"{_entries_column(info):>13}  {_verified_column(info):24}  "
              f"{terminal_text(info.path.name)}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from luna_tui.cli.secrets_input import read_passphrase
    from luna_tui.services.backups.verify import verify_backup

    path = _existing_file(args.file)
    secret = read_passphrase(args, "Passphrase of the backup: ")
    progress = ProgressLine()
    try:
        report = verify_backup(path, secret, progress=progress)
    finally:
        progress.close()
    for check in report.checks:
        print(f"{'✓' if check.ok else '✗'} {check.name}: {terminal_text(check.detail)}")
    _note_other_vault(args, report.manifest.vault_id)
    name = terminal_text(path.name)
    if not report.ok:
        print(f"\n{name} is NOT a backup you can rely on.")
        return EXIT_CORRUPT
    when = _when(report.manifest.created_at)
    print(f"\n{name} is whole: it brings the vault back as it was on {when}"
          f"{_counts_sentence(report.counts)}.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from luna_tui.cli.secrets_input import read_passphrase, terminal_available
    from luna_tui.home import VaultLayout, resolve_home
    from luna_tui.services.backups.restore import restore_backup

    path = _existing_file(args.file)
    layout = VaultLayout(resolve_home(args.to)) if args.to else layout_from(args)
    if layout.exists() and not args.yes:
        if not terminal_available():
            raise UsageError(f"There is a vault at {layout.home}; pass --yes to replace it "
                             "(it is kept as a safety copy).")
        answer = input(f"Replace the vault at {layout.home} with {path.name}? The current "
                       "one is kept in its backups/ folder. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was changed.")
            return 0
    secret = read_passphrase(args, "Passphrase of the backup: ")
    from luna_tui.agent_link import end_agent

    if end_agent(layout.home, "a restore replaces the vault"):
        print("The Luna agent of this vault is locked: the vault is being replaced.")
    progress = ProgressLine()
    try:
        result = restore_backup(path, secret, layout, progress=progress)
    finally:
        progress.close()
    print(f"Restored {terminal_text(path.name)} into {layout.home}: the vault is as it was on "
          f"{_when(result.report.manifest.created_at)}"
          f"{_counts_sentence(result.report.counts)}.")
    if result.safety_dir is not None:
        print(f"The vault it replaced is kept in {result.safety_dir} "
              f"(open it with: luna --home {result.safety_dir}).")
    if result.migrated:
        print(f"The backup was from an older Luna; its data was brought up to date "
              f"({', '.join(result.migrated)}).")
    print("It opens with the passphrases it had when the backup was made.")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    """Like every delete: what would go is listed first, then asked (a script: --yes)."""
    from luna_tui.cli.record_commands import _confirmed
    from luna_tui.human_size import human_size
    from luna_tui.services.backups.folder import Backups

    with open_session(args, warm=BACKUP_MODULES) as session:
        backups = Backups(session)
        going = backups.prunable(args.keep, args.dir)
        if not going:
            print(f"Nothing to prune: there are {args.keep} or fewer backups of this vault.")
            return 0
        many = _count(len(going), "backup", "backups")
        print(f"{'Would delete' if args.dry_run else 'To delete'}: {many} of this vault, "
              f"keeping the newest {args.keep}:")
        for info in going:
            print(f"  {_when(info.created_at):16}  {human_size(info.size):>9}  "
                  f"{terminal_text(info.path)}")
        if args.dry_run:
            return 0
        question = "Delete this backup?" if len(going) == 1 else f"Delete these {many}?"
        if not _confirmed(args, question):
            print("Nothing was deleted.")
            return 0
        removed = backups.prune(args.keep, args.dir, only=[info.path for info in going])
    for path in removed:
        print(f"Deleted {terminal_text(path)}")
    return 0


# -- how things are shown ------------------------------------------------------------------
def _when(created_at: str) -> str:
    """A manifest's UTC time, shown in local time."""
    try:
        moment = dt.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return "unknown date"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _count(number: int | None, one: str, many: str) -> str:
    if number is None:
        return f"? {many}"
    return f"{number} {one if number == 1 else many}"


def _entries_column(info: BackupInfo) -> str:
    if info.problem:
        return "unreadable"
    if not info.same_vault:
        return "other vault"
    return _count(info.entries, "entry", "entries")


def _verified_column(info: BackupInfo) -> str:
    if info.problem:
        return "damaged: run verify"
    if info.verified is None:
        return "not verified"
    state = "verified" if info.verified.ok else "FAILED verify"
    return f"{state} {_when(info.verified.verified_at)[:10]}"


def _counts_sentence(counts: dict[str, int] | None) -> str:
    if not counts:
        return ""
    return (f" ({_count(counts.get('entries'), 'entry', 'entries')}, "
            f"{_count(counts.get('patients'), 'patient', 'patients')})")


def _as_json(info: BackupInfo) -> dict[str, object]:
    return {"file": str(info.path), "size": info.size, "created_at": info.created_at,
            "this_vault": info.same_vault, "counts": info.counts,
            "verified": None if info.verified is None else {
                "at": info.verified.verified_at, "ok": info.verified.ok,
                "detail": info.verified.detail},
            "problem": info.problem}


def _existing_file(text: str) -> Path:
    path = Path(text).expanduser().absolute()
    if not path.is_file():
        raise UsageError(f"There is no backup file at {path}.")
    return path


def _note_other_vault(args: argparse.Namespace, vault_id: str) -> None:
    from luna_tui.errors import LunaError
    from luna_tui.vault import keystore

    layout = layout_from(args)
    if not layout.exists():
        return
    try:
        current = keystore.read(layout.keys_db).vault.vault_id
    except LunaError:
        return
    if current != vault_id:
        print(f"Note: this is a backup of another vault than the one at {layout.home}.")
