"""`luna init`, `luna passwd`, `luna keys …` and `luna doctor`."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.clock import SystemClock, local_today
from luna_tui.errors import EXIT_CORRUPT, UsageError, ValidationError
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    init = commands.add_parser(
        "init", parents=[common], help="create a new vault",
        description="Create a new encrypted vault. Luna asks for a passphrase twice and "
        "prints a recovery key once.",
    )
    init.add_argument("--kdf-seconds", type=_kdf_seconds, default=None, metavar="S",
                      help="how long one unlock's key derivation should take (default 0.5, "
                      "at most 10; never below Argon2id m=64 MiB, t=3)")
    init.add_argument("--allow-heavy-kdf", action="store_true",
                      help="allow --kdf-seconds above Luna's portable ceiling (the vault then "
                      "opens only with LUNA_ALLOW_HEAVY_KDF=1)")
    init.set_defaults(handler=cmd_init)

    passwd = commands.add_parser(
        "passwd", parents=[common], help="change a passphrase",
        description="Change a passphrase. Only the wrapped master key is rewritten, so this "
        "is instant whatever the vault's size. Unlocked with the recovery key, this resets "
        "the owner's passphrase.",
    )
    passwd.add_argument("--label", help="which key to change (default: the one you unlock with)")
    passwd.add_argument("--new-passphrase-file", metavar="FILE",
                        help="read the new passphrase from FILE (or set LUNA_NEW_PASSPHRASE)")
    passwd.set_defaults(handler=cmd_passwd)

    keys = commands.add_parser("keys", parents=[common], help="list, add and revoke keys")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION",
                                       parser_class=LunaArgumentParser)
    keys.set_defaults(handler=lambda args: keys.print_help())

    listing = key_commands.add_parser("list", parents=[common], help="show every key")
    listing.set_defaults(handler=cmd_keys_list)

    add = key_commands.add_parser(
        "add", parents=[common], help="add a key (e.g. read-only for a caregiver)",
        description="Add a key. Luna asks for its passphrase; leave it empty (or pass "
        "--generate) and Luna makes a strong access key to hand over instead.",
    )
    add.add_argument("--label", required=True, help="a name for the key, e.g. caregiver")
    add.add_argument("--read-only", action="store_true",
                     help="the key can read everything and change nothing")
    add.add_argument("--expires", metavar="WHEN", type=_expiry_date,
                     help='the last day the key works: 2027-03-31, "in 2 weeks"…')
    add.add_argument("--generate", action="store_true",
                     help="make a random access key instead of asking for a passphrase")
    add.add_argument("--new-passphrase-file", metavar="FILE",
                     help="read the new key's passphrase from FILE (or set LUNA_NEW_PASSPHRASE)")
    add.set_defaults(handler=cmd_keys_add)

    revoke = key_commands.add_parser("revoke", parents=[common], help="remove a key")
    revoke.add_argument("label", metavar="NAME", help="the key's label (see `luna keys list`)")
    revoke.set_defaults(handler=cmd_keys_revoke)

    recovery = key_commands.add_parser(
        "recovery", parents=[common], help="replace the recovery key",
        description="Make a new recovery key and print it once; the old one stops working.",
    )
    recovery.set_defaults(handler=cmd_keys_recovery)

    rotate = key_commands.add_parser(
        "rotate", parents=[common], help="new master key and passphrase (a lost device, a leak)",
        description="Make a new master key and a new passphrase: every database and "
        "attachment is re-encrypted, a new recovery key is printed once, and every other "
        "key is revoked. Backups made before still open with the old passphrase.",
    )
    rotate.add_argument("--new-passphrase-file", metavar="FILE",
                        help="read the new passphrase from FILE (- for stdin; or set "
                        "LUNA_NEW_PASSPHRASE)")
    rotate.add_argument("--yes", action="store_true",
                        help="don't ask first (a script: the revoked keys are still listed)")
    rotate.set_defaults(handler=cmd_keys_rotate)

    doctor = commands.add_parser(
        "doctor", parents=[common], help="check the vault's integrity",
        description="Check every database, the audit chain, keys.db and file permissions. "
        "Exit 0 when all hold, 4 otherwise.",
    )
    doctor.add_argument("--repair", action="store_true",
                        help="mend what a crash explains, each step recorded in the audit "
                        "log: re-anchor the audit chain after rows an older Luna lost (or a "
                        "missing month file), and remove attachment files no record owns")
    doctor.set_defaults(handler=cmd_doctor)


def _kdf_seconds(text: str) -> float:
    from luna_tui.vault.kdf import MAX_KDF_SECONDS

    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_KDF_SECONDS:  # also false for nan; 0 means the floor
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a number of seconds from 0 to {MAX_KDF_SECONDS:g}")
    return seconds


def _expiry_date(text: str) -> dt.date:
    from luna_tui.services.key_admin import expiry_from_text

    try:
        return expiry_from_text(text, local_today(SystemClock()))
    except ValidationError as error:  # the app's keys form says the same
        raise argparse.ArgumentTypeError(str(error)) from None


def layout_from(args: argparse.Namespace):  # noqa: ANN201 - VaultLayout, imported lazily
    from luna_tui.home import VaultLayout, resolve_home

    return VaultLayout(resolve_home(getattr(args, "home", None)))


# What every unlocked command needs; imported while Argon2 runs (see open_session).
SESSION_MODULES = (
    "cryptography.hazmat.primitives.ciphers.aead",  # unwrapping, right after Argon2
    "cryptography.hazmat.primitives.kdf.hkdf",
    "luna_tui.services.vault_session",
    "luna_tui.store.connection",
    "luna_tui.store.migrate",
    "luna_tui.store.audit_chain",
    "luna_tui.store.stats_counter",
    "luna_tui.store.models.registry",
)


# Set by the Luna agent (agent_server.py) while it runs a command: it lends its own
# session, audited with the key that unlocked it, instead of a derivation here.
agent_session: Callable[[argparse.Namespace, str], VaultSession] | None = None


def open_session(args: argparse.Namespace, *, warm: tuple[str, ...] = (),
                 repairing: bool = False) -> VaultSession:
    """Unlock the vault for one command, telling the person what they should know.

    Argon2 releases the GIL, so while it derives the key in a worker thread, this thread
    imports the modules the command will need (`warm`): on two cores, the imports cost
    nothing on top of the key derivation.
    """
    if agent_session is not None and not repairing:
        command = " ".join(value for name, value in vars(args).items()
                           if (name == "command" or name.endswith("_command"))
                           and isinstance(value, str))
        return agent_session(args, command)
    import importlib
    from concurrent.futures import ThreadPoolExecutor

    from luna_tui.cli.secrets_input import read_passphrase
    from luna_tui.store.vault_swap import finish_interrupted_swap
    from luna_tui.vault.key_manager import KeyManager

    layout = layout_from(args)
    finish_interrupted_swap(layout)  # a restore killed half-way is completed first
    layout.require_vault()  # before asking for a passphrase there is no use for
    secret = read_passphrase(args)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="luna-kdf") as pool:
        unlocking = pool.submit(KeyManager(layout).unlock, secret)
        for name in (*SESSION_MODULES, *warm):
            importlib.import_module(name)
        unlocked = unlocking.result()
    from luna_tui.services.vault_session import VaultSession

    session = VaultSession.connect(layout, unlocked, client="cli", repairing=repairing)
    if session.failed_unlocks:
        count = len(session.failed_unlocks)
        latest = terminal_text(session.failed_unlocks[-1].created_at)  # from plain keys.db
        print(f"luna: note: {count} failed unlock attempt{'s' if count > 1 else ''} since the "
              f"last unlock (the latest at {latest} UTC).", file=sys.stderr)
    for warning in session.warnings:
        print(f"luna: warning: {terminal_text(warning)}", file=sys.stderr)
    return session


def cmd_init(args: argparse.Namespace) -> int:
    from luna_tui.cli.secrets_input import PASSPHRASE_ENV, read_new_passphrase
    from luna_tui.errors import VaultExists, VaultMadeNotOpened
    from luna_tui.services.vault_setup import create_vault
    from luna_tui.store.vault_swap import finish_interrupted_swap
    from luna_tui.vault.kdf import DEFAULT_KDF_SECONDS, calibrate

    layout = layout_from(args)
    finish_interrupted_swap(layout)  # a half-done restore is a vault, not an empty folder
    if layout.exists():
        raise VaultExists(
            f"There is already a vault at {layout.home}. Use `luna passwd` to change its "
            "passphrase, or --home to make a new vault somewhere else."
        )
    print(f"Creating a new Luna vault in {layout.home}")
    # Tuned before the passphrase is asked: a --kdf-seconds above the portable ceiling is
    # refused before anyone types anything.
    seconds = DEFAULT_KDF_SECONDS if args.kdf_seconds is None else args.kdf_seconds
    kdf = calibrate(seconds, allow_heavy=args.allow_heavy_kdf)
    print("Choose a passphrase: a few unrelated words are strong and easy to remember.")
    passphrase = read_new_passphrase(args, env=PASSPHRASE_ENV, file_option="--passphrase-file",
                                     prompt="Passphrase: ")
    print("Creating the vault…")
    try:
        new = create_vault(layout, passphrase, kdf=kdf, client="cli",
                           allow_heavy_kdf=args.allow_heavy_kdf)
    except VaultMadeNotOpened as made:
        _show_recovery_key(made.recovery_key, made.kdf)  # it exists only now
        raise
    new.session.close()
    _show_recovery_key(new.recovery_key, new.kdf)
    print("Next: `luna doctor` checks the vault; `luna keys list` shows its keys.")
    return 0


def _show_recovery_key(recovery_key: str, params,  # noqa: ANN001 - KdfParams
                       heading: tuple[str, ...] = ()) -> None:
    from luna_tui.vault.generated_keys import grouped
    from luna_tui.vault.kdf import HEAVY_KDF_ENV

    key = grouped(recovery_key).split()
    print()
    for line in heading or (
        "Your vault is ready. This is your RECOVERY KEY. Write it down now and keep it",
        "somewhere safe, away from this computer. It opens the vault like your passphrase,",
        "and Luna will not show it again:",
    ):
        print(line)
    print()
    print("    " + "  ".join(key[:4]))
    print("    " + "  ".join(key[4:]))
    print()
    print(f"Key derivation: Argon2id, {params.memory_kib // 1024} MiB, {params.time_cost} passes, "
          f"{params.parallelism} lanes.")
    if params.above_ceiling():
        print(f"This is above Luna's portable ceiling: open the vault with {HEAVY_KDF_ENV}=1 "
              "set, here and on any machine you restore it to.")


def cmd_passwd(args: argparse.Namespace) -> int:
    from luna_tui.cli.secrets_input import NEW_PASSPHRASE_ENV, read_new_passphrase
    from luna_tui.services.key_admin import KeyAdmin

    with open_session(args) as session:
        session.require_writable("change a passphrase")
        new_passphrase = read_new_passphrase(args, env=NEW_PASSPHRASE_ENV,
                                             file_option="--new-passphrase-file")
        info = KeyAdmin(session).change_passphrase(new_passphrase, label=args.label)
    from luna_tui.agent_link import end_agent

    if end_agent(session.layout.home, "a passphrase changed"):
        print("The Luna agent of this vault is locked: unlock it again with the new passphrase.")
    print(f"The passphrase of '{terminal_text(info.label)}' is changed. The old one no longer "
          "opens the vault.")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from luna_tui.clock import local_today
    from luna_tui.services.key_admin import KeyAdmin

    with open_session(args) as session:
        keys = KeyAdmin(session).list_keys()
        today = local_today(session.clock)
        current = session.key.locator
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("label", "kind", "role", "expires", "last used", "status"):
        table.add_column(column, no_wrap=column != "label")
    for key in keys:
        status = "damaged" if not key.intact else "expired" if key.expired(today) else "ok"
        label = key.label + (" (this one)" if key.locator == current else "")
        last_used = (key.last_used_at or "never")[:16].replace("T", " ")
        # keys.db is a plain file: every field is shown as text, never as markup or controls.
        table.add_row(*(Text(terminal_text(cell)) for cell in (
            label, key.kind, key.role, key.expiry_date or "never", last_used, status)))
    Console().print(table)
    return 0


def cmd_keys_add(args: argparse.Namespace) -> int:
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.vault.generated_keys import grouped

    with open_session(args) as session:
        session.require_writable("add a key")
        passphrase = None if args.generate else _new_key_passphrase(args)
        with _showing_generated_key("access key"):
            added = KeyAdmin(session).add_key(args.label, read_only=args.read_only,
                                              passphrase=passphrase, expiry=args.expires)
    info = added.info
    rights = "read everything and change nothing" if args.read_only else "do everything"
    until = f" until {info.expiry_date}" if info.expiry_date else ""
    print(f"Added the key '{terminal_text(info.label)}'. It can {rights}{until}.")
    if added.generated_secret:
        print("Hand over this access key (shown once); it opens the vault like a passphrase:")
        print()
        print("    " + grouped(added.generated_secret))
    return 0


def _new_key_passphrase(args: argparse.Namespace) -> str | None:
    """The new key's passphrase, or None to generate an access key."""
    import os

    from luna_tui.cli.secrets_input import (
        NEW_PASSPHRASE_ENV,
        prompt_secret,
        read_new_passphrase,
        terminal_available,
    )

    if args.new_passphrase_file or os.environ.get(NEW_PASSPHRASE_ENV):
        return read_new_passphrase(args, env=NEW_PASSPHRASE_ENV,
                                   file_option="--new-passphrase-file")
    if not terminal_available():
        raise UsageError("Pass --generate for an access key, or give the new key's passphrase "
                         "with LUNA_NEW_PASSPHRASE or --new-passphrase-file.")
    first = prompt_secret("Passphrase for the new key (empty: Luna makes an access key): ")
    if not first:
        return None
    from luna_tui.vault.passphrase_policy import check_new_passphrase

    checked = check_new_passphrase(first)
    if prompt_secret("Type it again: ") != first:
        raise UsageError("The two passphrases did not match; no key was added.")
    return checked


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from luna_tui.services.key_admin import KeyAdmin

    with open_session(args) as session:
        info = KeyAdmin(session).revoke(args.label)
    print(f"Revoked '{terminal_text(info.label)}': it no longer opens this vault. (A copy of "
          "keys.db made before now still holds it; see README, Security.)")
    return 0


