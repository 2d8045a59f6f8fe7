"""Paths as people type or drop them: completing a half-typed path from the folder it
points into, and reading the text a terminal delivers when files are dragged onto it
(quoted, backslash-escaped or `file://` URIs, one or several).

No Textual here: the app wraps `complete` in a Suggester (ui/widgets/path_input.py).
"""

from __future__ import annotations

import os
import re
import shlex
from urllib.parse import unquote, urlsplit

MAX_MATCHES = 200
QUOTING = ("'", '"', "\\")


def complete(typed: str) -> list[str]:
    """The entries of the folder `typed` points into whose names start with its last part,
    each as `typed` would continue into it: `~` stays as typed, folders end with `/`,
    folders first then by name. Hidden entries only when the last part starts with `.`."""
    if typed.startswith("~") and "/" not in typed:
        # "~" or "~user": the shell's own next step is the home folder itself.
        return [typed + "/"] if os.path.isdir(os.path.expanduser(typed)) else []
    folder_typed, _, part = typed.rpartition("/")
    if typed.startswith("/") and not folder_typed:
        folder_typed = "/"
    elif folder_typed:
        folder_typed += "/"
    folder = os.path.expanduser(folder_typed) if folder_typed else "."
    try:
        with os.scandir(folder) as entries:
            found = []
            for entry in entries:
                name = entry.name
                if not name.startswith(part) or (name.startswith(".") and
                                                 not part.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()  # follows links: a link to a folder is one
                except OSError:
                    is_dir = False
                found.append((not is_dir, name.casefold(), name + ("/" if is_dir else "")))
    except OSError:
        return []  # missing, unreadable or not a folder: nothing to offer
    found.sort()
    return [folder_typed + shown for _, _, shown in found[:MAX_MATCHES]]


def complete_field(value: str) -> str | None:
    """What a field holding several paths becomes when its last, half-typed one is
    completed: earlier paths stay as typed; the completion keeps the typed text as its
    beginning (so it can be offered as a suggestion) and escapes spaces and quotes with
    a backslash, so `blood results.pdf phy…` stays two paths. None: nothing to offer."""
    start = _last_token_start(value)
    raw = value[start:]
    quote = raw[0] if raw[:1] in ("'", '"') else ""
    typed = _unquoted(raw)
    matches = complete(typed) if typed else []
    if not matches or matches[0] == typed:
        return None
    match = matches[0]
    if quote:
        if quote in match:
            return None  # a quote inside the same quotes can't be written
        ending = "" if match.endswith("/") else quote  # a folder goes on; a file is whole
        completed = quote + match + ending
    else:
        completed = re.sub(r"""([\s'"\\])""", r"\\\1", match)
    if not completed.startswith(raw):
        return None  # typed in a way the completion can't continue (mixed escapes)
    return value[:start] + completed


def _last_token_start(value: str) -> int:
    """Where the last path begins: after the last space outside quotes and escapes."""
    start, quote, escaped = 0, "", False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in ("'", '"'):
            quote = char
        elif char.isspace():
            start = index + 1
    return start


def _unquoted(raw: str) -> str:
    try:
        pieces = shlex.split(raw)
    except ValueError:  # an open quote: the person is still typing inside it
        try:
            pieces = shlex.split(raw + raw[0])
        except ValueError:
            return raw
    return pieces[0] if pieces else ""


def paths_from_paste(text: str) -> list[str]:
    """The paths in what a terminal pastes when files are dropped on it, or a person
    types: several separated by spaces or lines, each maybe 'quoted', "quoted",
    back\\ slashed or a file:// URI. A plain line that names an existing file as it
    stands (spaces and all) is one path; so is one where no piece names anything, so
    that what the person meant is what an error message repeats."""
    paths: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip()
        if line:
            paths.extend(_paths_in_line(line))
    return paths


def _paths_in_line(line: str) -> list[str]:
    if _exists(_from_uri(line)):
        return [_from_uri(line)]
    try:
        pieces = shlex.split(line)
    except ValueError:  # an unbalanced quote: an apostrophe in a name, most likely
        pieces = line.split()
    pieces = [_from_uri(piece) for piece in pieces if piece]
    plain = not any(mark in line for mark in QUOTING) and "file://" not in line
    if plain and len(pieces) > 1 and not any(_exists(piece) for piece in pieces):
        return [line]
    return pieces


def _from_uri(text: str) -> str:
    """A file:// URI as a path (percent-decoded); anything else unchanged."""
    if not text.startswith("file://"):
        return text
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        return unquote(f"//{parts.netloc}{parts.path}")  # another host's: say it as it is
    return unquote(parts.path)


def _exists(path: str) -> bool:
    try:
        return os.path.lexists(os.path.expanduser(path))
    except (OSError, ValueError):
        return False


def quote_paths(paths: list[str]) -> str:
    """Paths on one line that `paths_from_paste` reads back the same."""
    return " ".join(shlex.quote(path) if _needs_quoting(path) else path for path in paths)


def _needs_quoting(path: str) -> bool:
    if path.startswith("~") and shlex.quote(path[1:]) == path[1:]:
        return False  # "~/Downloads/a.pdf": quoting would hide the ~ from a reader
    return shlex.quote(path) != path
