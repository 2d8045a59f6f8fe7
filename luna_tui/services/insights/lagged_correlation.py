"""How two daily series move together: Spearman's rank correlation of the first
series on a day with the second one `lag` days later (lags 0–7), said honestly.

Ranks, not values: a night of 3 hours among nights of 7 pulls a rank correlation no
more than any other short night. A lag needs at least 8 days with both values.

The best of eight lags is judged against the best of eight lags of the same two series
shifted in time against each other (a max-statistic test over circular shifts: the
second series is rotated by k days, for every k that keeps it at least 8 days away from
every lag's alignment). A rotation keeps each series whole, with all its day-to-day
dependence, and only breaks their alignment: that is the null hypothesis. (Two slowly
drifting series correlate by chance far more often than shuffled days would suggest.)
With fewer than 20 usable shifts the smallest possible p-value is above 0.05, and the
result can only be "no clear association": a short record cannot show one.

The interval is a 95 % moving-block bootstrap interval of the correlation at the
lag shown (blocks of consecutive days, resampling.block_length), not Fisher's z,
whose standard error assumes independent days. "clear association" needs p < 0.05 and
an interval that leaves out zero; the lag is reported only then, otherwise the numbers
are those of lag 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luna_tui.services.insights.before_after import ALPHA, CONFIDENCE, MIN_DAYS
from luna_tui.services.insights.resampling import as_array, moving_blocks

if TYPE_CHECKING:
    import numpy as np

CLEAR_ASSOCIATION = "clear association"
NO_CLEAR_ASSOCIATION = "no clear association"
NOT_ENOUGH_DATA = "not enough data"


@dataclass(frozen=True)
class PairResult:
    verdict: str
    rho: float | None
    ci_low: float | None
    ci_high: float | None
    paired_days: int
    lag_days: int | None  # only for a clear association
    shown_lag: int
    p_value: float | None


def analyse_pair(first: Sequence[float | None], second: Sequence[float | None], *,
                 max_lag: int = 7, resamples: int = 2000, seed: int = 0) -> PairResult:
    """`first` and `second`: one value a day over the same days (None: no data)."""
    import numpy as np

    x, y = as_array(first), as_array(second)
    if len(x) != len(y):
        raise ValueError("the two series must cover the same days")
    lags = [lag for lag in range(max_lag + 1) if _paired(x, y, lag)[0].size >= MIN_DAYS]
    if 0 not in lags:
        return _described(x, y, 0, NOT_ENOUGH_DATA, None, None, None)
    observed = np.array([_rho(*_paired(x, y, lag)) for lag in lags])
    best = lags[int(np.argmax(np.abs(observed)))]
    shifts = range(max_lag + 1, len(y) - max_lag)
    strongest = np.array([max(abs(_rho(*_paired(x, np.roll(y, shift), lag))) for lag in lags)
                          for shift in shifts])
    p_value = float((1 + np.sum(strongest >= np.abs(observed).max() - 1e-12))
                    / (1 + len(strongest)))
    rng = np.random.default_rng(seed)
    interval = _interval(rng, x, y, best, resamples)
    if p_value < ALPHA and interval is not None and not interval[0] <= 0 <= interval[1]:
        return _described(x, y, best, CLEAR_ASSOCIATION, interval, best, p_value)
    if best != 0:
        interval = _interval(rng, x, y, 0, resamples)
    return _described(x, y, 0, NO_CLEAR_ASSOCIATION, interval, None, p_value)


def _aligned(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """x on each day with y `lag` days later, missing days included."""
    return (x[:len(x) - lag], y[lag:]) if lag else (x, y)


def _paired(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """The days where both have a value, x's day with y `lag` days later."""
    import numpy as np

    first, second = _aligned(x, y, lag)
    both = ~np.isnan(first) & ~np.isnan(second)
    return first[both], second[both]


def _rho(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rho (0 when either side is constant or there are fewer than 3)."""
    import numpy as np
    from scipy.stats import rankdata

    if first.size < 3:
        return 0.0
    a, b = rankdata(first), rankdata(second)
    a, b = a - a.mean(), b - b.mean()
    scale = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / scale) if scale > 0 else 0.0


def _interval(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, lag: int,
              resamples: int) -> tuple[float, float] | None:
    """The moving-block bootstrap interval of rho at `lag`; None when too few
    resamples had enough paired days."""
    import numpy as np

    first, second = _aligned(x, y, lag)
    values = []
    for positions in moving_blocks(rng, len(first), resamples):
        a, b = first[positions], second[positions]
        both = ~np.isnan(a) & ~np.isnan(b)
        if both.sum() >= 3:
            values.append(_rho(a[both], b[both]))
    if len(values) < resamples / 2:
        return None
    tail = (100 - CONFIDENCE) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _described(x: np.ndarray, y: np.ndarray, lag: int, verdict: str,
               interval: tuple[float, float] | None, lag_days: int | None,
               p_value: float | None) -> PairResult:
    first, second = _paired(x, y, lag)
    rho = _rho(first, second) if first.size >= MIN_DAYS else None
    return PairResult(verdict=verdict, rho=rho, ci_low=interval[0] if interval else None,
                      ci_high=interval[1] if interval else None, paired_days=int(first.size),
                      lag_days=lag_days, shown_lag=lag, p_value=p_value)
