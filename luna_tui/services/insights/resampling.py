"""Resampling for daily series: days are not independent (a bad week is bad for days
on end), so resamples keep runs of consecutive days together.

The block length is the cube root of the number of days, rounded up, and at least 2
(the n^(1/3) rate of Hall, Horowitz & Jing for bootstrap variance estimates): 14 days
give blocks of 3, 28 days blocks of 4. Every random draw comes from a generator seeded
from the analysed numbers themselves, so the same vault gives the same intervals and
p-values on every run.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MIN_BLOCK = 2


def block_length(days: int) -> int:
    """Days per block for a series of `days` days."""
    return max(MIN_BLOCK, math.ceil(max(days, 1) ** (1 / 3)))


def seed_from(label: str, *series: Sequence[float | None]) -> int:
    """A seed that depends on nothing but the inputs: their label and their values."""
    digest = hashlib.sha256(label.encode())
    for values in series:
        digest.update(b"|")
        digest.update(",".join("-" if v is None or v != v else repr(float(v))
                               for v in values).encode())
    return int.from_bytes(digest.digest()[:8], "big")


def as_array(values: Sequence[float | None]) -> np.ndarray:
    """Daily values as floats, a missing day as NaN."""
    import numpy as np

    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def moving_blocks(rng: np.random.Generator, days: int, count: int) -> np.ndarray:
    """`count` moving-block bootstrap resamples of positions 0..days-1: overlapping
    blocks of consecutive days drawn with replacement, joined and cut to `days`."""
    import numpy as np

    size = min(block_length(days), days)
    blocks = math.ceil(days / size)
    starts = rng.integers(0, days - size + 1, size=(count, blocks))
    positions = starts[:, :, None] + np.arange(size)
    return positions.reshape(count, blocks * size)[:, :days]


def block_permutations(rng: np.random.Generator, days: int, count: int) -> np.ndarray:
    """`count` rearrangements of positions 0..days-1: the days cut into consecutive
    blocks, and the blocks put in a random order. Within a block the days keep their
    neighbours, so a permuted series is as autocorrelated as the real one over short
    spans; what it loses is where each stretch of days sat in time."""
    import numpy as np

    size = min(block_length(days), days)
    blocks = math.ceil(days / size)
    padded = np.arange(blocks * size).reshape(blocks, size)
    order = np.argsort(rng.random((count, blocks)), axis=1)
    arranged = padded[order].reshape(count, blocks * size)
    # The last block may be short: its padding positions (>= days) are dropped, leaving
    # exactly `days` positions in every row.
    return arranged[arranged < days].reshape(count, days)


def nan_means(samples: np.ndarray) -> np.ndarray:
    """Row means ignoring missing days; NaN for a row with none."""
    import numpy as np

    present = ~np.isnan(samples)
    counts = present.sum(axis=1)
    totals = np.where(present, samples, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