def cmd_keys_recovery(args: argparse.Namespace) -> int:
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.vault.generated_keys import grouped

    with open_session(args) as session, _showing_generated_key("recovery key"):
        new_key = KeyAdmin(session).replace_recovery_key()
    key = grouped(new_key).split()
    print("Your new RECOVERY KEY (the old one no longer works). Write it down now:")
    print()
    print("    " + "  ".join(key[:4]))
    print("    " + "  ".join(key[4:]))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from luna_tui.cli.progress_line import ProgressLine
    from luna_tui.cli.secrets_input import NEW_PASSPHRASE_ENV, read_new_passphrase, read_passphrase
    from luna_tui.services import key_rotation
    from luna_tui.store.vault_swap import finish_interrupted_swap

    layout = layout_from(args)
    finish_interrupted_swap(layout)
    layout.require_vault()
    key_rotation.refuse_while_agent_runs(layout)  # before anyone types a passphrase
    key_rotation.refuse_while_open(layout)
    current = read_passphrase(args, "Current passphrase: ")
    plan = key_rotation.plan_rotation(layout, current)
    print("Rotating makes a new master key and a new passphrase; every database and "
          "attachment is re-encrypted, and a new recovery key is shown once.")
    if plan.revoked:
        print("These keys open the old master key, so they stop working (add again what you "
              "still need):")
        for key in plan.revoked:
            print(f"  {terminal_text(key.label)} ({key.kind}, {key.role})")
    else:
        print("No other key opens this vault, so none is revoked.")
    if not _rotation_confirmed(args):
        print("Nothing was changed.")
        return 0
    if args.new_passphrase_file == "-":
        new_passphrase = _passphrase_from_stdin()
    else:
        new_passphrase = read_new_passphrase(args, env=NEW_PASSPHRASE_ENV,
                                             file_option="--new-passphrase-file")
    progress = ProgressLine()
    try:
        result = key_rotation.rotate_keys(plan, current, new_passphrase, progress=progress)
    finally:
        progress.close()
    print(f"Rotated: the new passphrase opens the vault; the old one no longer does. "
          f"{result.attachments} attachment(s) re-encrypted, {len(result.revoked)} key(s) "
          "revoked.")
    for warning in result.warnings:
        print(f"luna: warning: {terminal_text(warning)}", file=sys.stderr)
    _show_recovery_key(result.recovery_key, result.kdf, heading=(
        "This is your new RECOVERY KEY (the old one no longer works). Write it down now;",
        "Luna will not show it again:"))
    print(key_rotation.BACKUPS_BEFORE)
    _restart_sync(result)
    _offer_backup(args, result)
    return 0


