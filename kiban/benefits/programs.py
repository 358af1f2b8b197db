"""The benefit programs Kiban ships, as declarations: what each pays, to whom, on which base date, and from what.

A program's eligibility and amounts are rules (``kiban.benefits.rules``) over the residents on its base date
(``基準日``) with each person's 課税区分 of the 年度 the program reads; amounts are parameters (national, and the
municipality's own 上乗せ where the program allows it), so a program is data plus a few cited formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Unit(StrEnum):
    HOUSEHOLD = "household"
    """Paid to the household (受給権者: 世帯主)."""
    PERSON = "person"


class Delivery(StrEnum):
    PUSH = "push"
    """プッシュ型: a pre-filled 確認書 the resident confirms."""
    APPLICATION = "application"
    """申請型: the resident applies."""


@dataclass(frozen=True)
class Program:
    code: str
    name: str
    legal_basis: str
    base_date: date
    unit: Unit
    delivery: Delivery
    tax_fiscal_year: int | None
    """The 年度 whose 課税区分 decides eligibility (``None``: no tax condition)."""
    previous_tax_fiscal_year: int | None
    """A second 年度 the program compares with (新たに非課税となる世帯), or ``None``."""
    confirmation_start: date
    confirmation_end: date

    @property
    def child_born_on_or_after(self) -> date:
        """18歳以下の児童: born on or after 2 April of (base date's 年度 − 18), i.e. up to the 31 March after the 18th
        birthday (the definition of こども加算)."""
        fy = self.base_date.year if self.base_date.month >= 4 else self.base_date.year - 1
        return date(fy - 18, 4, 2)


PROGRAMS: dict[str, Program] = {
    p.code: p
    for p in (
        Program(
            code="special_cash_2020",
            name="特別定額給付金",
            legal_basis=(
                "「新型コロナウイルス感染症緊急経済対策」（令和2年4月20日閣議決定）、総務省「特別定額給付金給付事業費"
                "補助金交付要綱」"
            ),
            base_date=date(2020, 4, 27),
            unit=Unit.HOUSEHOLD,
            delivery=Delivery.APPLICATION,
            tax_fiscal_year=None,
            previous_tax_fiscal_year=None,
            confirmation_start=date(2020, 5, 1),
            confirmation_end=date(2020, 8, 31),
        ),
        Program(
            code="low_income_2023",
            name="令和5年度 住民税非課税世帯等に対する給付（低所得世帯支援）",
            legal_basis=(
                "「デフレ完全脱却のための総合経済対策」（令和5年11月2日閣議決定）、内閣府「物価高騰対応重点支援地方創生"
                "臨時交付金（低所得世帯支援枠）」制度要綱"
            ),
            base_date=date(2023, 12, 1),
            unit=Unit.HOUSEHOLD,
            delivery=Delivery.PUSH,
            tax_fiscal_year=2023,
            previous_tax_fiscal_year=None,
            confirmation_start=date(2023, 12, 15),
            confirmation_end=date(2024, 4, 30),
        ),
        Program(
            code="newly_exempt_2024",
            name="令和6年度 新たに住民税非課税・均等割のみ課税となる世帯への給付",
            legal_basis="内閣府「物価高騰対応重点支援地方創生臨時交付金（低所得世帯支援枠）」制度要綱（令和6年度分）",
            base_date=date(2024, 6, 3),
            unit=Unit.HOUSEHOLD,
            delivery=Delivery.PUSH,
            tax_fiscal_year=2024,
            previous_tax_fiscal_year=2023,
            confirmation_start=date(2024, 7, 1),
            confirmation_end=date(2024, 10, 31),
        ),
    )
}
