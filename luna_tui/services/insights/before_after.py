"""Before and after one medication change, for one daily series: did it move?

The window before the change (`window` days, default 14, the day of the change not
included) is compared with the window after it, taken from the day of the change (lag
0) or starting 1–7 days later (lags 1–7: the after-window shifted by the lag, for
changes that take days to show). For each lag the statistic is Welch's t of the
difference of means, so a lag with fewer days is not favoured.

Choosing the best of eight lags would find "effects" in noise, so the chance of seeing
a statistic as large as the best one is judged against the best one of rearranged
series (a max-statistic permutation test): the days are cut into blocks of consecutive
days (resampling.block_length) and the blocks shuffled, all lags recomputed, the
largest kept. Shuffling whole blocks keeps each stretch's day-to-day dependence, which
shuffling single days would destroy (making chance differences look rarer than they
are). Circular shifts, the usual alternative for dependent series, do not work here: a
shift by a few days moves a real change to where another of the eight lags catches it,
so the null distribution would contain the effect itself.

The interval is a 95 % moving-block bootstrap interval of the difference (each window
resampled in blocks of consecutive days). The verdict is "clear change" only when the
corrected test says p < 0.05 and the interval leaves out zero; "not enough data" when
either side has fewer than 8 days with data. Because once a change has begun every
later after-window shows it too, the lag reported is the earliest lag whose statistic
is within 1 (one standard error of a t statistic) of the strongest, in its direction;
it is reported only for a clear change, otherwise the numbers are those of lag 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luna_tui.services.insights.resampling import (
    as_array,
    block_permutations,
    moving_blocks,
    nan_means,
)

if TYPE_CHECKING:
    import numpy as np

CLEAR_CHANGE = "clear change"
NO_CLEAR_CHANGE = "no clear change"
NOT_ENOUGH_DATA = "not enough data"
MIN_DAYS = 8  # days with data on each side, at least
ALPHA = 0.05
CONFIDENCE = 95  # percent, of the interval
ONE_STANDARD_ERROR = 1.0  # on the t scale: how close to the strongest a lag may be


@dataclass(frozen=True)
class AnalysisSettings:
    window: int = 14  # days on each side
    max_lag: int = 7  # lags 0..max_lag are considered
    permutations: int = 2000  # block permutations for the corrected test
    resamples: int = 2000  # bootstrap resamples for each interval

    @property
    def segment_days(self) -> int:
        """Days an analysis reads: the window before, and after it the longest lag
        plus the window after."""
        return 2 * self.window + self.max_lag


@dataclass(frozen=True)
class ChangeResult:
    verdict: str
    before_mean: float | None
    after_mean: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    days_before: int
    days_after: int
    lag_days: int | None  # only for a clear change
    shown_lag: int  # the lag the numbers are for: lag_days, else 0
    p_value: float | None  # corrected for choosing among the lags


def analyse_change(values: Sequence[float | None], settings: AnalysisSettings,
                   seed: int) -> ChangeResult:
    """`values`: one value a day for `settings.segment_days` days, the window before
    the change first (None: no data that day); the change is on day `window`."""
    import numpy as np

    series = as_array(values)
    if len(series) != settings.segment_days:
        raise ValueError(f"expected {settings.segment_days} days, got {len(series)}")
    window = settings.window
    before = series[:window]
    lags = [lag for lag in range(settings.max_lag + 1)
            if _present(_after(series, window, lag)) >= MIN_DAYS]
    if _present(before) < MIN_DAYS or 0 not in lags:
        return _described(series, window, 0, NOT_ENOUGH_DATA, None, None, None)
    rng = np.random.default_rng(seed)
    observed = _t_by_lag(series[None, :], window, lags)[0]
    best = _onset(series, window, lags, observed)
    arranged = series[block_permutations(rng, len(series), settings.permutations)]
    strongest = np.abs(_t_by_lag(arranged, window, lags)).max(axis=1)
    p_value = float((1 + np.sum(strongest >= np.abs(observed).max() - 1e-12))
                    / (1 + settings.permutations))
    interval = _interval(rng, before, _after(series, window, best), settings.resamples)
    if p_value < ALPHA and interval is not None and not interval[0] <= 0 <= interval[1]:
        return _described(series, window, best, CLEAR_CHANGE, interval, best, p_value)
    if best != 0:
        interval = _interval(rng, before, _after(series, window, 0), settings.resamples)
    return _described(series, window, 0, NO_CLEAR_CHANGE, interval, None, p_value)


def _after(series: np.ndarray, window: int, lag: int) -> np.ndarray:
    return series[..., window + lag:2 * window + lag]


def _present(values: np.ndarray) -> int:
    import numpy as np

    return int(np.count_nonzero(~np.isnan(values)))


def _t_by_lag(samples: np.ndarray, window: int, lags: list[int]) -> np.ndarray:
    """Welch's t of after minus before, one column per lag, one row per sample (0 where
    a side has fewer than 2 days)."""
    import numpy as np

    before_mean, before_var, before_n = _moments(samples[:, :window])
    columns = []
    for lag in lags:
        after_mean, after_var, after_n = _moments(_after(samples, window, lag))
        with np.errstate(invalid="ignore", divide="ignore"):
            error = np.sqrt(before_var / before_n + after_var / after_n)
            t = (after_mean - before_mean) / np.maximum(error, 1e-9)
        columns.append(np.where((before_n >= 2) & (after_n >= 2), t, 0.0))
    return np.stack(columns, axis=1)


def _moments(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: mean, sample variance (n − 1) and count of the days with data."""
    import numpy as np

    present = ~np.isnan(samples)
    count = present.sum(axis=1)
    filled = np.where(present, samples, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / count
        squares = np.where(present, (samples - mean[:, None]) ** 2, 0.0).sum(axis=1)
        variance = squares / (count - 1)
    return mean, variance, count


def _onset(series: np.ndarray, window: int, lags: list[int], observed: np.ndarray) -> int:
    """The lag at which the whole segment best splits in two, in the direction of the
    strongest lag: every day before the change and up to the lag on one side, every
    day from the lag on the other (the least-squares change point, restricted to the
    lags). A later after-window still shows a change that began earlier, so the test's
    statistic levels off after the true lag; the split peaks at it."""
    import numpy as np

    direction = np.sign(observed[int(np.argmax(np.abs(observed)))]) or 1.0
    splits = [_split_score(series, window + lag) for lag in lags]
    return lags[int(np.argmax(direction * np.array(splits)))]


def _split_score(series: np.ndarray, at: int) -> float:
    """The signed between-sides sum of squares of splitting `series` at day `at`."""
    import numpy as np

    first, second = series[:at], series[at:]
    first, second = first[~np.isnan(first)], second[~np.isnan(second)]
    if len(first) == 0 or len(second) == 0:
        return 0.0
    difference = second.mean() - first.mean()
    weight = len(first) * len(second) / (len(first) + len(second))
    return float(np.sign(difference) * weight * difference ** 2)


def _interval(rng: np.random.Generator, before: np.ndarray, after: np.ndarray,
              resamples: int) -> tuple[float, float] | None:
    """The moving-block bootstrap interval of mean(after) − mean(before); None when
    too few resamples had days on both sides."""
    import numpy as np

    differences = (nan_means(after[moving_blocks(rng, len(after), resamples)])
                   - nan_means(before[moving_blocks(rng, len(before), resamples)]))
    differences = differences[~np.isnan(differences)]
    if len(differences) < resamples / 2:
        return None
    tail = (100 - CONFIDENCE) / 2
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(low), float(high)


def _described(series: np.ndarray, window: int, lag: int, verdict: str,
               interval: tuple[float, float] | None, lag_days: int | None,
               p_value: float | None) -> ChangeResult:
    """The result, with the means and day counts of the windows at `lag`."""
    import numpy as np

    before, after = series[:window], _after(series, window, lag)
    before_mean = float(np.nanmean(before)) if _present(before) else None
    after_mean = float(np.nanmean(after)) if _present(after) else None
    difference = (None if before_mean is None or after_mean is None
                  else after_mean - before_mean)
    return ChangeResult(
        verdict=verdict, before_mean=before_mean, after_mean=after_mean,
        difference=difference, ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None, days_before=_present(before),
        days_after=_present(after), lag_days=lag_days, shown_lag=lag, p_value=p_value)
