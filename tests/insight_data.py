"""A synthetic record for the insights tests, written through the services: mood every
day for 28 days before and after a medication change, with or without a planted effect."""

from __future__ import annotations

import datetime as dt

import numpy as np

from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings

DAYS_EACH_SIDE = 28
PLANTED_RISE = 2.0
PLANTED_LAG = 3


def plant_mood(session, clock, *, rise: float = PLANTED_RISE, lag: int = PLANTED_LAG,
               seed: int = 7, days: int = DAYS_EACH_SIDE, privacy: str = "private",
               schedule: str = "") -> tuple[str, dt.date]:
    """Metformin started `days` days ago; mood (1–10, noise sd 1 around 5) each day from
    `days` days before the start to yesterday, up by `rise` from `lag` days after the
    start. Returns the patient's id and the day of the start."""
    me = Settings(session).current_patient_id()
    start = clock.today() - dt.timedelta(days=days)
    Medications(session).create(me, "Metformin", "500 mg", "once daily",
                                start_date=start.isoformat(), schedule=schedule)
    noise = np.random.default_rng(seed).normal(0, 1, 2 * days)
    journal = Journal(session)
    for i in range(-days, days):
        day = start + dt.timedelta(days=i)
        mood = 5 + noise[i + days] + (rise if i >= lag else 0)
        journal.create(me, EntryDraft(content="A day", entry_date=day.isoformat(),
                                      mood_scale=int(np.clip(round(mood), 1, 10)),
                                      privacy_level=privacy))
    return me, start
