"""Full-text search shared by the journal and the records: turning what a person typed
into a safe FTS5 query, and the markers FTS5's snippet() puts around what matched."""

from __future__ import annotations

import re

# Snippet highlight markers: control characters no one types, turned into styling by
# whoever shows the snippet (snippet_parts).
MARK_START, MARK_END = "\x02", "\x03"


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """A search snippet as (text, is_match) pieces, for any kind of highlighting."""
    parts = []
    for piece in re.split(f"({MARK_START}[^{MARK_END}]*{MARK_END})", snippet):
        if piece.startswith(MARK_START):
            parts.append((piece.strip(MARK_START + MARK_END), True))
        elif piece:
            parts.append((piece, False))
    return parts


def fts_query(text: str, *, prefix_last: bool = False) -> str | None:
    """A safe FTS5 query from what a person typed: every word must appear; "quoted
    words" must appear together. FTS5 operators and punctuation are taken literally,
    so no input can be a syntax error."""
    terms = []
    for phrase, word in re.findall(r'"([^"]*)"|([^\s"]+)', text):
        tokens = re.findall(r"\w+", phrase or word)
        if tokens:
            terms.append('"' + " ".join(tokens) + '"')
    if not terms:
        return None
    if prefix_last and not text.rstrip().endswith('"'):
        terms[-1] += "*"
    return " ".join(terms)
