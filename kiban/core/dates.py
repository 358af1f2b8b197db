"""Dates: 和暦 (Japanese eras), 年度, age and bank business days.

Era start dates (the day the new era name took effect, Gregorian):

* 明治 1868-10-23 — 慶応4年9月8日, the day of the 改元の詔 (行政官布告). The change was made retroactive to
  慶応4年1月1日, and Japan used the lunisolar calendar until 明治5年12月2日 (明治5年太政官布告第337号 adopted the
  Gregorian calendar from 明治6年1月1日 = 1873-01-01), so wareki dates before 1873 are converted proleptically and
  are not historical lunisolar dates. Kiban handles living persons and current records, so this matters only for
  completeness.
* 大正 1912-07-30, 昭和 1926-12-25 (the day of the emperor's death, 改元 the same day).
* 平成 1989-01-08 — 元号を改める政令 (昭和64年政令第1号), in force the next day after 昭和64年1月7日.
* 令和 2019-05-01 — 元号を改める政令 (平成31年政令第143号).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import jpholiday
import polars as pl

from kiban.core.errors import FieldError, InputError


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: date
    end: date | None
    """Last day of the era (inclusive); ``None`` for the current era."""

    def year_of(self, d: date) -> int:
        return d.year - self.start.year + 1


ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 10, 23), date(1912, 7, 29)),
    Era("大正", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", date(2019, 5, 1), None),
)
_BY_NAME = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}


def era_of(d: date) -> Era:
    """The era in effect on ``d``; ``ValueError`` before 明治."""
    for era in reversed(ERAS):
        if d >= era.start:
            return era
    raise ValueError(f"{d.isoformat()} is before 明治 ({ERAS[0].start.isoformat()})")


def _long_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- parsing --------------------------------------------------------------------------------------------------

_FORMATS_FIX = "「令和6年6月3日」「R6.6.3」「2024-06-03」のいずれかの形で入力してください。"
_ERA_NAMES = "|".join([e.name for e in ERAS] + [e.letter for e in ERAS])
_WAREKI_KANJI = re.compile(rf"({_ERA_NAMES})\s*(元|\d{{1,2}})\s*年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*日", re.ASCII)
_WAREKI_SHORT = re.compile(rf"({_ERA_NAMES})\s*(元|\d{{1,2}})\s*([./-])\s*(\d{{1,2}})\s*\3\s*(\d{{1,2}})", re.ASCII)
_SEIREKI_SEPARATED = re.compile(r"(\d{4})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{1,2})", re.ASCII)
_SEIREKI_KANJI = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", re.ASCII)
_SEIREKI_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)


def parse_date(value: str, *, field: str) -> date:
    """Read a date typed as 和暦 or 西暦, in full-width or half-width characters.

    Accepted: 「令和6年6月3日」「令和元年5月1日」「R6.6.3」「R06.06.03」「r6/6/3」「Ｒ６．６．３」「2024-06-03」
    「2024/6/3」「20240603」「2024年6月3日」. A 和暦 date must lie within its era (「令和1年4月30日」 is refused).
    """
    # NFKC turns full-width digits, letters and punctuation into ASCII, and 「㋿」「㍻」 into 「令和」「平成」.
    text = unicodedata.normalize("NFKC", value).strip().upper()
    # Era names are matched in upper case; the kanji are unaffected by upper().
    if m := _WAREKI_KANJI.fullmatch(text):
        return _wareki(value, field, m[1], m[2], m[3], m[4])
    if m := _WAREKI_SHORT.fullmatch(text):
        return _wareki(value, field, m[1], m[2], m[4], m[5])
    m = _SEIREKI_SEPARATED.fullmatch(text)
    if m is not None:
        return _calendar_date(value, field, int(m[1]), int(m[3]), int(m[4]))
    m = _SEIREKI_KANJI.fullmatch(text) or _SEIREKI_COMPACT.fullmatch(text)
    if m is not None:
        return _calendar_date(value, field, int(m[1]), int(m[2]), int(m[3]))
    raise InputError(FieldError(field, value, _FORMATS_FIX))


def _calendar_date(value: str, field: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError(FieldError(field, value, f"存在しない日付です。{_FORMATS_FIX}")) from None


def _wareki(value: str, field: str, era_key: str, year: str, month: str, day: str) -> date:
    era = _BY_NAME[era_key]
    era_year = 1 if year == "元" else int(year)
    if era_year < 1:
        raise InputError(FieldError(field, value, f"{era.name}の年は元年（1年）からです。"))
    d = _calendar_date(value, field, era.start.year + era_year - 1, int(month), int(day))
    if d < era.start:
        raise InputError(FieldError(field, value, f"{era.name}は{_long_date(era.start)}からです。"))
    if era.end is not None and d > era.end:
        raise InputError(FieldError(field, value, f"{era.name}は{_long_date(era.end)}までです。"))
    return d


# --- formatting -----------------------------------------------------------------------------------------------


def _year_label(era: Era, year: int) -> str:
    return f"{era.name}{'元' if year == 1 else year}年"


def wareki_year(d: date) -> str:
    """「令和6年」; the first year of an era is 「元年」 (「令和元年」)."""
    era = era_of(d)
    return _year_label(era, era.year_of(d))


def to_wareki(d: date, *, style: Literal["long", "short"] = "long") -> str:
    """「令和6年6月3日」 (``long``, with 元年) or 「R6.6.3」 (``short``)."""
    if style == "short":
        era = era_of(d)
        return f"{era.letter}{era.year_of(d)}.{d.month}.{d.day}"
    return f"{wareki_year(d)}{d.month}月{d.day}日"


# --- 年度 ------------------------------------------------------------------------------------------------------


def fiscal_year(d: date) -> int:
    """The 年度 (April to March, 地方自治法第208条第1項) as the Gregorian year it starts in."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_label(fy: int) -> str:
    """「令和6年度」 for 2024.

    The era is the one in effect on 31 December of the fiscal year's first calendar year, which gives the labels the
    government uses: 2019 → 「令和元年度」 (the year began as 平成31年), 1988 → 「昭和63年度」, 1989 → 「平成元年度」.
    """
    last_of_year = date(fy, 12, 31)
    era = era_of(last_of_year)
    return f"{_year_label(era, era.year_of(last_of_year))}度"


