"""Foreign residents (外国人住民): whole households, with nationality, romanised names and 在留資格.

The share of foreign residents is the municipality's own (住民基本台帳, 2025-01-01), capped at 30 %. Households are
picked with a preference for young heads (most foreign residents are 20–39), and every member shares the
nationality. Names are written in capitals with a katakana reading, as on a residence card. 永住者 and 特別永住者 have
no 在留期間; everyone else gets an expiry date 1 month to 3 years after ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from kiban.registry.synth.reference import foreign_names

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STATUSES = (
    "永住者",
    "特別永住者",
    "技術・人文知識・国際業務",
    "留学",
    "技能実習",
    "特定技能",
    "家族滞在",
    "定住者",
    "日本人の配偶者等",
)
PERMANENT, SPECIAL_PERMANENT, ENGINEER, STUDENT, TRAINEE, SKILLED, DEPENDENT, LONG_TERM, SPOUSE = range(9)

# status probabilities by age band: under 18, 18–29, 30–49, 50+
_STATUS_BY_AGE = np.array(
    [
        [0.35, 0.00, 0.00, 0.00, 0.00, 0.00, 0.40, 0.25, 0.00],
        [0.05, 0.00, 0.15, 0.30, 0.25, 0.20, 0.05, 0.00, 0.00],
        [0.35, 0.00, 0.25, 0.00, 0.05, 0.10, 0.05, 0.10, 0.10],
        [0.70, 0.00, 0.05, 0.00, 0.00, 0.00, 0.00, 0.15, 0.10],
    ]
)


@dataclass(frozen=True)
class ForeignResidents:
    """Per person: nationality code and names (null = Japanese), status index (−1 = none), expiry (days since epoch)."""

    is_foreign: BoolArray
    nationality: pl.Series
    status: IntArray
    expiry: IntArray  # −1 when there is no expiry
    family_latin: pl.Series
    family_kana: pl.Series
    given_latin: pl.Series
    given_kana: pl.Series


def choose_households(
    rng: np.random.Generator, share: float, household_size: IntArray, head_age: IntArray
) -> BoolArray:
    """Households whose members are foreign, weighted towards young heads, until ``share`` of persons is reached."""
    weight = np.select([head_age < 20, head_age < 40, head_age < 65], [1.0, 4.0, 1.0], 0.4) * np.where(
        household_size == 1, 1.5, 1.0
    )
    key = np.log(rng.random(len(weight))) / weight  # Efraimidis–Spirakis weighted sampling without replacement
    order = np.argsort(-key, kind="stable")
    target = min(share, 0.30) * household_size.sum()
    covered = np.cumsum(household_size[order])
    chosen = np.zeros(len(weight), dtype=bool)
    chosen[order[: int(np.searchsorted(covered, target))]] = True
    return chosen


def foreign_residents(
    rng: np.random.Generator,
    household_is_foreign: BoolArray,
    household: IntArray,
    age: IntArray,
    female: BoolArray,
    as_of_days: int,
) -> ForeignResidents:
    """Nationality, names and residence status for every member of a foreign household."""
    names = foreign_names()
    n = len(age)
    household_nationality = rng.choice(
        len(names.codes), size=len(household_is_foreign), p=names.weight / names.weight.sum()
    )
    is_foreign = household_is_foreign[household]
    nationality_index = household_nationality[household]
    band = np.select([age < 18, age < 30, age < 50], [0, 1, 2], 3)
    cumulative = np.cumsum(_STATUS_BY_AGE, axis=1)
    cumulative /= cumulative[:, -1:]
    status = (rng.random(n)[:, None] > cumulative[band]).sum(axis=1).astype(np.int64)
    korean = np.asarray(names.codes)[nationality_index] == "KOR"
    status = np.where(korean & (age >= 50) & (rng.random(n) < 0.7), SPECIAL_PERMANENT, status)
    status = np.where(is_foreign, status, -1)
    no_expiry = (status == PERMANENT) | (status == SPECIAL_PERMANENT) | (status < 0)
    expiry = np.where(no_expiry, -1, as_of_days + rng.integers(30, 3 * 365, n)).astype(np.int64)

    family_latin, family_kana = _pick(
        [names.family[c] for c in names.codes], nationality_index, rng.random(len(household_is_foreign))[household]
    )
    given_latin, given_kana = _pick(
        [names.given[(c, sex)] for c in names.codes for sex in (0, 1)],
        nationality_index * 2 + female.astype(np.int64),
        rng.random(n),
    )
    hide = ~is_foreign
    return ForeignResidents(
        is_foreign,
        pl.Series(names.codes).gather(pl.Series(nationality_index)).set(pl.Series(hide), None),
        status,
        expiry,
        family_latin.set(pl.Series(hide), None),
        family_kana.set(pl.Series(hide), None),
        given_latin.set(pl.Series(hide), None),
        given_kana.set(pl.Series(hide), None),
    )


def _pick(
    groups: list[list[tuple[str, str]]], group: IntArray, u: npt.NDArray[np.float64]
) -> tuple[pl.Series, pl.Series]:
    """For each person, the (latin, kana) name at fraction ``u`` of the list ``groups[group]``."""
    latin: list[str] = []
    kana: list[str] = []
    offset = np.zeros(len(groups), dtype=np.int64)
    size = np.zeros(len(groups), dtype=np.int64)
    for i, entries in enumerate(groups):
        offset[i], size[i] = len(latin), len(entries)
        latin.extend(e[0] for e in entries)
        kana.extend(e[1] for e in entries)
    index = pl.Series(offset[group] + np.floor(u * size[group]).astype(np.int64))
    return pl.Series(latin).gather(index), pl.Series(kana).gather(index)
