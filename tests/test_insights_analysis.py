"""The insights' statistics on arrays (no vault): a planted change is found with its sign
and lag, noise alone is almost never called a change, too few days are said to be too
few, and the same numbers always give the same result."""

from __future__ import annotations

import numpy as np
import pytest

from luna_tui.services.insights.before_after import (
    CLEAR_CHANGE,
    NO_CLEAR_CHANGE,
    NOT_ENOUGH_DATA,
    AnalysisSettings,
    analyse_change,
)
from luna_tui.services.insights.lagged_correlation import (
    CLEAR_ASSOCIATION,
    analyse_pair,
)
from luna_tui.services.insights.resampling import (
    block_length,
    block_permutations,
    moving_blocks,
    seed_from,
)

# Fewer permutations and resamples than the app's 2000: p-values are coarser (steps of
# 1/200), which is enough to tell 0.05 apart, and 200 data sets take a second or two.
FAST = AnalysisSettings(window=14, permutations=199, resamples=199)


def planted(seed: int, settings: AnalysisSettings, *, rise: float, lag: int = 3,
            missing: float = 0.0) -> list[float | None]:
    """Noise (sd 1) around 5 over an analysis' days, up by `rise` from `lag` days after
    the change; a share `missing` of the days has no value."""
    rng = np.random.default_rng(seed)
    values = rng.normal(5, 1, settings.segment_days)
    values[settings.window + lag:] += rise
    gone = rng.random(settings.segment_days) < missing
    return [None if out else float(v) for v, out in zip(values, gone, strict=True)]


def test_a_planted_rise_is_found_with_its_sign_and_lag():
    settings = AnalysisSettings(window=28, permutations=199, resamples=199)
    results = [analyse_change(planted(seed, settings, rise=2), settings, seed)
               for seed in range(40)]
    clear = [r for r in results if r.verdict == CLEAR_CHANGE]
    assert len(clear) == len(results)
    assert all(r.difference > 0 and r.ci_low > 0 for r in clear)
    near = [r for r in clear if abs(r.lag_days - 3) <= 1]
    assert len(near) >= 0.8 * len(clear), sorted(r.lag_days for r in clear)
    assert all(r.shown_lag == r.lag_days for r in clear)


def test_a_planted_fall_is_a_clear_change_downwards():
    result = analyse_change(planted(3, FAST, rise=-2, lag=0), FAST, 3)
    assert result.verdict == CLEAR_CHANGE and result.ci_high < 0 and result.lag_days <= 1


def test_noise_alone_is_no_clear_change_at_least_95_percent_of_the_time():
    verdicts = [analyse_change(planted(seed, FAST, rise=0, missing=0.2), FAST, seed).verdict
                for seed in range(200)]
    quiet = [v for v in verdicts if v in (NO_CLEAR_CHANGE, NOT_ENOUGH_DATA)]
    assert len(quiet) >= 0.95 * len(verdicts)


def test_fewer_than_8_days_on_a_side_is_not_enough_data():
    values = planted(1, FAST, rise=3)
    before_thin = [None] * 7 + values[7:]  # 7 days with data before
    result = analyse_change(before_thin, FAST, 1)
    assert (result.verdict, result.days_before, result.lag_days) == (NOT_ENOUGH_DATA, 7, None)
    assert result.ci_low is None and result.p_value is None
    after_thin = values[:FAST.window] + [None] * 7 + values[FAST.window + 7:]
    assert analyse_change(after_thin, FAST, 1).days_after == 7  # lag 0's window: 7 days
    assert analyse_change(after_thin, FAST, 1).verdict == NOT_ENOUGH_DATA


def test_the_same_numbers_give_the_same_result_and_the_seed_follows_the_numbers():
    values = planted(5, FAST, rise=0.5)
    seed = seed_from("Metformin|mood", values)
    assert seed == seed_from("Metformin|mood", list(values))
    assert seed != seed_from("Metformin|sleep", values)
    assert analyse_change(values, FAST, seed) == analyse_change(values, FAST, seed)


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="expected 35 days"):
        analyse_change([1.0] * 34, FAST, 0)


# -- pairs ------------------------------------------------------------------------------


def test_a_planted_association_is_found_at_its_lag():
    rng = np.random.default_rng(11)
    sleep = rng.normal(7, 1, 90)
    mood = 5 + 0.8 * np.roll(sleep - 7, 2) + rng.normal(0, 0.6, 90)
    result = analyse_pair(list(sleep), list(mood), permutations=199, resamples=199, seed=1)
    assert (result.verdict, result.lag_days) == (CLEAR_ASSOCIATION, 2)
    assert result.rho > 0.5 and result.ci_low > 0 and result.paired_days == 88


def test_unrelated_series_are_seldom_called_associated():
    verdicts = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        first, second = rng.normal(0, 1, (2, 50))
        verdicts.append(analyse_pair(list(first), list(second), permutations=199,
                                     resamples=199,
                                     seed=seed).verdict)
    assert verdicts.count(CLEAR_ASSOCIATION) <= 0.05 * len(verdicts)


def test_fewer_than_8_paired_days_is_not_enough_data():
    first = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0] + [None] * 20
    second = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0] + [1.0] * 20
    result = analyse_pair(first, second, seed=0)
    assert (result.verdict, result.paired_days, result.rho) == ("not enough data", 7, None)


def test_a_side_that_never_changes_is_not_enough_data_not_no_association():
    # A medication never taken in the period: adherence 0 every day. Its rank correlation
    # with sleep is undefined, and "no clear association" would claim it was measured.
    sleep = list(np.random.default_rng(1).normal(7, 1, 30))
    adherence = [0.0] * 30
    result = analyse_pair(adherence, sleep, permutations=99, resamples=99, seed=0)
    assert (result.verdict, result.rho, result.ci_low) == ("not enough data", None, None)
    assert result.paired_days == 30


# -- resampling -------------------------------------------------------------------------


def test_blocks_are_the_cube_root_of_the_days_rounded_up_and_at_least_two():
    assert [block_length(days) for days in (1, 8, 14, 28, 35, 63, 125)] == [2, 2, 3, 4, 4,
                                                                           4, 5]


def test_block_permutations_rearrange_whole_blocks():
    rng = np.random.default_rng(0)
    arranged = block_permutations(rng, 35, 50)
    assert arranged.shape == (50, 35)
    assert all(sorted(row) == list(range(35)) for row in arranged)
    for row in arranged:  # each block of 4 (the last of 3) stays in one piece, in order
        starts = [i for i, day in enumerate(row) if day % 4 == 0]
        assert all(list(row[i:i + min(4, 35 - row[i])]) == list(
            range(row[i], row[i] + min(4, 35 - row[i]))) for i in starts)


def test_moving_blocks_are_runs_of_consecutive_days():
    positions = moving_blocks(np.random.default_rng(0), 14, 20)
    assert positions.shape == (20, 14) and positions.min() >= 0 and positions.max() < 14
    assert all((np.diff(row[:3]) == 1).all() for row in positions)  # a block of 3
