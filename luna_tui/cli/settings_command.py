"""`luna settings`: see and change the vault's settings (kept inside the encrypted vault)."""

from __future__ import annotations

import argparse
import json

from luna_tui.cli.vault_commands import open_session


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    settings = commands.add_parser(
        "settings", parents=[common], help="see or change a setting",
        description="With no NAME, list every setting; with NAME, show it; with NAME and "
        "VALUE, change it. Settings live inside the encrypted vault.",
    )
    settings.add_argument("name", nargs="?", metavar="NAME")
    settings.add_argument("value", nargs="?", metavar="VALUE")
    settings.set_defaults(handler=cmd_settings)


def cmd_settings(args: argparse.Namespace) -> int:
    from luna_tui.services.settings import SETTINGS, Settings

    with open_session(args, warm=("luna_tui.services.settings",)) as session:
        settings = Settings(session)
        if args.name is None:
            for name, setting in SETTINGS.items():
                value = "(secret)" if setting.secret else json.dumps(settings.get(name))
                print(f"{name} = {value}\n    {setting.description}")
            return 0
        if args.value is None:
            setting = SETTINGS.get(args.name)
            value = settings.get(args.name)
            print("(secret)" if setting and setting.secret else json.dumps(value))
            return 0
        session.require_writable("change a setting")
        value = settings.set(args.name, args.value)
    print(f"{args.name} = {json.dumps(value)}")
    return 0
