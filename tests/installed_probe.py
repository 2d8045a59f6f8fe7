"""Run by the python of a venv where the wheel is installed (tests/test_installed_wheel.py).

It runs isolated (`python -I`, from a temp folder), so it imports only what the wheel put
in that venv, never the checkout; it prints one JSON document on stdout. Standard library
only, besides the installed Luna and its dependencies.

    python -I installed_probe.py imports MODULE...   where each module came from
    python -I installed_probe.py commands            every command path, and its --help
    python -I installed_probe.py app HOME            unlock in the app, visit every place
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import io
import json
import os
import sys
import sysconfig
from pathlib import Path


def imports(names: list[str]) -> dict[str, object]:
    """Import each module; its file, or why it failed (a module missing from the wheel)."""
    files, failures = {}, {}
    for name in names:
        try:
            files[name] = importlib.import_module(name).__file__
        except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
            failures[name] = f"{type(error).__name__}: {error}"
    return {"site_packages": sysconfig.get_paths()["purelib"], "files": files,
            "failures": failures}


def _command_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every parser of the tree, with its command path (the top level's is empty)."""
    yield path, parser
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, child in action.choices.items():
                yield from _command_parsers(child, (*path, name))


def commands() -> dict[str, object]:
    """Every command path, whether it runs on its own (it has a handler: a leaf, or a
    group like `luna meds` that lists), and what `luna PATH --help` did."""
    from luna_tui.cli.main import build_parser, main

    found = []
    for path, parser in _command_parsers(build_parser()):
        out, err = io.StringIO(), io.StringIO()
        code: object = "returned instead of exiting"
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([*path, "--help"])
            except SystemExit as exit_:
                code = exit_.code or 0
        found.append({"path": list(path), "runs": parser.get_default("handler") is not None,
                      "help_code": code, "help_is_its_own": out.getvalue().startswith(
                          f"usage: {parser.prog}"), "help_stderr": err.getvalue()})
    return {"commands": found}


def app(home: str) -> dict[str, object]:
    """Start the app headless, unlock with LUNA_PASSPHRASE, then press each place's key."""
    from luna_tui.home import VaultLayout
    from luna_tui.ui.app import LunaApp

    async def drive() -> dict[str, object]:
        from textual.widgets import Input

        luna = LunaApp(VaultLayout(Path(home)), idle_check_seconds=3600, automatic_backups=False)
        async with luna.run_test(size=(100, 36)) as pilot:
            await pilot.pause()
            gate = type(luna.screen).__name__
            luna.screen.query_one("#passphrase", Input).value = os.environ["LUNA_PASSPHRASE"]
            await pilot.press("enter")
            await _settle(pilot)
            unlocked = {"mode": luna.current_mode, "screen": type(luna.screen).__name__}
            places = {}
            # The companion last: its message field takes the focus, and digits typed
            # there are text, not places.
            for key in "123456897":
                await pilot.press(key)
                await _settle(pilot)
                places[key] = {"mode": luna.current_mode, "screen": type(luna.screen).__name__}
            stylesheets = sorted(path for path, _ in luna.stylesheet.source
                                 if path.endswith(".tcss"))
            return {"gate": gate, "unlocked": unlocked, "places": places,
                    "stylesheets": stylesheets}

    return asyncio.run(drive())


async def _settle(pilot) -> None:  # noqa: ANN001 - textual's Pilot
    """app_helpers.settle, which this script can't import: the venv has no pytest."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


if __name__ == "__main__":
    what, arguments = sys.argv[1], sys.argv[2:]
    result = {"imports": lambda: imports(arguments), "commands": commands,
              "app": lambda: app(arguments[0])}[what]()
    print(json.dumps(result))
