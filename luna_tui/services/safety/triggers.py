"""What opens the safety plan, besides the place itself: the key (from anywhere in the
app), a saved journal entry holding one of the plan's phrases, or a drop in mood.

Each can be turned off (settings `safety.plan_key`, `safety.phrase_trigger`,
`safety.mood_drop_trigger`). A trigger only ever shows the plan: nothing here contacts
anyone or sends anything. The first time each fires, the app explains it once, kindly;
`safety_notices` remembers that it did (a read-only key can't write that down, so it is
explained again).

The drop in mood, precisely: when an entry with a mood (1–10) is saved, Luna takes each
of the `safety.mood_drop_days` days before the entry's date that has a mood, averages
each day's moods, and compares the best of those days with the mood just saved. When
the saved mood is at least `safety.mood_drop_points` below it, the plan opens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from luna_tui.errors import NotFound
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.safety.phrases import first_match
from luna_tui.services.safety.plan import SafetyPlans
from luna_tui.services.settings import Settings
from luna_tui.store.models.journal import JournalEntry
from luna_tui.store.models.safety_plan import SafetyNotice

KEY, PHRASE, MOOD_DROP = "key", "phrase", "mood_drop"

EXPLANATIONS = {
    KEY: "This is your safety plan: the steps you wrote down for a hard moment, to take "
    "one at a time. The same key opens it from anywhere in Luna, even while you type; "
    "escape brings you back to exactly where you were. Only you see it: Luna never "
    "contacts anyone.",
    PHRASE: "Your entry is saved. It holds words from the list in your plan, so Luna "
    "opened your safety plan, in case it helps right now. Nothing was sent and no one "
    "was told. The list is at the end of the plan, and Settings (safety.phrase_trigger) "
    "turns this off.",
    MOOD_DROP: "Your entry is saved. Your mood is {drop} points below your best day of the "
    "last {days} days, so Luna opened your safety plan, in case it helps right now. "
    "Nothing was sent and no one was told. Settings (safety.mood_drop_trigger, and the "
    "two after it) change or turn this off.",
}


@dataclass(frozen=True)
class Fired:
    """A trigger that fired: which, and for the mood, by how much over how many days."""

    trigger: str
    drop: float | None = None
    days: int | None = None


@dataclass(frozen=True)
class PlanOpening:
    """Show the plan; `explanation` only the first time this trigger fires."""

    trigger: str
    explanation: str | None


class SafetyTriggers(DomainService):
    @on_db_thread
    def asked(self) -> PlanOpening | None:
        """The plan key was pressed: None when `safety.plan_key` is off."""
        if not Settings(self.session).get("safety.plan_key"):
            return None
        return PlanOpening(KEY, self._explain_once(Fired(KEY)))

    @on_db_thread
    def after_entry(self, entry_id: str, *, words: bool = True, mood: bool = True
                    ) -> PlanOpening | None:
        """An entry was saved (in the app): whether the plan opens, explained once. An
        edit is weighed only on what it changed (`words`: its title or text; `mood`)."""
        fired = self.fired_by_entry(entry_id, words=words, mood=mood)
        if fired is None:
            return None
        return PlanOpening(fired.trigger, self._explain_once(fired))

    @on_db_thread
    def fired_by_entry(self, entry_id: str, *, words: bool = True, mood: bool = True
                       ) -> Fired | None:
        """The trigger an entry fires (a phrase first, then a drop in mood), if one is on;
        nothing is written (`luna add` asks this)."""
        row = JournalEntry.get_or_none(JournalEntry.id == entry_id)
        if row is None:
            raise NotFound("That entry no longer exists.")
        settings = Settings(self.session)
        if words and settings.get("safety.phrase_trigger"):
            phrases = SafetyPlans(self.session).phrases(row.patient_id)
            if first_match(f"{row.title or ''}\n{row.content}", phrases) is not None:
                return Fired(PHRASE)
        if mood and row.mood_scale is not None and settings.get("safety.mood_drop_trigger"):
            days = settings.get("safety.mood_drop_days")
            drop = _mood_drop(row, days)
            if drop is not None and drop >= settings.get("safety.mood_drop_points"):
                return Fired(MOOD_DROP, drop, days)
        return None

    def _explain_once(self, fired: Fired) -> str | None:
        if SafetyNotice.get_or_none(SafetyNotice.trigger == fired.trigger) is not None:
            return None
        if not self.session.read_only:
            with self.session.writing("remember an explanation") as tx:
                SafetyNotice.create(trigger=fired.trigger, shown_at=self.stamp())
                tx.record("safety_plan.explained", fired.trigger)
        return EXPLANATIONS[fired.trigger].format(drop=f"{fired.drop:g}" if fired.drop
                                                  else "", days=fired.days)


def _mood_drop(row: JournalEntry, days: int) -> float | None:
    """How far `row`'s mood is below the best daily average of the `days` days before
    its date; None when none of those days has a mood."""
    day = dt.date.fromisoformat(row.entry_date)
    start = (day - dt.timedelta(days=days)).isoformat()
    daily = fn.AVG(JournalEntry.mood_scale)
    best = (JournalEntry.select(daily.alias("mood"))
            .where(JournalEntry.patient == row.patient_id,
                   JournalEntry.mood_scale.is_null(False),
                   JournalEntry.entry_date >= start,
                   JournalEntry.entry_date < row.entry_date)
            .group_by(JournalEntry.entry_date)
            .order_by(daily.desc()).limit(1).scalar())
    if best is None:
        return None
    return round(best - row.mood_scale, 2)
