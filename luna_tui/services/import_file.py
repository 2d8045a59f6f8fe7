"""Reading a file to import as if it were hostile: a regular file, of bounded size and
nesting, strict UTF-8 JSON.

Each bound is checked before the step it protects: the file's type and size before a
byte is read (so a device such as /dev/zero, a FIFO or a 10 GB file is refused, not
read until memory runs out), the nesting depth before the JSON parser runs (Python's
parser recurses once per level, so 100,000 levels would end in a RecursionError), and
the numbers inside as they are parsed (`NaN` and `Infinity` are not JSON), and each
object's keys (one named twice is refused: JSON leaves open which value counts, so two
programs may read two different files from it). Everything refused is an
`ImportRejected` with one sentence; the vault is never touched here.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from luna_tui.errors import ImportRejected, LunaError

# 100,000 journal entries of about 1 KB make a 130 MB Luna export (measured); parsing
# takes a few times a file's size in memory, so this bounds that too. Moving a bigger
# vault whole is what backups are for.
MAX_IMPORT_BYTES = 512 * 1024 * 1024
# A Luna export nests 5 deep (document, tables, table, row, a list of tags), jrnl's 4.
MAX_NESTING = 32

# A JSON string, escapes included; then a run of anything but a bracket or a quote.
# Removing the first, then the second (two passes are twice as fast as one alternation)
# leaves the document's own brackets, in order.
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r'[^\[\]{}"]+')
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1, '"': 0}


def read_import_file(path: Path) -> Any:
    """The JSON document in `path`, or an `ImportRejected` saying why not."""
    return parse_json_bytes(_read_bounded(path), path.name)


def nesting_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest, counted without recursion (strings
    are skipped, so brackets inside them don't count)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(0, max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0))


class _KeyTwice(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key[:40].encode("unicode_escape").decode("ascii")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, refused when a key appears in it twice (it costs 0.02-0.08 s on top of
    0.45 s to parse a 106 MB export, measured)."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _KeyTwice(key)
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise ImportRejected(f"The file holds {name}, which is not a JSON number; Luna refuses "
                         "it.")


def _read_bounded(path: Path) -> bytes:
    """At most MAX_IMPORT_BYTES of a regular file; what is read is what was checked."""
    with open_import_file(path, MAX_IMPORT_BYTES, _too_big) as handle:
        try:
            data = handle.read(MAX_IMPORT_BYTES + 1)
        except OSError as exc:
            raise _unreadable(path, exc) from None
    if len(data) > MAX_IMPORT_BYTES:  # it grew while being read
        raise _too_big(path)
    return data


def open_import_file(path: Path, max_bytes: int,
                     too_big: Callable[[Path], LunaError]) -> BinaryIO:
    """A regular file of at most `max_bytes`, open for reading (every importer starts
    here). Opened without blocking (a FIFO with no writer would wait forever) and
    checked by its descriptor, so what is read is the file that was checked."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise LunaError(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise LunaError(f"{path} is a folder; give the export file itself.") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    handle = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise LunaError(f"{path} is a folder; give the export file itself.")
        if not stat.S_ISREG(info.st_mode):
            raise ImportRejected(f"{path} is not a regular file (a device, a pipe or a "
                                 "socket); Luna imports export files only.")
        if info.st_size > max_bytes:
            raise too_big(path)
    except BaseException:
        handle.close()
        raise
    return handle


def parse_json_bytes(data: bytes, name: str) -> Any:
    """The JSON document in `data` (read from a file called `name`), under the same
    rules as an export file: UTF-8, bounded nesting, no key twice, no NaN."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"{name} is not UTF-8 text (a byte at position "
                             f"{exc.start:,} is not); Luna imports JSON exports.") from None
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise ImportRejected(f"{name} nests {depth:,} levels deep; an export nests at "
                             f"most a few, so Luna refuses more than {MAX_NESTING}.")
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except _KeyTwice as twice:
        raise ImportRejected(
            f"{name} names {twice.key!r} twice in one object; JSON leaves open which "
            "value counts, so Luna refuses the file rather than guess.") from None
    except json.JSONDecodeError as exc:
        raise ImportRejected(f"{name} is not a JSON file Luna can read ({exc}); is it "
                             "cut short?") from None
    except ValueError as exc:  # a number of more than 4,300 digits
        raise ImportRejected(f"{name} holds a value Luna can't read ({exc}).") from None


def _unreadable(path: Path, exc: OSError) -> LunaError:
    return LunaError(f"Luna can't read {path} ({exc.strerror or exc}).")


def _too_big(path: Path) -> ImportRejected:
    cap = MAX_IMPORT_BYTES
    limit = f"{cap // 2**20:,} MiB" if cap >= 2**20 else f"{cap:,} bytes"
    return ImportRejected(
        f"{path.name} is larger than {limit}, the most "
        "Luna imports from one JSON file; to move a whole vault, use a backup "
        "(`luna backup create`, then `luna backup restore`).")
