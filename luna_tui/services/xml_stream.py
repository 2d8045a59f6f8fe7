"""Streaming an untrusted XML file, one child of its root element at a time.

The parser is defusedxml's iterparse: a DOCTYPE with an internal subset is accepted
(Apple Health's export.xml declares its elements and attributes in one), but any entity
declaration (a billion-laughs file), external entity or external DTD is refused before
it can expand or fetch anything. Memory stays flat at any file size: each child of the
root is handed over whole and then dropped from the tree, and two bounds stop what
would grow without end inside one element — `MAX_TAG_BYTES` between two `>` (one
attribute or text of a gigabyte), and `MAX_DESCENDANTS` below one child of the root
(a million nested or sibling elements that never close).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_tree
from defusedxml import DefusedXmlException, EntitiesForbidden

from luna_tui.errors import ImportRejected

# An Apple Health record is under 1 KB; its longest element, a workout with its route
# and statistics, holds a few hundred others.
MAX_TAG_BYTES = 1 << 20
MAX_DESCENDANTS = 10_000
CHUNK = 1 << 16


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Guarded:
    """The file as the parser reads it: counted for the progress bar, and refused when
    more than MAX_TAG_BYTES pass without a `>`."""

    def __init__(self, source: Readable, label: str,
                 progress: Callable[[int], None] | None) -> None:
        self.source, self.label, self.progress = source, label, progress
        self.done = 0
        self.since_close = 0  # bytes since the last '>'

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(CHUNK if size is None or size < 0 else min(size, CHUNK))
        self.done += len(data)
        first = data.find(b">")
        if first < 0:
            self.since_close += len(data)
        elif self.since_close + first > MAX_TAG_BYTES:
            self.since_close = MAX_TAG_BYTES + 1
        else:
            self.since_close = len(data) - data.rfind(b">") - 1
        if self.since_close > MAX_TAG_BYTES:
            raise ImportRejected(
                f"{self.label} holds a tag or text of more than {MAX_TAG_BYTES // 2**20} "
                f"MiB (near byte {self.done:,}); export files hold short records, so Luna "
                "refuses it.")
        if self.progress is not None:
            self.progress(self.done)
        return data


def root_children(source: Readable, label: str, root: str, what: str,
                  progress: Callable[[int], None] | None = None) -> Iterator[Element]:
    """Each child of the root element `root`, whole (with its own children); the tree
    forgets it once the caller moves on. `what` names the file in sentences ("an Apple
    Health export")."""
    guarded = _Guarded(source, label, progress)
    depth, below = 0, 0
    top: Element | None = None
    child = ""  # the tag of the root's child being read
    try:
        for event, element in safe_tree.iterparse(guarded, events=("start", "end"),
                                                  forbid_dtd=False, forbid_entities=True,
                                                  forbid_external=True):
            if event == "start":
                depth += 1
                if depth == 1:
                    _check_root(element, root, label, what)
                    top = element
                elif depth == 2:
                    child = _tag(element)
                else:
                    below += 1
                    if below > MAX_DESCENDANTS:
                        raise ImportRejected(
                            f"{label}: one <{child[:40]}> element holds more than "
                            f"{MAX_DESCENDANTS:,} others; {what} has short records, so "
                            "Luna refuses it.")
                continue
            depth -= 1
            if depth == 1:
                yield element
                below = 0
                if top is not None:
                    top.clear()  # drops this child: memory stays flat
    except EntitiesForbidden:
        raise ImportRejected(f"{label} declares XML entities (a file of this kind never "
                             "does; it is how a billion-laughs file expands to fill "
                             "memory), so Luna refuses it.") from None
    except DefusedXmlException as exc:
        raise ImportRejected(f"{label} refers to something outside itself ({exc}), "
                             "which Luna never fetches; it refuses the file.") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ImportRejected(f"{label} is not well-formed XML (line {line:,}, column "
                             f"{column:,}): is it cut short or damaged?") from None


def _check_root(element: Element, root: str, label: str, what: str) -> None:
    if _tag(element) != root:
        raise ImportRejected(f"{label} is XML, but not {what} (its root element is "
                             f"<{_tag(element)[:40]}>, not <{root}>).")


def _tag(element: Element) -> str:
    return str(element.tag)
