"""`luna sync [setup FOLDER | join FOLDER | status | forget DEVICE]`: sync between one
person's devices through a folder another program keeps in sync (README, "Sync between
your devices").

`luna sync` alone writes this device's new changes and applies the other devices'.
`join` needs no vault (it makes one, in an empty LUNA_HOME) and asks for the passphrase
or recovery key of the vault it joins.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.cli.vault_commands import layout_from, open_session
from luna_tui.errors import EXIT_CORRUPT
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.sync.engine import SyncReport

SYNC_MODULES = ("luna_tui.services.sync.engine",)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sync = commands.add_parser(
        "sync", parents=[common], help="sync this vault with your other devices",
        description="Each device writes encrypted change files into its own subfolder of "
        "FOLDER, a folder Syncthing, Nextcloud, Dropbox or rclone keeps in sync; never put "
        "LUNA_HOME itself in such a folder. Without an action: write this device's changes "
        "and apply the others'.")
    sync.set_defaults(handler=cmd_sync)
    actions = sync.add_subparsers(dest="action", metavar="ACTION",
                                  parser_class=LunaArgumentParser)
    setup = actions.add_parser("setup", parents=[common],
                               help="start syncing this vault through FOLDER")
    setup.add_argument("folder", metavar="FOLDER")
    setup.set_defaults(handler=cmd_setup)

    join = actions.add_parser(
        "join", parents=[common], help="make this (empty) LUNA_HOME a device of the vault in "
        "FOLDER", description="Restores the newest snapshot in FOLDER into LUNA_HOME, which "
        "must be empty, then applies the change files written after it. Asks for the "
        "vault's passphrase or recovery key.")
    join.add_argument("folder", metavar="FOLDER")
    join.set_defaults(handler=cmd_join)

    status = actions.add_parser("status", parents=[common],
                                help="devices, when each last synced, what is pending")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=cmd_status)

    compact = actions.add_parser(
        "compact", parents=[common], help="replace change files every device has applied "
        "by a fresh snapshot", description="Only this device's own subfolder, and only the "
        "files every device not forgotten has applied: a device that stopped syncing holds "
        "it back until you `luna sync forget` it.")
    compact.set_defaults(handler=cmd_compact)

    forget = actions.add_parser(
        "forget", parents=[common], help="stop waiting for a device that is gone",
        description="Its files are no longer applied, and compaction no longer waits for it "
        "to acknowledge this device's changes. It keeps what it had: after a lost device, "
        "rotate the vault's keys too (`luna keys rotate`).")
    forget.add_argument("device", metavar="DEVICE")
    forget.set_defaults(handler=cmd_forget)


def cmd_sync(args: argparse.Namespace) -> int:
    from luna_tui.services.sync.engine import Syncer

    with open_session(args, warm=SYNC_MODULES) as session:
        report = Syncer(session).run()
    _print_report(report)
    return EXIT_CORRUPT if report.refused else 0


def _print_report(report: SyncReport) -> None:
    print(f"Wrote {_count(report.written, 'change')} in "
          f"{_count(report.files_written, 'file')}; applied "
          f"{_count(report.files_applied, 'file')} from "
          f"{_count(len(report.applied), 'other device')}.")
    for sentence in report.waiting:
        print(f"Waiting: {terminal_text(sentence)}")
    for sentence in report.refused:
        print(f"Refused: {terminal_text(sentence)}")


def cmd_setup(args: argparse.Namespace) -> int:
    from luna_tui.services.sync.setup import setup_sync

    with open_session(args, warm=SYNC_MODULES) as session:
        result = setup_sync(session, args.folder)
    print(f"This device is {result.device_id}; it syncs through {terminal_text(result.folder)}.")
    print(f"A snapshot for new devices: {terminal_text(result.snapshot.name)}. On another "
          f"device, with an empty LUNA_HOME: luna sync join {terminal_text(result.folder)}")
    print("Keep the vault folder itself out of any syncer; only this folder is synced.")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    from luna_tui.cli.secrets_input import read_passphrase
    from luna_tui.services.sync.join import join_sync

    layout = layout_from(args)
    secret = read_passphrase(args, "Passphrase or recovery key of the vault to join: ")
    result = join_sync(args.folder, secret, layout)
    print(f"Joined from {terminal_text(result.snapshot.name)} into {layout.home} as device "
          f"{result.device_id}.")
    _print_report(result.report)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from luna_tui.services.sync.status import UNSEEN_DAYS, sync_status

    with open_session(args, warm=SYNC_MODULES) as session:
        status = sync_status(session)
    if args.json:
        print(json.dumps(status.as_json(), indent=2))
        return 0
    print(f"This device: {status.device_id}, syncing through {terminal_text(status.folder)}.")
    print(f"Changes not yet written: {status.pending_changes}.")
    for device in status.devices:
        seen = device.last_seen or "never"
        state = " (forgotten)" if device.forgotten else ""
        print(f"  {device.device_id}{state}: last synced {seen}; applied here up to file "
              f"{device.applied_seq} of {device.available_seq}")
        if device.long_unseen and not device.forgotten:
            print(f"    Not seen for over {UNSEEN_DAYS} days. If that device is gone: "
                  f"luna sync forget {device.device_id}")
    if not status.devices:
        print("No other device has synced yet.")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from luna_tui.services.sync.compaction import compact

    with open_session(args, warm=SYNC_MODULES) as session:
        result = compact(session)
    print(f"Removed {_count(result.removed, 'change file')} that every device has applied "
          f"(up to file {result.up_to}).")
    if result.waiting_for:
        print("Not yet applied everywhere, so kept for: "
              f"{', '.join(result.waiting_for)} (a device that is gone: luna sync forget "
              "DEVICE).")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from luna_tui.services.sync.status import forget_device

    with open_session(args, warm=SYNC_MODULES) as session:
        forget_device(session, args.device)
    print(f"Device {terminal_text(args.device)} is forgotten: its files are no longer "
          "applied. If it was lost, rotate the vault's keys (`luna keys rotate`) and remove "
          "it from the syncer.")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
