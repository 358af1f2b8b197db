"""Vectorised identifiers: modulus-11 check digits and unique random numbers.

住民票コード (11 digits), 個人番号 (12 digits) and Kiban's own 宛名番号/世帯番号 (10 digits) all use the same rule:
weights 2, 3, 4, 5, 6, 7, 2, 3, … on the base digits counted from the right, remainder ``r = Σ mod 11``, check digit
``0`` if ``r ≤ 1`` else ``11 − r`` (see ``kiban.core.identifiers`` for the legal references; the tests cross-check).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

IntArray = npt.NDArray[np.int64]


def mod11_check_digits(base: IntArray) -> IntArray:
    """Check digit for each non-negative integer in ``base`` (weights 2–7 cycling from the rightmost digit)."""
    rest = base.astype(np.int64).copy()
    total = np.zeros(len(rest), dtype=np.int64)
    for position in range(19):  # int64 has at most 19 digits
        total += (rest % 10) * (2 + position % 6)
        rest //= 10
    remainder = total % 11
    return np.where(remainder <= 1, 0, 11 - remainder).astype(np.int64)


def with_check_digit(base: IntArray, digits: int) -> pl.Series:
    """``base`` followed by its check digit, as zero-padded strings of ``digits`` characters (check digit included)."""
    full = base.astype(np.int64) * 10 + mod11_check_digits(base)
    return pl.Series(full).cast(pl.Utf8).str.zfill(digits)


def unique_random(rng: np.random.Generator, count: int, low: int, high: int) -> IntArray:
    """``count`` distinct integers drawn uniformly from ``[low, high)``, in random order."""
    if count > (high - low) // 4:
        raise ValueError("the number space is too small for that many unique identifiers")
    found = np.empty(0, dtype=np.int64)
    while len(found) < count:
        draw = rng.integers(low, high, size=int((count - len(found)) * 1.02) + 16, dtype=np.int64)
        found = np.unique(np.concatenate([found, draw]))
    return rng.permutation(found)[:count]


def sequential(rng: np.random.Generator, count: int, start_low: int, start_high: int) -> IntArray:
    """Increasing numbers with small random gaps, as a register that hands out numbers in order would have."""
    start = int(rng.integers(start_low, start_high))
    return start + np.cumsum(rng.integers(1, 4, size=count, dtype=np.int64))
