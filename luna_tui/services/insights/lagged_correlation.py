"""How two daily series move together: Spearman's rank correlation of the first
series on a day with the second one `lag` days later (lags 0–7), said honestly.

Ranks, not values: a night of 3 hours among nights of 7 pulls a rank correlation no
more than any other short night. A lag needs at least 8 days with both values.

The best of eight lags is judged against the best of eight lags after the second series
is rearranged in blocks of consecutive days (a max-statistic block permutation test,
resampling.block_permutations): the rearrangement breaks the alignment of the two
series, which is the null hypothesis, while each block keeps the day-to-day dependence
of the second series, so a slowly drifting series is not taken for a related one as
often as shuffling single days would allow. (Circular shifts, the textbook choice for
two dependent series, cannot be used with a maximum over lags on a few months of days:
shifts far enough from the real alignment to leave every lag out are too few to reach
p < 0.05, and counting nearer ones, whose lag windows overlap, makes the test invalid.)

The interval is a 95 % moving-block bootstrap interval of the correlation at the lag
shown (pairs of days resampled in blocks of consecutive days), not Fisher's z, whose
standard error assumes independent days. "clear association" needs p < 0.05 and an
interval that leaves out zero; the lag is reported only then, otherwise the numbers are
those of lag 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luna_tui.services.insights.before_after import ALPHA, CONFIDENCE, MIN_DAYS
from luna_tui.services.insights.resampling import as_array, block_permutations, moving_blocks

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
                 max_lag: int = 7, permutations: int = 2000, resamples: int = 2000,
                 seed: int = 0) -> PairResult:
    """`first` and `second`: one value a day over the same days (None: no data)."""
    import numpy as np

    x, y = as_array(first), as_array(second)
    if len(x) != len(y):
        raise ValueError("the two series must cover the same days")
    # A side that never changes over the paired days (adherence at 0 % throughout) moves
    # with nothing: there is no association to measure, not a measured absence of one.
    lags = [lag for lag in range(max_lag + 1)
            if _paired_days(x, y, lag) >= MIN_DAYS and _both_vary(x, y, lag)]
    if 0 not in lags:
        return _described(x, y, 0, NOT_ENOUGH_DATA, None, None, None)
    observed = np.array([_rho_rows(*_aligned(x[None, :], y[None, :], lag))[0]
                         for lag in lags])
    best = lags[int(np.argmax(np.abs(observed)))]
    rng = np.random.default_rng(seed)
    rearranged = y[block_permutations(rng, len(y), permutations)]
    strongest = np.max([np.abs(_rho_rows(*_aligned(x[None, :], rearranged, lag)))
                        for lag in lags], axis=0)
    p_value = float((1 + np.sum(strongest >= np.abs(observed).max() - 1e-12))
                    / (1 + permutations))
    interval = _interval(rng, x, y, best, resamples)
    if p_value < ALPHA and interval is not None and not interval[0] <= 0 <= interval[1]:
        return _described(x, y, best, CLEAR_ASSOCIATION, interval, best, p_value)
    if best != 0:
        interval = _interval(rng, x, y, 0, resamples)
    return _described(x, y, 0, NO_CLEAR_ASSOCIATION, interval, None, p_value)


def _aligned(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """x on each day with y `lag` days later (the last axis is days), missing days
    included; x is repeated for each row of y."""
    import numpy as np

    first, second = (x[..., :x.shape[-1] - lag], y[..., lag:]) if lag else (x, y)
    return np.broadcast_to(first, second.shape), second


def _paired_days(x: np.ndarray, y: np.ndarray, lag: int) -> int:
    import numpy as np

    first, second = _aligned(x, y, lag)
    return int(np.count_nonzero(~np.isnan(first) & ~np.isnan(second)))


def _both_vary(x: np.ndarray, y: np.ndarray, lag: int) -> bool:
    import numpy as np

    first, second = _aligned(x, y, lag)
    both = ~np.isnan(first) & ~np.isnan(second)
    return bool(np.ptp(first[both]) > 0 and np.ptp(second[both]) > 0)


def _rho_rows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row's days where both have a value (ties share their
    mean rank); 0 for a row with fewer than 3 such days or a constant side."""
    import numpy as np
    from scipy.stats import rankdata

    both = ~np.isnan(first) & ~np.isnan(second)
    ranks = [rankdata(np.where(both, side, np.nan), axis=1, nan_policy="omit")
             for side in (first, second)]
    middle = (both.sum(axis=1, keepdims=True) + 1) / 2  # the mean of ranks 1..n
    a, b = (np.where(both, r - middle, 0.0) for r in ranks)
    scale = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (a * b).sum(axis=1) / scale
    return np.where((both.sum(axis=1) >= 3) & (scale > 0), rho, 0.0)


def _interval(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, lag: int,
              resamples: int) -> tuple[float, float] | None:
    """The moving-block bootstrap interval of rho at `lag`; None when too few
    resamples had enough paired days."""
    import numpy as np

    first, second = _aligned(x, y, lag)
    positions = moving_blocks(rng, len(first), resamples)
    a, b = first[positions], second[positions]
    enough = (~np.isnan(a) & ~np.isnan(b)).sum(axis=1) >= 3
    values = _rho_rows(a, b)[enough]
    if len(values) < resamples / 2:
        return None
    tail = (100 - CONFIDENCE) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _described(x: np.ndarray, y: np.ndarray, lag: int, verdict: str,
               interval: tuple[float, float] | None, lag_days: int | None,
               p_value: float | None) -> PairResult:
    days = _paired_days(x, y, lag)
    rho = (float(_rho_rows(*_aligned(x[None, :], y[None, :], lag))[0])
           if days >= MIN_DAYS and verdict != NOT_ENOUGH_DATA else None)
    return PairResult(verdict=verdict, rho=rho, ci_low=interval[0] if interval else None,
                      ci_high=interval[1] if interval else None, paired_days=days,
                      lag_days=lag_days, shown_lag=lag, p_value=p_value)
