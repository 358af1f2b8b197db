"""Incomes (yen per year) and the welfare-related flags the registry's consumers (tax, benefits) read.

Rough national shapes, not any municipality's statistics:

* 給与収入: employment probability by age and sex; log-normal amounts whose medians follow a typical age–wage curve
  (overall median of 20–64-year-old employees ≈ 4 million yen); students 16–22 work part-time for small amounts.
* 公的年金等の収入: 96 % of people 65+ (log-normal, median ≈ 2.0 million for men, 1.4 million for women);
  some survivors' and disability pensions below 65.
* 事業所得: about 7 % of adults run a business or farm (more men, more at 65+); 8 % of them report a loss.
* 障害者 (≈ 5 %, a third 特別障害者), 要支援/要介護 (1–7 = 要支援1–要介護5, mostly 75+), 生活保護 (≈ 1.6 % of
  persons, whole households, mostly older people living alone and single parents).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kiban.registry.synth.households import H_SINGLE, H_SINGLE_PARENT, WIDOWED, table

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

DISABILITY = ("none", "ordinary", "special")
WELFARE_SHARE = 0.016

_P_EMPLOYED = table(
    {0: 0, 15: 0.15, 20: 0.75, 25: 0.85, 60: 0.72, 65: 0.50, 70: 0.30, 75: 0.08, 85: 0.02},
    {0: 0, 15: 0.15, 20: 0.72, 25: 0.70, 60: 0.55, 65: 0.35, 70: 0.20, 75: 0.04, 85: 0.01},
)
_SALARY_MEDIAN = table(
    {0: 0, 15: 800_000, 20: 2_900_000, 25: 3_900_000, 30: 4_500_000, 35: 5_000_000, 40: 5_500_000, 45: 5_900_000,
     50: 6_200_000, 55: 6_100_000, 60: 4_300_000, 65: 2_800_000, 70: 2_000_000},
    {0: 0, 15: 600_000, 20: 2_600_000, 25: 3_200_000, 30: 3_000_000, 35: 2_800_000, 40: 2_700_000, 50: 2_700_000,
     55: 2_500_000, 60: 1_900_000, 65: 1_300_000},
)  # fmt: skip
_P_SELF_EMPLOYED = table(
    {0: 0, 20: 0.03, 25: 0.06, 40: 0.10, 65: 0.14, 80: 0.05}, {0: 0, 25: 0.03, 40: 0.05, 65: 0.05, 80: 0.02}
)
_P_STUDENT = table({0: 0, 16: 0.95, 19: 0.55, 23: 0.10, 25: 0.03, 30: 0.01, 40: 0})
_P_DISABLED = table({0: 0.015, 18: 0.025, 40: 0.04, 65: 0.07, 75: 0.10})
_P_CARE = table({0: 0, 40: 0.004, 65: 0.03, 70: 0.06, 75: 0.12, 80: 0.26, 85: 0.48, 90: 0.72})
_CARE_LEVELS = np.array([0.14, 0.14, 0.21, 0.17, 0.13, 0.12, 0.09])


@dataclass(frozen=True)
class Circumstances:
    student: BoolArray
    disability: IntArray  # index into DISABILITY
    care_need_level: IntArray  # 0 none, 1..7 要支援1..要介護5
    welfare_recipient: BoolArray
    salary_income: IntArray
    pension_income: IntArray
    business_income: IntArray


def _lognormal(rng: np.random.Generator, median: FloatArray, sigma: float | FloatArray) -> FloatArray:
    return median * np.exp(rng.normal(0.0, 1.0, len(median)) * sigma)


def _round_thousand(values: FloatArray) -> IntArray:
    return (np.round(values / 1000) * 1000).astype(np.int64)


def circumstances(
    rng: np.random.Generator,
    age: IntArray,
    female: BoolArray,
    marital: IntArray,
    household: IntArray,
    household_type: IntArray,
    head: IntArray,
) -> Circumstances:
    """Flags and incomes for every person."""
    n = len(age)
    sex = female.astype(np.int64)
    student = rng.random(n) < _P_STUDENT[sex, age]
    disabled = rng.random(n) < _P_DISABLED[sex, age]
    disability = np.where(disabled, np.where(rng.random(n) < 0.35, 2, 1), 0).astype(np.int64)
    cared = rng.random(n) < _P_CARE[sex, age]
    level = 1 + np.searchsorted(np.cumsum(_CARE_LEVELS) / _CARE_LEVELS.sum(), rng.random(n), side="right")
    care_need_level = np.where(cared, np.minimum(level, 7), 0).astype(np.int64)

    # business (事業所得) first, then salaries among the others
    self_employed = ~student & ~cared & (rng.random(n) < _P_SELF_EMPLOYED[sex, age])
    business = np.where(self_employed, _lognormal(rng, np.full(n, 2_200_000.0), 0.8), 0.0)
    loss = self_employed & (rng.random(n) < 0.08)
    business = np.where(loss, -rng.uniform(50_000, 1_500_000, n), business)

    # salary
    employable = ~self_employed & (rng.random(n) < np.where(disability > 0, 0.5, 1.0) * np.where(cared, 0.1, 1.0))
    employed = employable & (rng.random(n) < _P_EMPLOYED[sex, age])
    employed = np.where(student, rng.random(n) < 0.35, employed)
    sigma = np.where(female, 0.7, 0.55)
    salary = np.where(student, np.minimum(_lognormal(rng, np.full(n, 600_000.0), 0.6), 1_500_000), 0.0)
    salary = np.where(employed & ~student, _lognormal(rng, _SALARY_MEDIAN[sex, age], sigma), salary)
    salary = np.where(employed, np.clip(salary, 100_000, 30_000_000), 0.0)

    # pensions
    old_age = (age >= 65) & (rng.random(n) < 0.96)
    pension = np.where(old_age, _lognormal(rng, np.where(female, 1_400_000.0, 2_000_000.0), 0.35), 0.0)
    early = (age >= 60) & (age < 65) & (rng.random(n) < 0.10)
    pension = np.where(early, _lognormal(rng, np.full(n, 1_000_000.0), 0.3), pension)
    disability_pension = (age >= 20) & (age < 65) & (disability > 0) & (rng.random(n) < 0.6)
    pension = np.where(disability_pension, _lognormal(rng, np.full(n, 900_000.0), 0.2), pension)
    survivor = (age < 65) & (marital == WIDOWED) & female & (rng.random(n) < 0.5)
    pension = np.where(survivor, pension + _lognormal(rng, np.full(n, 1_200_000.0), 0.3), pension)
    pension = np.clip(pension, 0, 6_000_000)

    welfare = _welfare_households(rng, age, household, household_type, head, disability)[household]
    salary = np.where(welfare, np.where(rng.random(n) < 0.7, 0.0, salary * 0.3), salary)
    business = np.where(welfare, 0.0, business)
    pension = np.where(welfare, np.minimum(pension, 800_000), pension)
    return Circumstances(
        student=student,
        disability=disability,
        care_need_level=care_need_level,
        welfare_recipient=welfare,
        salary_income=_round_thousand(salary),
        pension_income=_round_thousand(pension),
        business_income=_round_thousand(business),
    )


def _welfare_households(
    rng: np.random.Generator,
    age: IntArray,
    household: IntArray,
    household_type: IntArray,
    head: IntArray,
    disability: IntArray,
) -> BoolArray:
    """Households receiving 生活保護 until about ``WELFARE_SHARE`` of persons are covered."""
    size = np.bincount(household, minlength=len(head))
    head_age = age[head]
    weight = np.select(
        [
            (household_type == H_SINGLE) & (head_age >= 65),
            household_type == H_SINGLE_PARENT,
            (household_type == H_SINGLE) & (head_age >= 40),
            household_type == H_SINGLE,
        ],
        [6.0, 4.0, 3.0, 1.0],
        0.25,
    ) * np.where(disability[head] > 0, 3.0, 1.0)
    key = np.log(rng.random(len(head))) / weight
    order = np.argsort(-key, kind="stable")
    covered = np.cumsum(size[order])
    chosen = np.zeros(len(head), dtype=bool)
    chosen[order[: int(np.searchsorted(covered, WELFARE_SHARE * size.sum()))]] = True
    return chosen
