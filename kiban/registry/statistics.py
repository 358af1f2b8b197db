"""Population statistics on a date (住民基本台帳人口): persons and households, the age pyramid, household sizes,
foreign residents, and the 異動 of the twelve months up to the date.

Computed over the columnar snapshot (``kiban.registry.snapshot.residents``, one row per resident on the date, as
known now) and the 異動 of the period (``snapshot.events_between``), vectorized with Polars, so the cost is a scan of
the municipality, not a fold per person. Ages follow 年齢計算ニ関スル法律 and 民法第143条 as
``kiban.core.dates.age_on`` does (a year older on the day before the birthday), in its columnar form ``age_on_expr``.
Monthly figures count 異動 as recorded events (届出の件数): a whole household's 転居 is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from kiban.core.dates import age_on_expr, wareki_year
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.registry import snapshot
from kiban.registry.events import EventType

BAND_YEARS = 5
OLDEST_BAND = 100
"""The last band is 「100歳以上」."""
LARGEST_HOUSEHOLD = 6
"""The last household size is 「6人以上」."""
MOVE_KINDS = (EventType.MOVE_IN, EventType.MOVE_OUT, EventType.BIRTH, EventType.DEATH, EventType.MOVE_WITHIN)
MONTHS = 12


@dataclass(frozen=True)
class AgeBand:
    low: int
    high: int | None
    """Inclusive; None for the last, open band."""
    male: int
    female: int

    @property
    def label(self) -> str:
        return f"{self.low}歳以上" if self.high is None else f"{self.low}〜{self.high}歳"


@dataclass(frozen=True)
class MonthMoves:
    month: date
    """The first day of the month."""
    counts: dict[EventType, int]
    """One entry per ``MOVE_KINDS``."""

    @property
    def label(self) -> str:
        return f"{wareki_year(self.month)}{self.month.month}月"


@dataclass(frozen=True)
class Statistics:
    on: date
    persons: int
    households: int
    male: int
    female: int
    foreigners: int
    """外国人住民 (国籍 other than JPN)."""
    pyramid: tuple[AgeBand, ...]
    """Youngest band first."""
    household_sizes: tuple[tuple[str, int], ...]
    """(「1人」, households) … (「6人以上」, households)."""
    moves: tuple[MonthMoves, ...]
    """The twelve months up to ``on`` (the last one up to ``on`` itself), oldest first."""


def _pyramid(people: pl.DataFrame, on: date) -> tuple[AgeBand, ...]:
    last = OLDEST_BAND // BAND_YEARS
    counts = (
        people.select(
            band=pl.min_horizontal(age_on_expr(pl.col("birth_date"), on) // BAND_YEARS, pl.lit(last)),
            sex=pl.col("sex"),
        )
        .group_by("band", "sex")
        .len()
    )
    found = {(int(band), str(sex)): int(n) for band, sex, n in counts.iter_rows()}
    return tuple(
        AgeBand(
            low=band * BAND_YEARS,
            high=None if band == last else band * BAND_YEARS + BAND_YEARS - 1,
            male=found.get((band, "male"), 0),
            female=found.get((band, "female"), 0),
        )
        for band in range(last + 1)
    )


def _household_sizes(people: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    sizes = (
        people.group_by("household_no")
        .len()
        .select(size=pl.col("len").clip(upper_bound=LARGEST_HOUSEHOLD))
        .group_by("size")
        .len()
    )
    found = {int(size): int(n) for size, n in sizes.iter_rows()}
    return tuple(
        (f"{size}人以上" if size == LARGEST_HOUSEHOLD else f"{size}人", found.get(size, 0))
        for size in range(1, LARGEST_HOUSEHOLD + 1)
    )


def months_up_to(on: date, count: int = MONTHS) -> list[date]:
    """The first days of the ``count`` months ending with ``on``'s, oldest first."""
    index = on.year * 12 + on.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _moves(db_session: TenantSession, actor: Principal, on: date) -> tuple[MonthMoves, ...]:
    months = months_up_to(on)
    events = snapshot.events_between(db_session, actor=actor, start=months[0], end=on)
    counts = (
        events.filter(pl.col("event_type").is_in([kind.value for kind in MOVE_KINDS]))
        .select(month=pl.col("effective_date").dt.month_start(), event_type=pl.col("event_type"))
        .group_by("month", "event_type")
        .len()
    )
    found = {(month, str(kind)): int(n) for month, kind, n in counts.iter_rows()}
    return tuple(
        MonthMoves(month, {kind: found.get((month, kind.value), 0) for kind in MOVE_KINDS}) for month in months
    )


def population_on(db_session: TenantSession, *, actor: Principal, on: date) -> Statistics:
    """The statistics of the residents on ``on`` (異動日 axis, as known now). Needs ``REGISTRY_READ``; the snapshot
    and the event list it reads are audited."""
    people = snapshot.residents(db_session, actor=actor, on=on)
    by_sex = dict(people.group_by("sex").len().iter_rows())
    return Statistics(
        on=on,
        persons=people.height,
        households=people["household_no"].n_unique(),
        male=int(by_sex.get("male", 0)),
        female=int(by_sex.get("female", 0)),
        foreigners=people.filter(pl.col("nationality") != "JPN").height,
        pyramid=_pyramid(people, on),
        household_sizes=_household_sizes(people),
        moves=_moves(db_session, actor, on),
    )