# --- age ------------------------------------------------------------------------------------------------------


def _attains(birth: date, age: int) -> date:
    """The day on which a person born on ``birth`` reaches ``age``.

    年齢計算ニ関スル法律 (明治35年法律第50号) counts age from the day of birth, and 民法第143条 ends each year at the
    end of the day before the anniversary (or, with no such day, at the end of the month: born 29 February → end of
    28 February). So the age is reached on the day before the birthday (born 4月1日 → one year older on 3月31日).
    """
    year = birth.year + age
    if birth.month == 2 and birth.day == 29:
        return date(year, 2, 28)
    return date(year, birth.month, birth.day) - timedelta(days=1)


def age_on_expr(birth: pl.Expr, on: date) -> pl.Expr:
    """``age_on`` for a column of birth dates (Int32): the legal age on ``on`` is the calendar age on the next day
    (the age is reached on the day before the birthday; born 29 February → on 28 February in every year)."""
    following = on + timedelta(days=1)
    before_birthday = (following.month * 100 + following.day) < (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day())
    return (following.year - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def age_on(birth: date, on: date) -> int:
    """Age in years on ``on`` under 年齢計算ニ関スル法律 and 民法第143条 (see ``_attains``)."""
    if on < birth:
        raise ValueError(f"{on.isoformat()} is before the birth date {birth.isoformat()}")
    age = on.year - birth.year + 1
    while age > 0 and _attains(birth, age) > on:
        age -= 1
    return age


# --- bank business days ---------------------------------------------------------------------------------------


def is_bank_business_day(d: date) -> bool:
    """Banks are closed on Saturdays, Sundays, national holidays and 12月31日 to 1月3日.

    銀行法第15条第1項 and 銀行法施行令第5条第1項 (日曜日, 国民の祝日に関する法律に規定する休日, 12月31日から翌年
    1月3日まで, 土曜日). National holidays (incl. 振替休日 and 国民の休日) come from ``jpholiday``.
    """
    if d.weekday() >= 5:
        return False
    if (d.month == 12 and d.day == 31) or (d.month == 1 and d.day <= 3):
        return False
    return not jpholiday.is_holiday(d)


def next_bank_business_day(d: date) -> date:
    """``d`` itself if banks are open, otherwise the next day they are (a transfer date falling on a holiday)."""
    while not is_bank_business_day(d):
        d += timedelta(days=1)
    return d


def previous_bank_business_day(d: date) -> date:
    """``d`` itself if banks are open, otherwise the last earlier day they are."""
    while not is_bank_business_day(d):
        d -= timedelta(days=1)
    return d


def add_bank_business_days(d: date, n: int) -> date:
    """The ``n``-th bank business day after ``d`` (before it when ``n`` is negative); ``n == 0`` returns ``d``."""
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        d += step
        if is_bank_business_day(d):
            remaining -= 1
    return d
