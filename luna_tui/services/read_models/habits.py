"""The dashboard's habits, read after its first paint: the entries of this day in
earlier years and the streaks (days journaled, days every dose was taken)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.journal import Entry
from luna_tui.services.on_this_day import OnThisDay
from luna_tui.services.streaks import StreakCounter, Streaks

ON_THIS_DAY_SHOWN = 12  # the panel scrolls; a decade of one entry a year fits


@dataclass(frozen=True)
class HabitsView:
    on_this_day: list[Entry]  # newest year first
    streaks: Streaks


class Habits(DomainService):
    @on_db_thread
    def today(self, patient_id: str, today: dt.date) -> HabitsView:
        return HabitsView(
            on_this_day=OnThisDay(self.session).entries(patient_id, today,
                                                        limit=ON_THIS_DAY_SHOWN),
            streaks=StreakCounter(self.session).streaks(patient_id, today),
        )


def streak_line(streaks: Streaks) -> str:
    """"Streak: journal 4 days (best 9), doses 3 days": the dashboard's one line, short
    enough to sit beside the longest date at 80 columns; empty when there is nothing to
    count yet."""
    parts = []
    if streaks.journal_longest:
        parts.append(f"journal {_days(streaks.journal_current)} "
                     f"(best {streaks.journal_longest})")
    if streaks.has_schedule:
        parts.append(f"doses {_days(streaks.doses_current)}")
    return "Streak: " + ", ".join(parts) if parts else ""


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"
