"""Text from the vault, made safe to print on a terminal.

A title, a file name, an imported entry or a field of the plain keys.db can hold
control characters, and a terminal obeys them: ESC starts its commands (`\\x1b[2J`
clears the screen, others retitle the window or redefine keys), BEL rings, CR and
backspace overwrite what was printed, C1 controls act like ESC on many terminals, and
Unicode's direction overrides (U+202E) make a line read differently from what it holds.
Whatever Luna shows from the vault goes through `terminal_text`, which shows each such
character escaped (`\\x1b`, `\\u202e`) instead of sending it: on the command line, and
in the app too (Textual passes ESC in a widget's text straight to the terminal), so it
sits below both. A backslash typed by the person stays as it is: this is for reading,
not for parsing.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the invisible marks that reorder or break a line.
_INVISIBLE = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
_MANY_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")  # keeps \t and \n
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# What free text may not hold (services/validation.py refuses it when typed or imported):
# C0 controls but tab and line feed (CR only just before a line feed, as Windows ends a
# line), DEL and C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def terminal_text(value: object, *, multiline: bool = False) -> str:
    """`value` as text that is only text: every control character shown escaped.
    `multiline` keeps line breaks and tabs (an entry's body, a record's notes)."""
    pattern = _MANY_LINES if multiline else _ONE_LINE
    return pattern.sub(_escaped, str(value))


def controls_escaped(text: str) -> str:
    """`text` with every CONTROL character shown escaped and the rest as it is: text
    stored before that rule, put in a form field (which shows its text raw), and the
    companion's replies, which no person typed."""
    return CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_text(text: str) -> str:
    """JSON (already escaping C0 controls, as the format requires) with DEL, C1 controls
    and direction marks escaped too: `\\u009b` is still valid JSON, and those characters
    only ever occur inside its strings."""
    return re.sub(f"[\x7f-\x9f{_INVISIBLE}]", lambda m: f"\\u{ord(m.group()):04x}", text)
