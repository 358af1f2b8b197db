"""A few years of register history before ``as_of``: births, deaths, 転入, 転出 and 転居.

Kept deliberately simple, but consistent with the current population:

* some households moved in (転入) during the window, young heads more often; members born before the move-in date
  get a ``move_in`` event on that date, members born after it a ``birth`` event;
* everyone else born during the window has a ``birth`` event on their birth date;
* some other households moved within the municipality (転居), one ``move_within`` event per member then alive;
* departed persons (``persons_departed``) are the deceased — half of them the late spouse of a widowed person now
  living alone (same household number), the rest old people whose one-person household was closed — and the moved
  out: adult children who left a family household, and single persons or couples whose household left with them.

``recorded_date`` follows the 住民基本台帳法 deadlines: births within 14 days, deaths within 7 days, 転入/転居 within
14 days after moving; a 転出届 is filed up to 14 days before the move. All recorded dates are on or before ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from kiban.registry.synth.addresses import bodies_by_code
from kiban.registry.synth.households import (
    CHILD,
    H_COUPLE_CHILDREN,
    H_SINGLE,
    H_SINGLE_PARENT,
    HEAD,
    WIDOWED,
    WIFE,
    Structure,
    shift_years,
    table,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

EVENT_TYPES = ("birth", "death", "move_in", "move_out", "move_within")
BIRTH, DEATH, MOVE_IN, MOVE_OUT, MOVE_WITHIN = range(5)
DEPARTURES = ("death", "move_out")

DEATH_RATE = 0.0111  # per person and year (人口動態統計 2020: 1,372,755 deaths)
MOVE_OUT_RATE = 0.02  # per person and year, persons leaving the municipality (kept modest)
_P_MOVED_IN = table({0: 0, 18: 0.30, 25: 0.30, 35: 0.15, 50: 0.07, 65: 0.04})  # per 3 years, by head's age
_P_MOVED_WITHIN = 0.10  # per 3 years, households that did not move in
_DEATH_AGES = (np.array([40, 65, 75, 85, 95, 106]), np.array([0.10, 0.14, 0.28, 0.38, 0.10]))


@dataclass(frozen=True)
class Departed:
    """Persons no longer resident; ``household`` may point past the current households (closed households)."""

    female: BoolArray
    birth: IntArray
    household: IntArray
    relationship: IntArray
    departure: IntArray  # index into DEPARTURES
    departure_date: IntArray
    other_lg_code: StrArray  # "" when not a move


@dataclass(frozen=True)
class Events:
    """Person indices count current residents first (0..n-1), then departed persons (n..)."""

    person: IntArray
    household: IntArray
    event_type: IntArray
    event_date: IntArray
    recorded_date: IntArray
    other_lg_code: StrArray  # the municipality moved from (move_in) or to (move_out), else ""


@dataclass(frozen=True)
class History:
    resident_since: IntArray
    address_since: IntArray
    departed: Departed
    closed_households: int
    events: Events


def _uniform_days(rng: np.random.Generator, low: int | IntArray, high: int | IntArray, count: int) -> IntArray:
    """Uniform integer days in ``[low, high]``."""
    low_a = np.broadcast_to(np.asarray(low, dtype=np.int64), (count,))
    high_a = np.broadcast_to(np.asarray(high, dtype=np.int64), (count,))
    return low_a + np.floor(rng.random(count) * (high_a - low_a + 1)).astype(np.int64)


def _other_municipalities(rng: np.random.Generator, lg_code: str, count: int) -> StrArray:
    """Municipalities people move from or to, weighted by population (never the municipality itself)."""
    bodies = [b for b in bodies_by_code().values() if b.is_municipality and b.lg_code != lg_code and b.population > 0]
    weight = np.array([b.population for b in bodies], dtype=np.float64)
    codes = np.array([b.lg_code for b in bodies], dtype="<U6")
    return codes[rng.choice(len(bodies), size=count, p=weight / weight.sum())]


def history(
    rng: np.random.Generator,
    lg_code: str,
    s: Structure,
    household_is_foreign: BoolArray,
    as_of: date,
    years: int,
) -> History:
    n = len(s.age)
    h = len(s.head)
    today = int(np.datetime64(as_of, "D").astype(np.int64))
    start = int(shift_years(as_of, np.array([years], dtype=np.int64))[0])
    latest = today - 15
    scale = years / 3.0
    head_age = s.age[s.head]
    head_sex = s.female[s.head].astype(np.int64)

    moved_in = rng.random(h) < np.minimum(_P_MOVED_IN[head_sex, head_age] * scale, 0.9)
    move_in_date = _uniform_days(rng, start, latest, h)
    moved_within = ~moved_in & (rng.random(h) < min(_P_MOVED_WITHIN * scale, 0.9))
    move_date = _uniform_days(rng, start, latest, h)

    # --- current residents ------------------------------------------------------------------------------------------
    in_date = move_in_date[s.household]
    arrived = moved_in[s.household] & (s.birth < in_date)
    born_here_in_window = (s.birth >= start) & ~arrived
    older = ~arrived & ~born_here_in_window
    born_here = rng.random(n) < 0.35
    earlier = np.minimum(s.birth + np.floor(rng.random(n) * np.maximum(start - s.birth, 1)), start - 1)
    resident_since = np.select([arrived, born_here_in_window, older & born_here], [in_date, s.birth, s.birth], earlier)
    resident_since = resident_since.astype(np.int64)
    within = moved_within[s.household] & (s.birth < move_date[s.household])
    # the household settled at its current address some time between the head's 20th birthday (or arrival) and the
    # window; members who came later (births, arrivals) date from their own registration
    adult_head = np.maximum(resident_since[s.head], s.birth[s.head] + 20 * 365)
    settle = adult_head + np.floor(rng.random(h) * np.maximum(start - adult_head, 0)).astype(np.int64)
    settle = np.minimum(settle, start - 1)
    address_since = np.where(within, move_date[s.household], np.maximum(resident_since, settle[s.household]))

    births = np.flatnonzero(born_here_in_window)
    arrivals = np.flatnonzero(arrived)
    moves = np.flatnonzero(within)

    departed, closed, departed_events = _departed(rng, lg_code, s, household_is_foreign, start, latest, years)
    person = np.concatenate([births, arrivals, moves, n + np.arange(len(departed.birth))])
    household = np.concatenate([s.household[births], s.household[arrivals], s.household[moves], departed.household])
    event_type = np.concatenate(
        [
            np.full(len(births), BIRTH),
            np.full(len(arrivals), MOVE_IN),
            np.full(len(moves), MOVE_WITHIN),
            np.where(departed.departure == 0, DEATH, MOVE_OUT),
        ]
    ).astype(np.int64)
    event_date = np.concatenate([s.birth[births], in_date[arrivals], move_date[s.household[moves]], departed_events])
    delay = np.select(
        [event_type == BIRTH, event_type == DEATH, event_type == MOVE_OUT],
        [rng.integers(1, 15, len(person)), rng.integers(0, 8, len(person)), -rng.integers(0, 15, len(person))],
        rng.integers(0, 15, len(person)),
    )
    recorded = np.minimum(event_date + delay, today).astype(np.int64)
    arrival_from = _other_municipalities(rng, lg_code, h)
    none = np.full(len(births), "", dtype="<U6")
    other = np.concatenate(
        [none, arrival_from[s.household[arrivals]], np.full(len(moves), "", dtype="<U6"), departed.other_lg_code]
    )
    events = Events(person, household.astype(np.int64), event_type, event_date.astype(np.int64), recorded, other)
    return History(resident_since, address_since.astype(np.int64), departed, closed, events)


def _departed(
    rng: np.random.Generator,
    lg_code: str,
    s: Structure,
    household_is_foreign: BoolArray,
    start: int,
    latest: int,
    years: int,
) -> tuple[Departed, int, IntArray]:
    n = len(s.age)
    h = len(s.head)
    deaths = round(n * DEATH_RATE * years)
    leavers = round(n * MOVE_OUT_RATE * years)

    # deceased spouses of widowed people who now live alone
    lone_widowed = np.flatnonzero(
        (s.marital == WIDOWED)
        & (s.relationship == HEAD)
        & (s.household_type[s.household] == H_SINGLE)
        & (s.age >= 60)
        & ~household_is_foreign[s.household]
    )
    spouses = rng.permutation(lone_widowed)[: min(deaths // 2, len(lone_widowed))]
    spouse_female = ~s.female[spouses]
    spouse_date = _uniform_days(rng, start, latest, len(spouses))
    widow_age = s.age[spouses] - (latest - spouse_date) // 365
    spouse_age = np.clip(widow_age + np.where(spouse_female, -2, 2) + np.round(rng.normal(0, 3, len(spouses))), 50, 105)

    # old people living alone whose household closed
    others = deaths - len(spouses)
    edges, weights = _DEATH_AGES
    band = rng.choice(len(weights), size=others, p=weights / weights.sum())
    lone_age = edges[band] + np.floor(rng.random(others) * (edges[band + 1] - edges[band])).astype(np.int64)
    lone_date = _uniform_days(rng, start, latest, others)

    # adult children who left a family household
    family = np.flatnonzero(
        np.isin(s.household_type, [H_COUPLE_CHILDREN, H_SINGLE_PARENT])
        & (s.age[s.head] >= 45)
        & (s.age[s.head] <= 70)
        & ~household_is_foreign
    )
    children_out = min(int(leavers * 0.4), len(family))
    child_household = rng.choice(family, size=children_out) if len(family) else np.empty(0, dtype=np.int64)
    child_age = s.age[s.head[child_household]] - 30 + rng.integers(-6, 7, children_out)
    child_age = np.clip(child_age, 18, 40)
    child_date = _uniform_days(rng, start + 15, latest, children_out)

    # single persons and couples who left together
    rest = leavers - children_out
    couples = int(rest * 0.3) // 2
    singles = rest - 2 * couples
    single_age = 18 + np.floor(rng.gamma(2.0, 5.0, singles)).astype(np.int64)
    couple_age = 25 + np.floor(rng.gamma(2.0, 4.0, couples)).astype(np.int64)
    single_date = _uniform_days(rng, start + 15, latest, singles)
    couple_date = _uniform_days(rng, start + 15, latest, couples)

    # closed households: lone deceased, single leavers, couple leavers
    lone_household = h + np.arange(others)
    single_household = h + others + np.arange(singles)
    couple_household = h + others + singles + np.arange(couples)
    closed = others + singles + couples

    female = np.concatenate(
        [
            spouse_female,
            rng.random(others) < 0.55,
            rng.random(children_out) < 0.5,
            rng.random(singles) < 0.45,
            np.zeros(couples, dtype=bool),
            np.ones(couples, dtype=bool),
        ]
    )
    age_at = np.concatenate(
        [spouse_age, lone_age, child_age, single_age, couple_age, couple_age - 2 + rng.integers(-2, 3, couples)]
    ).astype(np.int64)
    when = np.concatenate([spouse_date, lone_date, child_date, single_date, couple_date, couple_date])
    household = np.concatenate(
        [s.household[spouses], lone_household, child_household, single_household, couple_household, couple_household]
    ).astype(np.int64)
    relationship = np.concatenate(
        [
            np.where(spouse_female, WIFE, HEAD),
            np.full(others, HEAD),
            np.full(children_out, CHILD),
            np.full(singles, HEAD),
            np.full(couples, HEAD),
            np.full(couples, WIFE),
        ]
    ).astype(np.int64)
    departure = np.concatenate([np.zeros(len(spouses) + others), np.ones(children_out + singles + 2 * couples)])
    birth = when - np.floor((age_at + rng.random(len(age_at))) * 365.2425).astype(np.int64)
    moving = children_out + singles + 2 * couples
    destinations = _other_municipalities(rng, lg_code, children_out + singles + couples)
    couple_to = destinations[children_out + singles :]
    other = np.concatenate([np.full(len(departure) - moving, "", dtype="<U6"), destinations, couple_to])
    departed = Departed(
        female=female.astype(bool),
        birth=birth.astype(np.int64),
        household=household,
        relationship=relationship,
        departure=departure.astype(np.int64),
        departure_date=when.astype(np.int64),
        other_lg_code=other,
    )
    return departed, closed, when.astype(np.int64)
