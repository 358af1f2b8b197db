"""The benefit programs Kiban ships, as declarations: what each pays, to whom, on which base date, and from what.

A program's eligibility and amounts are rules (``kiban.benefits.rules``) over the residents on its base date
(``基準日``) with each person's 課税区分 of the 年度 the program reads (or, for the 定額減税 調整給付, each person's tax
figures of that 年度); amounts are parameters (national, and the municipality's own 上乗せ where the program allows
it), so a program is data plus a few cited formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Unit(StrEnum):
    HOUSEHOLD = "household"
    """Paid to the household (受給権者: 世帯主)."""
    PERSON = "person"
    """Paid to each person entitled (受給権者: the person), one entitlement per person."""


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
        Program(
            code="fixed_tax_cut_adjustment_2024",
            name="令和6年 定額減税補足給付金（調整給付）",
            legal_basis=(
                "「デフレ完全脱却のための総合経済対策」（令和5年11月2日閣議決定）、内閣府「物価高騰対応重点支援地方創生"
                "臨時交付金（給付金・定額減税一体支援枠）」制度要綱。定額減税しきれないと見込まれる者に、所得税分"
                "（3万円×人数 − 令和6年分推計所得税額）と個人住民税所得割分（1万円×人数 − 令和6年度分所得割額）の"
                "合計を1万円単位に切り上げて支給（千代田区「定額減税補足給付金（調整給付）」"
                "https://www.city.chiyoda.lg.jp/koho/kurashi/sodanmadoguchi/teigaku-choseikyufu.html）"
            ),
            # 令和6年度分個人住民税の賦課期日: 対象は「令和6年1月1日時点で区内に居住し、定額減税の対象となった方」
            # (千代田区, 同上), i.e. the persons this municipality assesses for 令和6年度 (地方税法第318条).
            base_date=date(2024, 1, 1),
            unit=Unit.PERSON,
            delivery=Delivery.PUSH,
            tax_fiscal_year=2024,
            previous_tax_fiscal_year=None,
            # 確認書の受付 (千代田区: 令和6年10月31日まで; each municipality sets its own period)
            confirmation_start=date(2024, 8, 1),
            confirmation_end=date(2024, 10, 31),
        ),
    )
}
