"""Population statistics on a date, checked against figures the test works out itself from what it registered:
the age pyramid (legal ages, at band boundaries), household sizes, foreigners, and the 異動 per month; before and
after a 転出; on SQLite and PostgreSQL. And the SVG charts drawn from them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from kiban.core.dates import age_on
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Role
from kiban.registry import charts, service
from kiban.registry.statistics import Statistics, population_on

from conftest import TestDatabase
from residents import TODAY, A, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
MARUNOUCHI = {"postal_code": "1000005", "town": "丸の内一丁目"}


@dataclass
class Resident:
    person_no: str
    household_no: str
    birth_date: date
    sex: str
    arrived: date
    left: date | None = None
    foreign: bool = False


@dataclass
class Town:
    """What the test registered: the people, and every 異動 as (異動日, 異動事由)."""

    people: list[Resident] = field(default_factory=list)
    moves: list[tuple[date, str]] = field(default_factory=list)

    def arrive(self, s: TenantSession, person_no: str, household_no: str, **args: Any) -> None:
        args.setdefault("relationship", "世帯主" if not self.members(household_no) else "子")
        move_in(s, CLERK, person_no, household_no, given_name_kana="テスト", **args)
        when = args["effective_date"]
        self.people.append(
            Resident(
                person_no,
                household_no,
                args["birth_date"],
                "female" if args.get("sex") == "female" else "male",
                when,
                foreign="nationality" in args,
            )
        )
        self.moves.append((when, "転入"))

    def members(self, household_no: str) -> list[Resident]:
        return [p for p in self.people if p.household_no == household_no]

    def leave(self, person_no: str, on: date, label: str) -> None:
        next(p for p in self.people if p.person_no == person_no).left = on
        self.moves.append((on, label))

    def on(self, day: date) -> list[Resident]:
        return [p for p in self.people if p.arrived <= day and (p.left is None or day < p.left)]


def _town(db: TestDatabase) -> Town:
    town = Town()
    with db.app.tenant(A) as s:
        # Household 9001: a couple and a child who turns 15 on 2026-10-15 (the day before the birthday).
        town.arrive(s, "1001", "9001", birth_date=date(1980, 5, 1), effective_date=date(2020, 4, 1))
        town.arrive(
            s,
            "1002",
            "9001",
            birth_date=date(1982, 3, 15),
            sex="female",
            relationship="妻",
            effective_date=date(2020, 4, 1),
        )
        town.arrive(s, "1003", "9001", birth_date=date(2011, 10, 16), effective_date=date(2020, 4, 1))
        # 9002: a woman living alone, 75 from 2026-10-15.
        town.arrive(
            s,
            "2001",
            "9002",
            birth_date=date(1951, 10, 16),
            sex="female",
            effective_date=date(2020, 4, 1),
            **MARUNOUCHI,
        )
        # 9003: a foreign couple, one born on 29 February.
        foreign = {"nationality": "USA", "residence_status": "永住者", "banchi": "3-3"}
        town.arrive(s, "3001", "9003", birth_date=date(1990, 6, 1), effective_date=date(2021, 1, 5), **foreign)
        town.arrive(
            s,
            "3002",
            "9003",
            birth_date=date(2004, 2, 29),
            sex="female",
            relationship="妻",
            effective_date=date(2022, 5, 6),
            **foreign,
        )
        # 9004: seven people (a 「6人以上」 household), one of whom moves out on 2026-06-20.
        for i in range(7):
            town.arrive(
                s,
                f"400{i}",
                "9004",
                birth_date=date(1960 + 7 * i, 1 + i, 10),
                sex="female" if i % 2 else "male",
                effective_date=date(2025, 10, 31) if i < 6 else date(2025, 11, 1),
                banchi="4-4",
            )
        service.register_move_out(
            s, actor=CLERK, person_no="4003", effective_date=date(2026, 6, 20), destination="大阪府大阪市", today=TODAY
        )
        town.leave("4003", date(2026, 6, 20), "転出")
        # A birth in 9001, a death in 9005, the whole of 9001 moving within the city.
        service.register_birth(
            s,
            actor=CLERK,
            person_no="1004",
            household_no="9001",
            family_name="山田",
            given_name="三郎",
            family_name_kana="ヤマダ",
            given_name_kana="サブロウ",
            birth_date=date(2026, 3, 10),
            sex="male",
            today=TODAY,
        )
        town.people.append(Resident("1004", "9001", date(2026, 3, 10), "male", date(2026, 3, 10)))
        town.moves.append((date(2026, 3, 10), "出生"))
        town.arrive(s, "5001", "9005", birth_date=date(1930, 8, 8), effective_date=date(2020, 4, 1), banchi="5-5")
        service.register_death(s, actor=CLERK, person_no="5001", effective_date=date(2026, 9, 1), today=TODAY)
        town.leave("5001", date(2026, 9, 1), "死亡")
        service.register_move_within(
            s,
            actor=CLERK,
            person_no="1001",
            effective_date=date(2026, 8, 5),
            pref_name="東京都",
            city_name="千代田区",
            banchi="7-7",
            today=TODAY,
            **MARUNOUCHI,
        )
        town.moves.append((date(2026, 8, 5), "転居"))
    return town


def _expected_pyramid(people: list[Resident], on: date) -> list[tuple[str, int, int]]:
    bands: Counter[tuple[int, str]] = Counter()
    for p in people:
        bands[(min(age_on(p.birth_date, on) // 5, 20), p.sex)] += 1
    labels = [f"{5 * b}〜{5 * b + 4}歳" for b in range(20)] + ["100歳以上"]
    return [(labels[b], bands[(b, "male")], bands[(b, "female")]) for b in range(21)]


def _expected_sizes(people: list[Resident]) -> list[tuple[str, int]]:
    sizes = Counter(min(n, 6) for n in Counter(p.household_no for p in people).values())
    return [(f"{n}人" if n < 6 else "6人以上", sizes[n]) for n in range(1, 7)]


def _expected_moves(town: Town, on: date) -> list[tuple[date, dict[str, int]]]:
    months = [date(on.year - (on.month - k <= 0), (on.month - k - 1) % 12 + 1, 1) for k in range(11, -1, -1)]
    found: list[tuple[date, dict[str, int]]] = []
    for month in months:
        counts = Counter(
            kind for day, kind in town.moves if day <= on and (day.year, day.month) == (month.year, month.month)
        )
        found.append((month, {kind: counts[kind] for kind in ("転入", "転出", "出生", "死亡", "転居")}))
    return found


def _check(stats: Statistics, town: Town, on: date) -> None:
    people = town.on(on)
    assert stats.on == on
    assert stats.persons == len(people)
    assert stats.households == len({p.household_no for p in people})
    assert (stats.male, stats.female) == (
        sum(p.sex == "male" for p in people),
        sum(p.sex == "female" for p in people),
    )
    assert stats.foreigners == sum(p.foreign for p in people)
    assert [(b.label, b.male, b.female) for b in stats.pyramid] == _expected_pyramid(people, on)
    assert list(stats.household_sizes) == _expected_sizes(people)
    assert [(m.month, {k.label: n for k, n in m.counts.items()}) for m in stats.moves] == _expected_moves(town, on)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_population_on_dates(db: TestDatabase) -> None:
    town = _town(db)
    days = [
        date(2024, 2, 27),
        date(2024, 2, 28),  # born 2004-02-29: 20 from 2024-02-28 (民法第143条)
        date(2025, 10, 31),
        date(2026, 6, 19),
        date(2026, 6, 20),  # 転出 of 4003
        date(2026, 10, 14),
        date(2026, 10, 15),  # 1003 turns 15, 2001 turns 75: both change band
        TODAY,
    ]
    with db.app.tenant(A) as s:
        found = {day: population_on(s, actor=CLERK, on=day) for day in days}
    for day, stats in found.items():
        _check(stats, town, day)
    # The checks above compare like with like; these pin the cases they must cover.
    assert found[date(2026, 6, 19)].persons == found[date(2026, 6, 20)].persons + 1
    sizes = dict(found[date(2026, 6, 19)].household_sizes), dict(found[date(2026, 6, 20)].household_sizes)
    assert (sizes[0]["6人以上"], sizes[1]["6人以上"]) == (1, 1), "seven, then six"
    assert found[date(2026, 10, 14)].pyramid != found[date(2026, 10, 15)].pyramid
    leap = found[date(2024, 2, 27)].pyramid, found[date(2024, 2, 28)].pyramid
    assert (leap[0][3].female - 1, leap[0][4].female + 1) == (leap[1][3].female, leap[1][4].female)
    months = {m.label: {k.label: n for k, n in m.counts.items()} for m in found[date(2026, 10, 15)].moves}
    assert next(iter(months)) == "令和7年11月"
    assert months["令和7年11月"]["転入"] == 1, "the six 2025-10-31 arrivals fall in the month before the window"
    assert months["令和8年6月"]["転出"] == 1
    assert months["令和8年9月"]["死亡"] == 1
    assert months["令和8年3月"]["出生"] == 1
    assert months["令和8年8月"]["転居"] == 1
    assert found[TODAY].foreigners == 2


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_charts_are_accessible_svg_of_the_figures(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        stats = population_on(s, actor=CLERK, on=TODAY)
    pyramid, moves = str(charts.pyramid_svg(stats)), str(charts.moves_svg(stats))
    for svg, key in ((pyramid, "pyramid"), (moves, "moves")):
        assert svg.startswith("<svg ")
        assert svg.endswith("</svg>")
        assert f'role="img" aria-labelledby="{key}-title {key}-desc"' in svg
    assert '<title id="pyramid-title">人口ピラミッド（令和8年11月1日現在）</title>' in pyramid
    bars = re.findall(r"<title>(男|女) ([^<]+)：(\d+)人</title>", pyramid)
    assert len(bars) == 2 * len(stats.pyramid)
    assert sum(int(n) for _, _, n in bars) == stats.persons
    month_bars = re.findall(r"<title>(令和\d+年\d+月) (転入|転出|出生|死亡|転居)：(\d+)件</title>", moves)
    assert len(month_bars) == 12 * 5
    assert ("令和8年6月", "転出", "1") in month_bars
    assert '<title id="moves-title">月別の異動件数（令和7年12月〜令和8年11月）</title>' in moves


def test_nice_steps() -> None:
    assert [charts.nice_step(n) for n in (1, 5, 6, 11, 49, 51, 1234)] == [1, 1, 2, 5, 10, 20, 500]
