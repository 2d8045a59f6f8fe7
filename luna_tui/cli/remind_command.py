"""`luna remind`: what Luna will remind of in the next hours, reminders per medication,
and a login unit that starts the agent which reminds while it is unlocked.

Reminders are sent by whichever holds the vault unlocked — the app, or an agent
(`luna agent`) — one at a time (services/reminders.py); this command only shows and
sets them up, it sends nothing itself.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from luna_tui.cli.vault_commands import open_session
from luna_tui.terminal_text import terminal_text

UNIT_NAME = "luna-agent.service"
REMIND_MODULES = ("luna_tui.services.reminders", "luna_tui.services.medications",
                  "luna_tui.services.settings")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    remind = commands.add_parser(
        "remind", parents=[common], help="see the coming reminders; set them up",
        description="Luna reminds of doses, refills and appointments while the app or an "
        "agent is unlocked (settings reminders.* and dose.*). --list shows the next 24 "
        "hours; --on/--off NAME turn one medication's reminders on or off; --install "
        "writes a login unit that starts `luna agent --wait`.",
    )
    what = remind.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true",
                      help="what will be reminded of in the next 24 hours")
    what.add_argument("--on", metavar="NAME", help="remind of this medication")
    what.add_argument("--off", metavar="NAME", help="no reminders for this medication")
    what.add_argument("--install", action="store_true",
                      help="write a systemd user unit that starts the agent at login "
                      "(it prints how to enable it; it starts nothing)")
    remind.add_argument("--hours", type=int, default=24, metavar="N",
                        help="with --list: how many hours ahead (default 24)")
    remind.add_argument("--patient", metavar="NAME",
                        help="with --on/--off: whose medication (default: the current "
                        "patient)")
    remind.set_defaults(handler=cmd_remind)


def cmd_remind(args: argparse.Namespace) -> int:
    if args.install:
        return _install()
    if args.list:
        return _list(args)
    return _switch(args, args.on or args.off, on=bool(args.on))


def _list(args: argparse.Namespace) -> int:
    from luna_tui.errors import UsageError

    if not 1 <= args.hours <= 24 * 14:
        raise UsageError("--hours must be between 1 and 336.")
    with open_session(args, warm=REMIND_MODULES) as session:
        from luna_tui.services.reminders import ReminderScheduler
        from luna_tui.services.settings import Settings

        scheduler = ReminderScheduler(session)
        if not Settings(session).get("reminders.enabled"):
            print("Reminders are off (luna settings reminders.enabled on turns them on).")
            return 0
        planned = scheduler.upcoming(args.hours)
        several = len({p.patient for p in planned}) > 1
        today = scheduler.today()
    if not planned:
        print(f"Nothing to remind of in the next {args.hours} hours.")
        return 0
    for item in planned:
        day = "" if item.at.date() == today else f"{item.at:%Y-%m-%d} "
        whose = f"  ({item.patient})" if several else ""
        print(terminal_text(f"{day}{item.at:%H:%M}  {item.kind:<11} {item.what}{whose}"))
    return 0


def _switch(args: argparse.Namespace, name: str, *, on: bool) -> int:
    from luna_tui.cli.journal_commands import resolve_patient

    with open_session(args, warm=REMIND_MODULES) as session:
        from luna_tui.services.medications import Medications

        session.require_writable("change a medication's reminders")
        patient_id, _ = resolve_patient(session, args.patient)
        medications = Medications(session)
        medication = medications.find(patient_id, name)
        medications.update(medication.id, reminders="on" if on else "off")
    state = "on" if on else "off"
    print(terminal_text(f"Reminders for {medication.name} are {state}."))
    return 0


def unit_text(command: list[str], luna_home: str | None) -> str:
    environment = (f"Environment={_systemd_quoted('LUNA_HOME=' + luna_home)}\n"
                   if luna_home else "")
    return (
        "[Unit]\n"
        "Description=Luna agent: reminders while the vault is unlocked (luna unlock)\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={' '.join(_systemd_quoted(part) for part in command)}\n"
        f"{environment}"
        "Restart=on-failure\n\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def _systemd_quoted(word: str) -> str:
    if word and all(c.isalnum() or c in "/._-=:+@," for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def _install() -> int:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    folder = config / "systemd" / "user"
    command = [sys.executable, "-m", "luna_tui", "agent", "--wait"]
    text = unit_text(command, os.environ.get("LUNA_HOME"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / UNIT_NAME
    temporary = path.with_name(path.name + ".luna-tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    print(terminal_text(f"Wrote {path}."))
    print("It starts a locked agent at login; `luna unlock` gives it the key. Enable it "
          "with:\n"
          f"    systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}")
    print("Elsewhere: on macOS a LaunchAgent (~/Library/LaunchAgents, RunAtLoad) or a "
          "login item, on other systems your session's autostart, running:\n"
          f"    {shlex.join(command)}")
    return 0