def _restart_sync(result) -> None:  # noqa: ANN001 - RotationResult
    """A vault that syncs starts over under the new keys: its old change files no longer
    open anywhere (services/sync/rotation.py)."""
    from luna_tui.services.sync.rotation import REJOIN, restart_after_rotation
    from luna_tui.services.vault_session import VaultSession

    with VaultSession.connect(result.layout, result.unlocked, client="cli") as session:
        snapshot = restart_after_rotation(session)
    if snapshot is not None:
        print(REJOIN)


def _offer_backup(args: argparse.Namespace, result) -> None:  # noqa: ANN001 - RotationResult
    """A backup under the new keys, offered at a terminal (a script is told the command)."""
    if args.yes or not sys.stdin.isatty():
        print("Make a fresh backup now: `luna backup create`.")
        return
    if input("Make a fresh backup now? [Y/n] ").strip().lower() in ("n", "no"):
        print("Remember to make one: `luna backup create`.")
        return
    from luna_tui.cli.progress_line import ProgressLine
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.vault_session import VaultSession

    progress = ProgressLine()
    with VaultSession.connect(result.layout, result.unlocked, client="cli") as session:
        try:
            info = Backups(session).create(None, progress)
        finally:
            progress.close()
    print(f"Backed up to {terminal_text(str(info.path))}.")


