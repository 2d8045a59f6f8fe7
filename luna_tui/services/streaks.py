"""Streaks: days journaled in a row, and days every dose was taken in a row.

Journal: a day counts when it has at least one entry (of any kind, private ones too).
The current streak ends today, or yesterday while today has no entry yet (the day is
not over); the longest is the longest run ever.

Doses: a day counts when every scheduled dose of the medications taken that day was
logged taken or late. A dose logged skipped (on purpose, e.g. on a doctor's advice)
does not break the streak, nor does a day without a scheduled dose or with every one
skipped: such days are passed over, neither counted nor breaking. A missed dose, or a
past day with a dose not logged, ends it. Today counts once all its doses are logged;
until then it is passed over, unless one was logged missed. The walk back stops at the
first break, and at the first medication's start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.medications import Medications
from luna_tui.store.journal_days import days_written

TAKEN = ("taken", "late")
# Doses are read a window at a time, walking back: a month first (most streaks end in
# it), then twice the days of the window before, so years of perfect adherence cost a
# handful of reads, not one a month.
FIRST_WINDOW_DAYS = 31


@dataclass(frozen=True)
class Streaks:
    journal_current: int  # days, ending today or yesterday
    journal_longest: int
    journaled_today: bool
    doses_current: int  # days; 0 also when no medication has a schedule
    has_schedule: bool  # some medication has scheduled doses

    def as_json(self) -> dict[str, object]:
        return {"journal": {"current_days": self.journal_current,
                            "longest_days": self.journal_longest,
                            "written_today": self.journaled_today},
                "doses": {"current_days": self.doses_current,
                          "scheduled": self.has_schedule}}


def journal_runs(days: list[dt.date], today: dt.date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days in `days` (newest first, none after
    `today`); the current run ends today or yesterday."""
    current = longest = run = 0
    previous: dt.date | None = None
    for position, day in enumerate(days):
        run = run + 1 if previous is not None and previous - day == dt.timedelta(1) else 1
        if position == run - 1 and (today - days[0]).days <= 1:
            current = run  # still within the run that starts at the newest day
        longest = max(longest, run)
        previous = day
    return current, longest


class StreakCounter(DomainService):
    @on_db_thread
    def streaks(self, patient_id: str, today: dt.date) -> Streaks:
        days = [dt.date.fromisoformat(d) for d in days_written(patient_id, today.isoformat())]
        current, longest = journal_runs(days, today)
        doses, scheduled = self._dose_streak(patient_id, today)
        return Streaks(current, longest, bool(days) and days[0] == today, doses, scheduled)

    def _dose_streak(self, patient_id: str, today: dt.date) -> tuple[int, bool]:
        medications = Medications(self.session)
        taken = [m for m in medications.list(patient_id, include_stopped=True) if m.schedule]
        if not taken:
            return 0, False
        first = min(dt.date.fromisoformat(m.start_date or m.created_at[:10]) for m in taken)
        streak, end, window = 0, today, FIRST_WINDOW_DAYS
        while end >= first:
            start = max(first, end - dt.timedelta(days=window - 1))
            window *= 2
            scheduled = medications.scheduled_slots(patient_id, start, end)
            logged = {(d.medication_id, d.scheduled_at): d.status
                      for d in medications.dose_history(patient_id, start, end)}
            day = end
            while day >= start:
                verdict = _dose_day(scheduled.get(day, set()), logged, is_today=day == today)
                if verdict == "broken":
                    return streak, True
                streak += verdict == "kept"
                day -= dt.timedelta(days=1)
            end = start - dt.timedelta(days=1)
        return streak, True


def _dose_day(slots: set[tuple[str, str]], logged: dict[tuple[str, str], str], *,
              is_today: bool) -> str:
    """"kept", "broken" or "passed" (neither: nothing scheduled, all skipped, or today
    still under way)."""
    statuses = [logged.get(slot) for slot in slots]
    if "missed" in statuses:
        return "broken"
    if None in statuses:
        return "passed" if is_today else "broken"
    return "kept" if any(s in TAKEN for s in statuses) else "passed"
