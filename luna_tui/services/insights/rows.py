"""What an insight says: its numbers (InsightRow for a medication change, PairRow for
two series) and `describe`, the one sentence the Insights place, `luna insights` and
the hand-off packet all show, so they never word a result differently."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from luna_tui.services.insights.before_after import (
    ALPHA,
    CLEAR_CHANGE,
    CONFIDENCE,
    MIN_DAYS,
    NO_CLEAR_CHANGE,
    NOT_ENOUGH_DATA,
)
from luna_tui.services.insights.lagged_correlation import CLEAR_ASSOCIATION
from luna_tui.services.insights.medication_changes import LOW_ADHERENCE, day_words


@dataclass(frozen=True)
class InsightRow:
    """One measure before and after one medication change."""

    medication: str
    event: str  # started, stopped, dose changed, resumed
    date: str  # YYYY-MM-DD, the day of the change
    measure: str  # mood, sleep, or a vital kind (blood_pressure_systolic, …)
    measure_label: str  # "Mood", "Blood pressure (systolic)"
    unit: str
    before_mean: float | None
    after_mean: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    days_before: int
    days_after: int
    lag_days: int | None  # only for a clear change
    verdict: str  # clear change | no clear change | not enough data
    confounders: tuple[str, ...]
    window: int  # days on each side
    p_value: float | None  # corrected for choosing among the lags
    medication_id: str = ""

    def as_json(self) -> dict[str, Any]:
        """What `luna insights --json` prints for it."""
        fields = asdict(self)
        fields["confounders"] = list(self.confounders)
        return fields


@dataclass(frozen=True)
class PairRow:
    """How two daily series move together, the second `lag` days after the first."""

    first: str  # a measure's key, or "adherence:<medication>"
    second: str
    first_label: str
    second_label: str
    rho: float | None  # Spearman's rank correlation
    ci_low: float | None
    ci_high: float | None
    paired_days: int
    lag_days: int | None  # only for a clear association
    verdict: str  # clear association | no clear association | not enough data
    p_value: float | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def describe(row: InsightRow | PairRow) -> str:
    """The sentence for a row, as every place that shows it says it."""
    if isinstance(row, PairRow):
        return _describe_pair(row)
    subject = f"{row.medication} {row.event} on {day_words(dt.date.fromisoformat(row.date))}"
    label = row.measure_label
    if row.verdict == NOT_ENOUGH_DATA:
        text = (f"{label} around {subject}: not enough data ({_days(row)}; {MIN_DAYS} are "
                "needed on each side).")
    elif row.verdict == CLEAR_CHANGE:
        moved = "rose" if (row.difference or 0) > 0 else "fell"
        start = ("from the day of the change" if not row.lag_days else
                 f"from {row.lag_days} day{'s' if row.lag_days != 1 else ''} after it")
        text = (f"{label} {moved} by {_amount(abs(row.difference or 0), row.unit)} after "
                f"{subject}, {start}: a clear change ({_numbers(row)}; {_days(row)}).")
    else:
        text = (f"{label} after {subject}: no clear change ({_numbers(row)}; "
                f"{_days(row)}).")
    if row.confounders:
        text += " Also in the window: " + " ".join(row.confounders)
    return text


def honesty_rules(window: int, max_lag: int) -> str:
    """The rules the verdicts follow, in the README's words, for a reader who sees the
    sentences without Luna (the hand-off's insights page)."""
    return (f"Each medication change is weighed, for each measure, over the {window} days "
            f"before it against the {window} days after it, those starting on the day of "
            f"the change or up to {max_lag} days later, for changes that take days to show. "
            f"Fewer than {MIN_DAYS} days with data on either side: \"{NOT_ENOUGH_DATA}\", "
            f"and nothing else. Looking at {max_lag + 1} lags and keeping the best would "
            "call noise a change too often, so the best lag is judged against the best of "
            "the same days rearranged (a max-statistic permutation test). Only when that "
            f"corrected test gives p < {ALPHA:g} and the {CONFIDENCE} % interval of the "
            f"difference leaves out zero is it a \"{CLEAR_CHANGE}\", and only then is a lag "
            f"named; otherwise \"{NO_CLEAR_CHANGE}\", with the numbers of the day of the "
            "change. What else could explain it is listed beside it: another medication "
            f"changed inside the window, or the medication taken on fewer than "
            f"{LOW_ADHERENCE:.0f} % of its scheduled doses there.")


def _describe_pair(row: PairRow) -> str:
    pair = f"{row.first_label} and {row.second_label}"
    if row.verdict == NOT_ENOUGH_DATA:
        return (f"{pair}: not enough data ({row.paired_days} days with both; {MIN_DAYS} are "
                "needed).")
    rho = (f"rank correlation {_signed(row.rho, 2)}, {CONFIDENCE} % interval "
           f"{_signed(row.ci_low, 2)} to {_signed(row.ci_high, 2)}, {row.paired_days} days")
    if row.verdict == CLEAR_ASSOCIATION:
        direction = "rise together" if (row.rho or 0) > 0 else "move in opposite directions"
        later = ("on the same day" if not row.lag_days else
                 f"with {row.second_label.lower()} {row.lag_days} "
                 f"day{'s' if row.lag_days != 1 else ''} later")
        return f"{pair} {direction}, {later}: a clear association ({rho})."
    return f"{pair}: no clear association ({rho})."


def _numbers(row: InsightRow) -> str:
    lag = f" at {row.lag_days} days" if row.lag_days else ""
    return (f"{_amount(row.before_mean, row.unit)} before, "
            f"{_amount(row.after_mean, row.unit)} after{lag}; difference "
            f"{_signed(row.difference)}, {CONFIDENCE} % interval {_signed(row.ci_low)} to "
            f"{_signed(row.ci_high)}")


def _days(row: InsightRow) -> str:
    return f"{row.days_before} days with data before, {row.days_after} after"


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" + (f" {unit}" if unit else "")


def _signed(value: float | None, digits: int = 1) -> str:
    """'+1.2', '−0.4', '0.0': a sign on every number that has one at this precision."""
    if value is None:
        return "–"
    if abs(value) < 0.5 * 10 ** -digits:
        return f"{0:.{digits}f}"
    return f"{value:+.{digits}f}".replace("-", "−")
