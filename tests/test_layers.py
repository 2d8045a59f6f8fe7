"""Layering and import hygiene, checked in fresh interpreters.

Below the UI nothing imports Textual; importing Luna does nothing (no files, no
connections) and leaves the heavy libraries to the commands that need them.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import luna_tui


def core_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(luna_tui.__path__, "luna_tui.")
        if not m.name.startswith(("luna_tui.ui", "luna_tui.migrations"))
    )


def modules_after_import(names: list[str], tmp_path) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "LUNA_HOME": str(tmp_path / "never-made")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, check=True)
    return set(json.loads(result.stdout))


def test_the_core_never_imports_textual(tmp_path):
    modules = core_modules()
    assert "luna_tui.services.vault_session" in modules and "luna_tui.cli.main" in modules
    loaded = modules_after_import(modules, tmp_path)
    assert "textual" not in loaded
    assert not (tmp_path / "never-made").exists()


def test_starting_the_command_line_defers_the_heavy_imports(tmp_path):
    loaded = modules_after_import(["luna_tui", "luna_tui.cli.main"], tmp_path)
    heavy = {"cryptography", "argon2", "peewee", "sqlcipher3", "rich", "zxcvbn", "textual",
             "platformdirs"}
    assert heavy.isdisjoint(loaded), heavy & loaded


def test_help_touches_nothing_on_disk(tmp_path):
    env = {**os.environ, "LUNA_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "luna_tui", "--help"], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0 and "init" in result.stdout
    assert not (tmp_path / "home").exists()


def test_the_import_contracts_hold():
    """pyproject.toml's import-linter contracts: the layers, no Textual below the app,
    the app reaching the core only through the services, the shell using the app only
    to start it, no circles (the app's own included)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    result = subprocess.run([sys.executable, "-c", command, "--no-cache"],
                            capture_output=True, text=True, cwd=root)
    if result.returncode != 0 and "No module named importlinter" in result.stderr:
        raise AssertionError("import-linter is a test dependency: pip install -e '.[test]'")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 6 kept, 0 broken." in result.stdout, result.stdout


def test_the_unlock_screen_waits_for_no_service_or_database_import(tmp_path):
    """`luna` → the unlock screen is on the path a person waits on at every start: it
    imports Textual and the app, but none of the services, the database or crypto."""
    loaded = modules_after_import(
        ["luna_tui.cli.main", "luna_tui.ui.app", "luna_tui.ui.screens.unlock"], tmp_path)
    heavy = {"peewee", "sqlcipher3", "cryptography", "argon2", "zxcvbn", "httpx", "pypdf"}
    assert heavy.isdisjoint(loaded), heavy & loaded
    assert not {m for m in loaded if m.startswith(("luna_tui.services", "luna_tui.store"))}
