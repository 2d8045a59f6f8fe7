"""The crisis card: the few crisis contacts and people a person chose from their safety
plan, kept OUTSIDE the encryption so the unlock screen (and `luna plan --card`) can
show them without the passphrase. Where it lives is the vault layout's to say
(home.py): the unlock screen looks for it without importing this module.

It is the one file Luna writes unencrypted into LUNA_HOME on purpose, only after the
person opts in on a form that says so: `crisis-card.json`, 0600, plain JSON holding the
chosen lines (their section's heading and the text) and nothing else — no name, no
other item, no date. Turning the card off deletes it. Written to a temporary name,
flushed and renamed, so a crash leaves the old card or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from luna_tui.errors import LunaError
from luna_tui.home import PRIVATE_FILE_MODE, VaultLayout, os_error_to_luna

FORMAT = "luna-crisis-card"
VERSION = 1
MAX_BYTES = 64 * 1024  # a card is a few lines: anything bigger is not Luna's


@dataclass(frozen=True)
class CardLine:
    section: str  # the heading of the plan's section it came from
    text: str


def card_path(home: Path) -> Path:
    return VaultLayout(home).crisis_card


def write(home: Path, lines: list[CardLine]) -> Path:
    path = card_path(home)
    temporary = path.with_name(f".{path.name}.tmp")
    document = {"format": FORMAT, "version": VERSION,
                "lines": [{"section": line.section, "text": line.text} for line in lines]}
    data = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
    try:
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temporary, PRIVATE_FILE_MODE)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise os_error_to_luna(exc, path) from exc
    return path


def delete(home: Path) -> bool:
    """Remove the card; whether there was one."""
    path = card_path(home)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise os_error_to_luna(exc, path) from exc
    return True


def read(home: Path) -> list[CardLine] | None:
    """The card's lines; None when there is no card."""
    path = card_path(home)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise LunaError(f"{path} is too big to be Luna's crisis card.")
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise LunaError(f"The crisis card {path} could not be read; turn it off and on "
                        "again in the safety plan (f1, then c) to write it anew.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LunaError(f"{path} is not a Luna crisis card.")
    lines = document.get("lines")
    if not isinstance(lines, list):
        raise LunaError(f"{path} is not a Luna crisis card.")
    return [CardLine(str(line.get("section", "")), str(line.get("text", "")))
            for line in lines if isinstance(line, dict)]
