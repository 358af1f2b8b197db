"""Ages, sexes and household structure, fully vectorised.

The generator works *persons first*: it allocates exactly ``n`` persons to the 2020 census pyramid (by sex and single
year of age), gives each person a living arrangement drawn from age/sex tables (child living with a parent, partner in
a couple, single parent, widowed parent living with a child's family, member of an other household, living alone), and
then builds households by matching:

* couples: men and women with the "partner" role are sorted by age plus noise (the woman's key shifted by two years)
  and paired rank by rank, which gives mostly small, husband-older age gaps;
* children (all minors, and adult children still living with a parent) are drawn onto couples and single parents with
  a probability proportional to a normal kernel of the mother's age at birth (mean 30.5, sd 5, limited to 18–45);
  siblings born less than 300 days apart are redrawn, and the few left over become twins;
* widowed parents join a couple whose husband is 18–45 years younger (at most one per couple);
* the remaining "other" adults share homes in twos and threes (siblings or 同居人).

The tables are tuned so that the result lands near the census target (national 2020 general households): one-person
households 38.0 % of households and 2.21 persons per household. Everything here is array arithmetic; the only Python
loops run over single years of age (≤ 111 iterations) or a fixed number of redraw rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from kiban.registry.synth.reference import MAX_AGE, pyramid

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

RELATIONSHIPS = ("世帯主", "妻", "夫", "子", "父", "母", "子の妻", "子の子", "夫の父", "夫の母", "弟", "妹", "同居人")
HEAD, WIFE, HUSBAND, CHILD, FATHER, MOTHER, CHILDS_WIFE, GRANDCHILD = range(8)
HUSBANDS_FATHER, HUSBANDS_MOTHER, BROTHER, SISTER, LODGER = range(8, 13)

HOUSEHOLD_TYPES = ("single", "couple", "couple_children", "single_parent", "three_generation", "other")
H_SINGLE, H_COUPLE, H_COUPLE_CHILDREN, H_SINGLE_PARENT, H_THREE_GENERATION, H_OTHER = range(6)

MARITAL = ("never_married", "married", "widowed", "divorced")
NEVER, MARRIED, WIDOWED, DIVORCED = range(4)

_R_CHILD, _R_PARTNER, _R_SINGLE_PARENT, _R_ELDER, _R_OTHER, _R_LONE = range(6)
_SIBLING_MIN_DAYS = 300


def table(male: dict[int, float], female: dict[int, float] | None = None) -> FloatArray:
    """A (sex, age) lookup table from piecewise-constant ``{first_age: value}`` points (female defaults to male)."""
    out = np.zeros((2, MAX_AGE + 1))
    for sex, points in enumerate((male, female if female is not None else male)):
        for start, value in sorted(points.items()):
            out[sex, start:] = value
    return out


# Probability of each living arrangement, applied in this order to the persons not yet placed.
_P_CHILD = table(
    {0: 1.0, 18: 0.80, 20: 0.64, 25: 0.44, 30: 0.31, 35: 0.25, 40: 0.21, 45: 0.18, 50: 0.15, 55: 0.10, 60: 0.04, 65: 0},
    {0: 1.0, 18: 0.78, 20: 0.60, 25: 0.38, 30: 0.25, 35: 0.19, 40: 0.16, 45: 0.14, 50: 0.12, 55: 0.08, 60: 0.03, 65: 0},
)
_P_PARTNER = table(
    {0: 0, 18: 0.02, 20: 0.10, 25: 0.45, 30: 0.72, 35: 0.80, 45: 0.80, 60: 0.82, 65: 0.84, 70: 0.85, 75: 0.84,
     80: 0.80, 85: 0.70, 90: 0.50, 95: 0.30},
    {0: 0, 18: 0.04, 20: 0.15, 25: 0.55, 30: 0.76, 35: 0.80, 40: 0.79, 45: 0.78, 50: 0.77, 55: 0.76, 60: 0.75,
     65: 0.72, 70: 0.65, 75: 0.55, 80: 0.38, 85: 0.20, 90: 0.08, 95: 0.03},
) * 0.96  # fmt: skip
_P_SINGLE_PARENT = table(
    {0: 0, 25: 0.06, 55: 0.15, 70: 0.20, 85: 0.10}, {0: 0, 20: 0.25, 25: 0.35, 55: 0.45, 70: 0.45, 85: 0.30}
)
_P_ELDER = table({0: 0, 65: 0.10, 70: 0.22, 75: 0.28, 80: 0.35, 85: 0.40})
_P_OTHER = table({0: 0, 18: 0.18, 65: 0.08})
_P_WIDOWED = table(
    {0: 0, 50: 0.02, 60: 0.06, 65: 0.15, 70: 0.25, 75: 0.40, 80: 0.55, 85: 0.70},
    {0: 0, 40: 0.02, 50: 0.05, 60: 0.15, 65: 0.30, 70: 0.50, 75: 0.65, 80: 0.80, 85: 0.90},
)
_P_DIVORCED = table({0: 0, 25: 0.05, 30: 0.12, 40: 0.20, 50: 0.25, 65: 0.20, 75: 0.12})


@dataclass(frozen=True)
class Structure:
    """Persons (index 0..n-1) and households (index 0..h-1) as parallel arrays."""

    age: IntArray
    female: BoolArray
    birth: IntArray  # days since 1970-01-01
    household: IntArray  # household index of each person
    relationship: IntArray  # index into RELATIONSHIPS
    marital: IntArray  # index into MARITAL
    shares_surname: BoolArray  # False for 同居人, who keep their own family name
    household_type: IntArray  # per household, index into HOUSEHOLD_TYPES
    head: IntArray  # per household, the person index of the 世帯主


def allocate_ages(n: int, rng: np.random.Generator) -> tuple[IntArray, BoolArray]:
    """Exactly ``n`` persons spread over the pyramid's (sex, age) cells by largest remainders, in random order."""
    share = pyramid().share.ravel()
    raw = share * n
    counts = np.floor(raw).astype(np.int64)
    remainder = n - int(counts.sum())
    counts[np.argsort(-(raw - counts), kind="stable")[:remainder]] += 1
    cells = rng.permutation(np.repeat(np.arange(len(share), dtype=np.int64), counts))
    return cells % (MAX_AGE + 1), cells >= MAX_AGE + 1


