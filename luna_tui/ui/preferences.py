"""What the app keeps outside the vault, in Luna's config folder (luna_tui/config_dir.py).

- `config.toml`, written by the person: key remaps, by binding id.
      [keymap]
      "journal.new" = "a"
      "app.lock" = "ctrl+l,f12"
- `state.json`, written by Luna: the theme last chosen.

Neither holds health data; both are read before the vault is unlocked (the unlock
screen already has the chosen keys and colours). A broken config file is reported in a
sentence and ignored, never a reason not to start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from luna_tui.config_dir import config_dir

DARK, LIGHT = "textual-dark", "textual-light"


@dataclass
class Preferences:
    keymap: dict[str, str] = field(default_factory=dict)
    theme: str = DARK
    problems: list[str] = field(default_factory=list)


def load() -> Preferences:
    prefs = Preferences()
    folder = config_dir()
    _load_keymap(folder / "config.toml", prefs)
    _load_state(folder / "state.json", prefs)
    return prefs


def _load_keymap(path: Path, prefs: Preferences) -> None:
    if not path.exists():
        return
    import tomllib

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        prefs.problems.append(f"{path} could not be read ({exc}); using the default keys.")
        return
    keymap = document.get("keymap", {})
    if not isinstance(keymap, dict):
        prefs.problems.append(f"[keymap] in {path} is not a table; using the default keys.")
        return
    for binding_id, keys in keymap.items():
        if isinstance(keys, str) and keys.strip():
            prefs.keymap[str(binding_id)] = keys.strip()
        else:
            prefs.problems.append(f"The key for '{binding_id}' in {path} is not a key name.")


def _load_state(path: Path, prefs: Preferences) -> None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if state.get("theme") in (DARK, LIGHT):
        prefs.theme = state["theme"]


def save_theme(theme: str) -> None:
    """Remember the theme; a folder Luna can't write to only means it is not remembered."""
    folder = config_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / "state.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps({"theme": theme}), encoding="utf-8")
        os.chmod(temp, 0o600)
        temp.replace(path)
    except OSError:
        pass
