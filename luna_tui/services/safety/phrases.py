"""The phrases that open the safety plan when a saved journal entry contains one.

Matching is forgiving in the ways people type and strict about words: case-insensitive,
accents folded (é → e), apostrophes dropped (can't = cant), hyphens and runs of spaces
read as one space (self-harm = self harm), and only whole words (a phrase "suicide"
does not match inside another word). The default list is the one in the README's
"Safety plan" section; a person sees and edits their own in the plan place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Words people use when they think of ending their life or harming themselves (the
# warning signs that suicide-prevention services list: talking about wanting to die,
# about having no reason to live, about being a burden, about self-harm). Kept
# specific, so an ordinary bad day does not open the plan; a person adds their own.
DEFAULT_PHRASES = (
    "want to die",
    "wish I was dead",
    "wish I were dead",
    "kill myself",
    "end my life",
    "end it all",
    "suicide",
    "suicidal",
    "no reason to live",
    "better off without me",
    "burden to everyone",
    "can't go on",
    "cannot go on",
    "no way out",
    "hurt myself",
    "self-harm",
    "cut myself",
    "take all my pills",
)
MAX_PHRASE = 100
MAX_PHRASES = 200

_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`\u00b4]")
_SPACES = re.compile(r"[\s\-\u2010-\u2015_]+")


def folded(text: str) -> str:
    """Text as phrases are compared: lower case, accents off, apostrophes dropped,
    hyphens and spaces as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = _APOSTROPHES.sub("", bare.casefold())
    return _SPACES.sub(" ", bare).strip()


def first_match(text: str, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` (as the person wrote it) that `text` contains as whole
    words; None if none does."""
    haystack = folded(text)
    if not haystack:
        return None
    for phrase in phrases:
        needle = folded(phrase)
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack):
            return phrase
    return None