def shift_years(when: date, years: IntArray) -> IntArray:
    """``when`` moved back by ``years`` (same month and day; 29 February becomes 1 March), as days since epoch."""
    months = (when.year - years - 1970) * 12 + (when.month - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + (when.day - 1)


def birth_dates(age: IntArray, as_of: date, rng: np.random.Generator) -> IntArray:
    """A uniformly random birth date giving exactly ``age`` completed years on ``as_of``."""
    latest = shift_years(as_of, age)
    earliest = shift_years(as_of, age + 1) + 1
    return earliest + np.floor(rng.random(len(age)) * (latest - earliest + 1)).astype(np.int64)


def age_on(birth: IntArray, when: date) -> IntArray:
    """Completed years on ``when`` for birth dates given as days since epoch."""
    days = birth.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    not_yet = _month_day_key(days) > (when.month - 1) * 32 + (when.day - 1)
    return (when.year - years - not_yet).astype(np.int64)


def _month_day_key(days: npt.NDArray[np.datetime64]) -> IntArray:
    months = days.astype("datetime64[M]")
    month: IntArray = months.astype(np.int64) % 12
    day: IntArray = (days - months.astype("datetime64[D]")).astype(np.int64)
    return month * 32 + day


def draw_units(
    rng: np.random.Generator,
    member_age: IntArray,
    unit_age: IntArray,
    unit_weight: FloatArray,
    gap: tuple[float, float, int, int],
) -> IntArray:
    """For each member, a unit whose age exceeds the member's by ``lo..hi`` years (−1 if none).

    Units are chosen with probability ∝ weight × normal kernel(age gap; mean, sd) — ``gap = (mean, sd, lo, hi)``.
    """
    mean, sd, lo, hi = gap
    result = np.full(len(member_age), -1, dtype=np.int64)
    if len(unit_age) == 0 or len(member_age) == 0:
        return result
    order = np.argsort(unit_age, kind="stable")
    cumulative = np.cumsum(unit_weight[order])
    width = np.bincount(unit_age, weights=unit_weight, minlength=MAX_AGE + 1)
    start = np.concatenate([[0.0], np.cumsum(width)])[:-1]
    gaps = np.arange(lo, hi + 1)
    kernel = np.exp(-0.5 * ((gaps - mean) / sd) ** 2)
    member_order = np.argsort(member_age, kind="stable")
    bounds = np.searchsorted(member_age[member_order], np.arange(MAX_AGE + 2))
    for child_age in range(MAX_AGE + 1):
        s, e = int(bounds[child_age]), int(bounds[child_age + 1])
        if s == e:
            continue
        target = child_age + gaps
        valid = (target >= 0) & (target <= MAX_AGE)
        p = np.zeros(len(gaps))
        p[valid] = width[target[valid]] * kernel[valid]
        total = p.sum()
        if total <= 0:
            continue
        pick = np.minimum(np.searchsorted(np.cumsum(p) / total, rng.random(e - s), side="right"), len(gaps) - 1)
        chosen_age = target[pick]
        r = start[chosen_age] + rng.random(e - s) * width[chosen_age]
        position = np.minimum(np.searchsorted(cumulative, r, side="right"), len(cumulative) - 1)
        result[member_order[s:e]] = order[position]
    found = result >= 0
    difference = np.where(found, unit_age[np.maximum(result, 0)] - member_age, lo)
    return np.where(found & (difference >= lo) & (difference <= hi), result, -1)


def _sibling_conflicts(unit: IntArray, birth: IntArray) -> BoolArray:
    """Children of the same unit born 1..299 days after an older sibling (the younger one is flagged)."""
    order = np.lexsort((birth, unit))
    u, b = unit[order], birth[order]
    diff = b[1:] - b[:-1]
    bad = (u[1:] == u[:-1]) & (u[1:] >= 0) & (diff > 0) & (diff < _SIBLING_MIN_DAYS)
    mask = np.zeros(len(unit), dtype=bool)
    mask[order[1:][bad]] = True
    return mask


def _make_twins(unit: IntArray, birth: IntArray) -> IntArray:
    """Give each remaining too-close younger sibling the older sibling's birth date (twins)."""
    birth = birth.copy()
    for _ in range(8):
        order = np.lexsort((birth, unit))
        u, b = unit[order], birth[order]
        diff = b[1:] - b[:-1]
        bad = (u[1:] == u[:-1]) & (u[1:] >= 0) & (diff > 0) & (diff < _SIBLING_MIN_DAYS)
        if not bad.any():
            break
        birth[order[1:][bad]] = b[:-1][bad]
    return birth


def _roles(age: IntArray, sex: IntArray, rng: np.random.Generator) -> IntArray:
    role = np.full(len(age), _R_LONE, dtype=np.int64)
    free = np.ones(len(age), dtype=bool)
    for code, probability in (
        (_R_CHILD, _P_CHILD),
        (_R_PARTNER, _P_PARTNER),
        (_R_SINGLE_PARENT, _P_SINGLE_PARENT),
        (_R_ELDER, _P_ELDER),
        (_R_OTHER, _P_OTHER),
    ):
        hit = free & (rng.random(len(age)) < probability[sex, age])
        role[hit] = code
        free &= ~hit
    return role


def _pair_couples(
    age: IntArray, female: BoolArray, role: IntArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Quantile-match partnered men and women by noisy age; the unmatched surplus lives alone."""
    men = np.flatnonzero((role == _R_PARTNER) & ~female)
    women = np.flatnonzero((role == _R_PARTNER) & female)
    men = men[np.argsort(age[men] + rng.normal(0, 2.5, len(men)), kind="stable")]
    women = women[np.argsort(age[women] + 2.0 + rng.normal(0, 2.5, len(women)), kind="stable")]
    k = min(len(men), len(women))

    def keep(sorted_people: IntArray) -> IntArray:
        chosen = np.round(np.linspace(0, len(sorted_people) - 1, k)).astype(np.int64) if k else np.empty(0, np.int64)
        surplus = np.setdiff1d(np.arange(len(sorted_people)), chosen)
        role[sorted_people[surplus]] = _R_LONE
        return sorted_people[chosen]

    return keep(men), keep(women)


def _first_claims(claim: IntArray) -> IntArray:
    """Indices of the first member claiming each unit (members with claim −1 are ignored)."""
    assigned = np.flatnonzero(claim >= 0)
    return assigned[np.unique(claim[assigned], return_index=True)[1]]


def build(n: int, as_of: date, rng: np.random.Generator) -> Structure:
    """Persons and households for ``n`` residents."""
    age, female = allocate_ages(n, rng)
    sex = female.astype(np.int64)
    birth = birth_dates(age, as_of, rng)
    role = _roles(age, sex, rng)
    husbands, wives = _pair_couples(age, female, role, rng)
    k = len(husbands)

    # --- children onto couples and single parents ---------------------------------------------------------------
    single_parents = np.flatnonzero(role == _R_SINGLE_PARENT)
    parent_age = np.concatenate([age[wives], age[single_parents] - 2 * (~female[single_parents])])
    parent_weight = np.concatenate([np.ones(k), np.full(len(single_parents), 2.0)])
    children = np.flatnonzero(role == _R_CHILD)
    mother_gap = (30.5, 5.0, 19, 45)  # twins (below) may bring a gap down to 18
    unit = draw_units(rng, age[children], parent_age, parent_weight, mother_gap)
    for _ in range(4):
        redo = _sibling_conflicts(unit, birth[children])
        if not redo.any():
            break
        unit[redo] = draw_units(rng, age[children[redo]], parent_age, parent_weight, mother_gap)
    minors_left = (unit < 0) & (age[children] < 18)
    if minors_left.any():  # only in tiny populations: widen the window, then take any parent at all
        unit[minors_left] = draw_units(rng, age[children[minors_left]], parent_age, parent_weight, (30, 12, 14, 80))
        minors_left = (unit < 0) & (age[children] < 18)
        if minors_left.any() and len(parent_age):
            unit[minors_left] = rng.integers(0, len(parent_age), int(minors_left.sum()))
    role[children[unit < 0]] = _R_LONE
    children, unit = children[unit >= 0], unit[unit >= 0]
    birth[children] = _make_twins(unit, birth[children])
    age[children] = age_on(birth[children], as_of)
    kids_per_unit = np.bincount(unit, minlength=len(parent_age))

    # --- widowed parents join a couple -------------------------------------------------------------------------------
    elders = np.flatnonzero(role == _R_ELDER)
    couple_weight = np.where(kids_per_unit[:k] > 0, 3.0, 1.0)
    elder_gap = (-30.0, 5.0, -45, -18)  # husband's age minus the elder's
    elder_couple = draw_units(rng, age[elders], age[husbands], couple_weight, elder_gap)
    for _ in range(3):  # at most one widowed parent per couple: redraw the others onto couples still free
        first = _first_claims(elder_couple)
        duplicate = elder_couple >= 0
        duplicate[first] = False
        if not duplicate.any():
            break
        taken = np.zeros(k, dtype=bool)
        taken[elder_couple[first]] = True
        elder_couple[duplicate] = draw_units(
            rng, age[elders[duplicate]], age[husbands], np.where(taken, 0.0, couple_weight), elder_gap
        )
    keep_elder = np.zeros(len(elders), dtype=bool)
    keep_elder[_first_claims(elder_couple)] = True
    role[elders[~keep_elder]] = _R_LONE
    elders, elder_couple = elders[keep_elder], elder_couple[keep_elder]

    return _assemble(
        age, female, birth, role, rng, husbands, wives, single_parents, children, unit, elders, elder_couple
    )


def _assemble(
    age: IntArray,
    female: BoolArray,
    birth: IntArray,
    role: IntArray,
    rng: np.random.Generator,
    husbands: IntArray,
    wives: IntArray,
    single_parents: IntArray,
    children: IntArray,
    unit: IntArray,
    elders: IntArray,
    elder_couple: IntArray,
) -> Structure:
    n = len(age)
    k = len(husbands)
    household = np.full(n, -1, dtype=np.int64)
    relationship = np.full(n, HEAD, dtype=np.int64)
    shares_surname = np.ones(n, dtype=bool)
    kids_per_unit = np.bincount(unit, minlength=k + len(single_parents))

    # couples (households 0..k-1)
    has_children = kids_per_unit[:k] > 0
    has_elder = np.zeros(k, dtype=bool)
    has_elder[elder_couple] = True
    wife_head = rng.random(k) < 0.05
    elder_head = has_elder & ~wife_head & (rng.random(k) < 0.4)
    household[husbands] = np.arange(k)
    household[wives] = np.arange(k)
    relationship[husbands] = np.select([wife_head, elder_head], [HUSBAND, CHILD], HEAD)
    relationship[wives] = np.select([wife_head, elder_head], [HEAD, CHILDS_WIFE], WIFE)
    household[elders] = elder_couple
    elder_female = female[elders]
    relationship[elders] = np.select(
        [elder_head[elder_couple], wife_head[elder_couple]],
        [HEAD, np.where(elder_female, HUSBANDS_MOTHER, HUSBANDS_FATHER)],
        np.where(elder_female, MOTHER, FATHER),
    )
    couple_type = np.select(
        [has_children & has_elder, has_elder, has_children], [H_THREE_GENERATION, H_OTHER, H_COUPLE_CHILDREN], H_COUPLE
    )

    # single parents who have at least one child
    with_kids = kids_per_unit[k:] > 0
    role[single_parents[~with_kids]] = _R_LONE
    sp_household = np.full(len(single_parents), -1, dtype=np.int64)
    sp_household[with_kids] = k + np.arange(int(with_kids.sum()))
    household[single_parents[with_kids]] = sp_household[with_kids]
    next_index = k + int(with_kids.sum())

    # children
    of_couple = unit < k
    household[children[of_couple]] = unit[of_couple]
    relationship[children[of_couple]] = np.where(elder_head[unit[of_couple]], GRANDCHILD, CHILD)
    household[children[~of_couple]] = sp_household[unit[~of_couple] - k]
    relationship[children[~of_couple]] = CHILD

    # others share homes in twos and threes; the oldest is 世帯主
    others = np.flatnonzero(role == _R_OTHER)
    others = others[np.argsort(age[others] + rng.normal(0, 6, len(others)), kind="stable")]
    sizes = rng.choice(np.array([2, 2, 2, 3]), size=len(others) // 2 + 1)
    group = np.repeat(np.arange(len(sizes)), sizes)[: len(others)]
    n_groups = int(group.max()) + 1 if len(group) else 0
    household[others] = next_index + group
    order = np.lexsort((-age[others], group))
    is_first = np.ones(len(others), dtype=bool)
    is_first[1:] = group[order][1:] != group[order][:-1]
    siblings = rng.random(n_groups) < 0.5
    member = others[order][~is_first]
    member_group = group[order][~is_first]
    relationship[member] = np.where(siblings[member_group], np.where(female[member], SISTER, BROTHER), LODGER)
    shares_surname[member] = siblings[member_group]
    group_size = np.bincount(group, minlength=n_groups)
    next_index += n_groups

    # everyone else lives alone
    alone = np.flatnonzero(household < 0)
    household[alone] = next_index + np.arange(len(alone))
    relationship[alone] = HEAD
    total = next_index + len(alone)

    household_type = np.concatenate(
        [
            couple_type,
            np.full(int(with_kids.sum()), H_SINGLE_PARENT),
            np.where(group_size > 1, H_OTHER, H_SINGLE),
            np.full(len(alone), H_SINGLE),
        ]
    ).astype(np.int64)

    # shuffle household numbering so that types are interleaved
    permutation = rng.permutation(total)
    household = permutation[household]
    shuffled_type = np.empty(total, dtype=np.int64)
    shuffled_type[permutation] = household_type
    head = np.full(total, -1, dtype=np.int64)
    heads = np.flatnonzero(relationship == HEAD)
    head[household[heads]] = heads

    marital = _marital(age, female, role, rng)
    return Structure(age, female, birth, household, relationship, marital, shares_surname, shuffled_type, head)


def _marital(age: IntArray, female: BoolArray, role: IntArray, rng: np.random.Generator) -> IntArray:
    sex = female.astype(np.int64)
    u = rng.random(len(age))
    widowed = u < _P_WIDOWED[sex, age]
    divorced = ~widowed & (u < _P_WIDOWED[sex, age] + _P_DIVORCED[sex, age])
    marital = np.select([widowed, divorced], [WIDOWED, DIVORCED], NEVER)
    older_parent = age >= 60
    sp = np.select(
        [older_parent & (u < 0.65), older_parent & (u < 0.90), u < 0.80, u < 0.88],
        [WIDOWED, DIVORCED, DIVORCED, WIDOWED],
        NEVER,
    )
    marital = np.where(role == _R_SINGLE_PARENT, sp, marital)
    marital = np.where(role == _R_CHILD, np.where((age >= 25) & (u < 0.08), DIVORCED, NEVER), marital)
    marital = np.where(role == _R_PARTNER, MARRIED, marital)
    marital = np.where(role == _R_ELDER, WIDOWED, marital)
    return np.where(age < 18, NEVER, marital).astype(np.int64)
