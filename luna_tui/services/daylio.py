"""A Daylio backup as journal entries.

A `.daylio` file is a zip archive holding `backup.daylio`: base64 of one JSON document
whose `dayEntries` are the entries (date and time as `year`, `month` counted from 0,
`day`, `hour`, `minute`; `mood`, the id of one of `customMoods`; `tags`, ids of `tags`,
the activities; `note` and `note_title`; `isFavorite`), next to goals, reminders and
photo references Luna leaves out.

Daylio's five mood levels (each mood's `mood_group_id`, 1 best to 5 worst) become Luna's
1–10 mood scale as rad 10, good 8, meh 5, bad 3, awful 1, and the mood word is the
mood's own name in Daylio, or the level's English name when it has none. Activities
become tags. A note written with formatting (newer Daylio writes HTML) is kept as its
text. An entry without a note gets one line naming its mood and activities, because a
Luna entry holds text.

Ids are derived from the patient and the Daylio entry's creation time and date, so a
second import of the same backup (or of a later one) adds only the entries new since.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from typing import Any

from luna_tui.errors import ImportRejected
from luna_tui.services.import_file import parse_json_bytes
from luna_tui.services.journal import EntryDraft
from luna_tui.terminal_text import CONTROL

BACKUP_MEMBER = "backup.daylio"
# Daylio's level → (Luna's mood scale, the level's name when the mood has none).
MOOD_LEVELS = {1: (10, "rad"), 2: (8, "good"), 3: (5, "meh"), 4: (3, "bad"), 5: (1, "awful")}
# Ten years of a daily entry with a 500-character note make about 2 MB of JSON, base64
# 4/3 of that. It is decoded and parsed whole (about ten times its size in memory), so
# the bound is a generous one for people who write a lot, not room for any file; and at
# most as many entries as Luna's journal is measured at (bench: 100,000).
MAX_BACKUP_BYTES = 32 * 2**20
MAX_ENTRIES = 100_000
ENTRY_NAMESPACE = uuid.UUID("3d8c4a52-1b6e-5f07-a2c9-6461796c696f")
_HTML = re.compile(r"<[a-zA-Z/][^>]*>")


@dataclass(frozen=True)
class DaylioEntry:
    draft: EntryDraft
    created: str  # Daylio's createdAt (milliseconds), or "" when it has none

    def stable_id(self, patient_id: str) -> str:
        draft = self.draft
        return str(uuid.uuid5(ENTRY_NAMESPACE, "\x1f".join(
            (patient_id, self.created, str(draft.entry_date), str(draft.entry_time),
             "" if self.created else draft.content))))


def decode_backup(data: bytes, label: str) -> Any:
    """The JSON document inside `backup.daylio` (base64, lines wrapped or not)."""
    try:
        raw = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ImportRejected(f"{label} is not base64 text, so this is not a Daylio "
                             "backup Luna can read.") from None
    return parse_json_bytes(raw, label)


def daylio_entries(document: Any, privacy: str | None) -> list[DaylioEntry]:
    """Every entry of the backup, checked; `privacy` for all of them (None: the
    journal's default)."""
    if not isinstance(document, dict) or not isinstance(document.get("dayEntries"), list):
        raise ImportRejected("This is not a Daylio backup: it has no list of dayEntries.")
    if len(document["dayEntries"]) > MAX_ENTRIES:
        raise ImportRejected(f"The Daylio backup holds {len(document['dayEntries']):,} "
                             f"entries; Luna imports at most {MAX_ENTRIES:,} at once.")
    moods = _by_id(document.get("customMoods", []), "customMoods")
    tags = _by_id(document.get("tags", []), "tags")
    return [_entry(number, entry, moods, tags, privacy)
            for number, entry in enumerate(document["dayEntries"], 1)]


def _by_id(rows: Any, name: str) -> dict[int, dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) and _is_int(r.get("id"))
                                             for r in rows):
        raise ImportRejected(f"The Daylio backup's {name} is not a list of objects with "
                             "ids.")
    return {row["id"]: row for row in rows}


def _entry(number: int, entry: Any, moods: dict[int, dict[str, Any]],
           tags: dict[int, dict[str, Any]], privacy: str | None) -> DaylioEntry:
    def refuse(field: str, why: str) -> ImportRejected:
        return ImportRejected(f"Daylio entry {number}: {field} {why}.")

    if not isinstance(entry, dict):
        raise ImportRejected(f"Daylio entry {number} is not an object.")
    parts = {}
    for field, low, high in (("year", 1900, 9999), ("month", 0, 11), ("day", 1, 31),
                             ("hour", 0, 23), ("minute", 0, 59)):
        value = entry.get(field)
        if not _is_int(value) or not low <= value <= high:
            raise refuse(field, f"is {_shown(value)}, not a whole number from {low} to {high}")
        parts[field] = value
    date = f"{parts['year']:04d}-{parts['month'] + 1:02d}-{parts['day']:02d}"
    mood_id = entry.get("mood")
    mood = moods.get(mood_id) if _is_int(mood_id) else None
    if mood is None or mood.get("mood_group_id") not in MOOD_LEVELS:
        raise refuse("mood", f"{_shown(entry.get('mood'))} names no mood of the backup")
    scale, level_name = MOOD_LEVELS[mood["mood_group_id"]]
    name = _clean(mood.get("custom_name"))
    mood_word = name if name and len(name) <= 40 else level_name
    activities = []
    tag_ids = entry.get("tags") or []
    if not isinstance(tag_ids, list):
        raise refuse("tags", "is not a list of activities")
    for tag_id in tag_ids:
        tag = tags.get(tag_id) if _is_int(tag_id) else None
        if tag is None:
            raise refuse("tags", f"name an activity ({_shown(tag_id)}) the backup lacks")
        if label := _clean(tag.get("name")):
            activities.append(label[:40])
    note, title = _text(entry.get("note")), _clean(entry.get("note_title"))
    content = note or (f"Daylio: {mood_word}" + (f" · {', '.join(activities)}"
                                                 if activities else ""))
    created = entry.get("createdAt")
    return DaylioEntry(
        EntryDraft(content=content, title=title or None, entry_date=date,
                   entry_time=f"{parts['hour']:02d}:{parts['minute']:02d}",
                   mood=mood_word, mood_scale=scale, tags=activities,
                   journal_type="free" if note else "mood_check", privacy_level=privacy,
                   favorite=entry.get("isFavorite") is True),
        str(created) if _is_int(created) else "")


class _HtmlText(HTMLParser):
    """A note's text without its formatting: lines where the HTML breaks them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("div", "p", "ul", "ol", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(note: Any) -> str:
    if not isinstance(note, str):
        return ""
    if _HTML.search(note):
        parser = _HtmlText()
        parser.feed(note)
        parser.close()
        note = "".join(parser.parts)
    else:
        note = unescape(note)
    lines = [CONTROL.sub("", line).rstrip() for line in note.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean(text: Any) -> str:
    return " ".join(CONTROL.sub("", text).split()) if isinstance(text, str) else ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    return repr(value)[:40]