def _rotation_confirmed(args: argparse.Namespace) -> bool:
    """--yes, or a y at the terminal; a script must say --yes."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("A rotation revokes keys and can't be undone; add --yes to confirm.")
    return input("Rotate the keys now? [y/N] ").strip().lower() in ("y", "yes")


def _passphrase_from_stdin() -> str:
    from luna_tui.vault.passphrase_policy import check_new_passphrase

    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("No new passphrase on stdin; nothing was changed.")
    return check_new_passphrase(line)


@contextlib.contextmanager
def _showing_generated_key(what: str) -> Iterator[None]:
    """A generated key that already works is shown even if its audit row failed."""
    from luna_tui.errors import KeyChangeNotAudited
    from luna_tui.vault.generated_keys import grouped

    try:
        yield
    except KeyChangeNotAudited as exc:
        if exc.new_secret:
            print(f"Your new {what} works now; write it down (shown once):")
            print()
            print("    " + grouped(exc.new_secret))
            print()
        raise


def cmd_doctor(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from luna_tui.services.doctor import repair, run_checks

    console = Console(highlight=False)
    with open_session(args, repairing=args.repair) as session:
        if args.repair:
            for done in repair(session) or ["Nothing needed repairing."]:
                console.print(f"[cyan]↻[/] {escape(terminal_text(done))}")
            console.print()
        findings = run_checks(session)
    for finding in findings:
        mark = "[green]✓[/]" if finding.ok else "[red]✗[/]"
        console.print(f"{mark} [bold]{escape(finding.check)}[/]: "
                      f"{escape(terminal_text(finding.detail))}")
    failed = [f for f in findings if not f.ok]
    if failed:
        console.print(f"\n{len(failed)} check(s) failed.")
        return EXIT_CORRUPT
    console.print("\nThe vault is healthy.")
    return 0
