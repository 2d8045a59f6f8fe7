"""The insights page's rows: each medication change of the hand-off's period against
each measure it includes, computed as the Insights place and `luna insights` compute
them (services/insights), so the page says what they say, in their words.

Two differences, both the packet's privacy rule: private journal entries never count
(their mood and sleep stay out of the daily series), and only the measures whose kind
the hand-off includes are weighed (no vitals' insights without the vitals). The
windows around a change reach outside the period when the change is near its edges:
the page says so. The permutation tests take seconds on a long record, so this runs
where the packet is made, never on the DB thread nor in the preview.
"""

from __future__ import annotations

from collections.abc import Callable

from luna_tui.services.handoff.choices import INSIGHTS, HandoffChoice
from luna_tui.services.insights.before_after import AnalysisSettings
from luna_tui.services.insights.rows import InsightRow
from luna_tui.services.insights.summary import insights_summary
from luna_tui.services.vault_session import VaultSession

WEIGHING = "Weighing the medication changes for the insights page"
Progress = Callable[[str, float], None]  # (what is under way, fraction done)


def insight_rows(session: VaultSession, choice: HandoffChoice, *,
                 settings: AnalysisSettings | None = None,
                 progress: Progress | None = None) -> tuple[InsightRow, ...]:
    """The page's rows, newest change first; none when the page is not asked for."""
    if INSIGHTS not in choice.include:
        return ()

    def told(done: int, total: int) -> None:
        if progress is not None:
            progress(WEIGHING, done / total)

    return tuple(insights_summary(session, choice.patient_id, choice.start, choice.end,
                                  include_private=False, settings=settings,
                                  sources=choice.insight_sources, progress=told))
