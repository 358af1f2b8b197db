"""Reference data shipped in ``data/`` (see ``data/SOURCES.md``), read once and cached.

Everything here is small (a few hundred rows); the generator turns these tables into NumPy lookup arrays.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import numpy.typing as npt

MAX_AGE = 110
"""Oldest age the generator produces (the census group 100歳以上 is spread over 100–110)."""


def _rows(package: str, name: str) -> list[dict[str, str]]:
    text = files(package).joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def rows(name: str) -> list[dict[str, str]]:
    """The rows of one CSV file in ``kiban/registry/synth/data``."""
    return _rows("kiban.registry.synth", name)


@dataclass(frozen=True)
class Pyramid:
    """Population shares by sex (0 = male, 1 = female) and single year of age 0..MAX_AGE; sums to 1."""

    share: npt.NDArray[np.float64]  # shape (2, MAX_AGE + 1)


@cache
def pyramid() -> Pyramid:
    """2020 census pyramid (5-year groups) spread evenly over single years; 100+ decays geometrically to 110."""
    share = np.zeros((2, MAX_AGE + 1))
    for r in rows("age_pyramid_2020.csv"):
        sex = 0 if r["sex"] == "male" else 1
        lo = int(r["age_min"])
        if r["age_max"]:
            ages = np.arange(lo, int(r["age_max"]) + 1)
            weights: npt.NDArray[np.float64] = np.ones(len(ages))
        else:
            ages = np.arange(lo, MAX_AGE + 1)
            weights = np.power(0.6, ages - lo, dtype=np.float64)
        share[sex, ages] += float(r["population"]) * weights / weights.sum()
    return Pyramid(share / share.sum())


@dataclass(frozen=True)
class HouseholdTargets:
    """National 2020 census figures for general households (一般世帯)."""

    one_person_share: float
    persons_per_household: float


@cache
def household_targets() -> HouseholdTargets:
    values = {r["metric"]: float(r["value"]) for r in rows("households_2020_national.csv")}
    return HouseholdTargets(
        one_person_share=values["one_person_share_of_general_households"],
        persons_per_household=values["persons_per_general_household"],
    )


@dataclass(frozen=True)
class NameTable:
    """Names with readings and sampling weights; ``born_from``/``born_to`` are the birth years a given name suits."""

    kanji: list[str]
    kana: list[str]
    weight: npt.NDArray[np.float64]
    sex: npt.NDArray[np.int8]  # 0 male, 1 female; all 0 for surnames
    born_from: npt.NDArray[np.int32]
    born_to: npt.NDArray[np.int32]


@cache
def surnames() -> NameTable:
    data = rows("surnames.csv")
    n = len(data)
    return NameTable(
        kanji=[r["kanji"] for r in data],
        kana=[r["kana"] for r in data],
        weight=np.array([float(r["approx_persons"]) for r in data]),
        sex=np.zeros(n, dtype=np.int8),
        born_from=np.zeros(n, dtype=np.int32),
        born_to=np.full(n, 9999, dtype=np.int32),
    )


@cache
def given_names() -> NameTable:
    data = rows("given_names.csv")
    return NameTable(
        kanji=[r["kanji"] for r in data],
        kana=[r["kana"] for r in data],
        weight=np.array([float(r["weight"]) for r in data]),
        sex=np.array([0 if r["sex"] == "male" else 1 for r in data], dtype=np.int8),
        born_from=np.array([int(r["born_from"]) for r in data], dtype=np.int32),
        born_to=np.array([int(r["born_to"]) for r in data], dtype=np.int32),
    )


@dataclass(frozen=True)
class ForeignNames:
    """Nationalities (ISO 3166-1 alpha-3) with resident weights, and romanised names with katakana readings."""

    codes: list[str]
    weight: npt.NDArray[np.float64]
    family: dict[str, list[tuple[str, str]]]
    given: dict[tuple[str, int], list[tuple[str, str]]]  # (nationality, sex) -> names


@cache
def foreign_names() -> ForeignNames:
    nat = rows("nationalities.csv")
    family: dict[str, list[tuple[str, str]]] = {}
    given: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for r in rows("foreign_names.csv"):
        pair = (r["latin"], r["kana"])
        if r["kind"] == "family":
            family.setdefault(r["nationality"], []).append(pair)
        else:
            given.setdefault((r["nationality"], 0 if r["kind"] == "male" else 1), []).append(pair)
    return ForeignNames(
        codes=[r["code"] for r in nat],
        weight=np.array([float(r["approx_residents"]) for r in nat]),
        family=family,
        given=given,
    )


@cache
def foreign_share(lg_code: str) -> float:
    """Share of foreign residents in the municipality (住民基本台帳, 2025-01-01); national share if unknown."""
    data = _rows("kiban.core.tenants", "municipalities.csv")
    by_code = {r["code"]: r for r in data}
    row = by_code.get(lg_code)
    if row is None or int(row["population_total"]) == 0:
        total = sum(int(r["population_total"]) for r in data if r["is_municipality"] == "1")
        foreign = sum(int(r["foreign_population"]) for r in data if r["is_municipality"] == "1")
        return foreign / total
    return int(row["foreign_population"]) / int(row["population_total"])
