"""Japanese family and given names with katakana readings, drawn by frequency and birth generation.

The lists (``data/surnames.csv``, ``data/given_names.csv``) pair each written form with one reading, so a name's
reading always corresponds to its kanji. Given names are grouped by birth years (e.g. 清/キヨシ and 和子/カズコ for
people born up to 1955, 蓮/レン and 陽葵/ヒマリ from 2006); a person gets a name from the group of their birth year.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from kiban.registry.synth.reference import NameTable, given_names, surnames

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def draw_surnames(rng: np.random.Generator, count: int) -> IntArray:
    """Row indices into the surname table, weighted by the approximate number of bearers."""
    table = surnames()
    return rng.choice(len(table.kanji), size=count, p=table.weight / table.weight.sum()).astype(np.int64)


def draw_given_names(rng: np.random.Generator, female: BoolArray, birth_year: IntArray) -> IntArray:
    """Row indices into the given-name table, matching each person's sex and birth generation."""
    table = given_names()
    result = np.zeros(len(female), dtype=np.int64)
    groups = {(int(s), int(a), int(b)) for s, a, b in zip(table.sex, table.born_from, table.born_to, strict=True)}
    for sex, born_from, born_to in sorted(groups):
        who = np.flatnonzero((female == bool(sex)) & (birth_year >= born_from) & (birth_year <= born_to))
        rows = np.flatnonzero((table.sex == sex) & (table.born_from == born_from) & (table.born_to == born_to))
        weight = table.weight[rows]
        result[who] = rows[rng.choice(len(rows), size=len(who), p=weight / weight.sum())]
    return result


def lookup(table: NameTable, index: IntArray) -> tuple[pl.Series, pl.Series]:
    """Written form and katakana reading for each row index."""
    taken = pl.Series(index, dtype=pl.Int64)
    return pl.Series(table.kanji, dtype=pl.Utf8).gather(taken), pl.Series(table.kana, dtype=pl.Utf8).gather(taken)
