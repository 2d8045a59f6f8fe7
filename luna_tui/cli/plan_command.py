"""`luna plan`: the safety plan in the terminal; `luna plan --card`: the crisis card,
without the passphrase.

The plan is edited in the app (f1), where the crisis card is turned on too. This
command only shows: nothing is sent anywhere, no one is contacted.
"""

from __future__ import annotations

import argparse

from luna_tui.cli.vault_commands import layout_from, open_session
from luna_tui.terminal_text import terminal_text

PLAN_MODULES = ("luna_tui.services.safety.plan", "luna_tui.services.patients",
                "luna_tui.services.settings")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    plan = commands.add_parser(
        "plan", parents=[common], help="show your safety plan",
        description="Show your safety plan (Stanley & Brown), section by section; edit it "
        "in the app (f1 opens it from anywhere). --card shows the crisis card instead, "
        "without the passphrase: the contacts you chose for it, kept NOT encrypted.",
    )
    plan.add_argument("--card", action="store_true",
                      help="show the crisis card (no passphrase needed)")
    plan.add_argument("--patient", metavar="NAME", help="whose plan (default: the current)")
    plan.set_defaults(handler=cmd_plan)


def cmd_plan(args: argparse.Namespace) -> int:
    if args.card:
        return _card(args)
    from luna_tui.cli.journal_commands import resolve_patient

    with open_session(args, warm=PLAN_MODULES) as session:
        from luna_tui.services.safety.plan import SECTIONS, SafetyPlans

        patient_id, name = resolve_patient(session, args.patient)
        plan = SafetyPlans(session).get(patient_id)
    print(terminal_text(f"{name}'s safety plan"))
    for number, (key, heading, hint) in enumerate(SECTIONS, start=1):
        print()
        print(f"{number}. {heading}")
        items = plan.items[key]
        if not items:
            print(terminal_text(f"   (nothing yet: {hint[0].lower()}{hint[1:]})"))
        for item in items:
            print(terminal_text(f"   - {item.text}"))
    print()
    print("Edit it in the app: `luna`, then f1.")
    return 0


def _card(args: argparse.Namespace) -> int:
    from luna_tui.errors import LunaError
    from luna_tui.services.safety import crisis_card

    layout = layout_from(args)
    lines = crisis_card.read(layout.home)
    if lines is None:
        raise LunaError("There is no crisis card. Turn one on in the app's safety plan "
                        "(f1, then c); until then `luna plan` shows the plan.")
    print("Crisis card")
    for line in lines:
        print(terminal_text(f"- {line.text}  ({line.section})"))
    return 0
