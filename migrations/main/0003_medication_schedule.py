"""Dose slots per medication: `schedule`, a JSON list of "HH:MM" times.

The medications screen logs today's doses slot by slot, so each medication needs its
day's slots. Existing medications get slots derived from their frequency text ("twice
daily" → 08:00 and 20:00); the person can edit them afterwards. Frozen here on
purpose: this copy of the rules must not change when the app's do.
"""

import json
import re

_SLOTS = {
    1: ["08:00"],
    2: ["08:00", "20:00"],
    3: ["08:00", "14:00", "20:00"],
    4: ["08:00", "12:00", "16:00", "20:00"],
}
_TIMES = {"once": 1, "twice": 2, "thrice": 3}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4}


def slots_for(frequency):
    text = (frequency or "").lower()
    if "as needed" in text or "prn" in text or "weekly" in text or "week" in text:
        return []
    if "bedtime" in text or "night" in text:
        return ["22:00"]
    match = re.search(r"every\s+(\d+)\s*h", text)
    if match and int(match.group(1)) in (4, 6, 8, 12, 24):
        every = int(match.group(1))
        return sorted(f"{(8 + i * every) % 24:02d}:00" for i in range(24 // every))
    for abbreviation, count in (("qid", 4), ("tid", 3), ("bid", 2), ("qd", 1)):
        if re.search(rf"\b{abbreviation}\b", text):
            return _SLOTS[count]
    match = re.search(r"\b(\d|one|two|three|four)\s*(?:x|times)\b", text)
    if match:
        count = _NUMBERS.get(match.group(1)) or int(match.group(1))
        if count in _SLOTS:
            return _SLOTS[count]
    for word, count in _TIMES.items():
        if re.search(rf"\b{word}\b", text):
            return _SLOTS[count]
    if "daily" in text or "day" in text or "morning" in text:
        return ["08:00"]
    return []


def up(migrator, db):
    db.execute_sql(
        "ALTER TABLE medications ADD COLUMN schedule TEXT NOT NULL DEFAULT '[]'"
        " CHECK (json_type(schedule) = 'array')"
    )
    rows = db.execute_sql("SELECT id, frequency FROM medications").fetchall()
    for medication_id, frequency in rows:
        db.execute_sql(
            "UPDATE medications SET schedule = ? WHERE id = ?",
            (json.dumps(slots_for(frequency)), medication_id),
        )
