"""和暦, 年度, age and bank business days."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.core.dates import (
    ERAS,
    add_bank_business_days,
    age_on,
    era_of,
    fiscal_year,
    fiscal_year_label,
    is_bank_business_day,
    next_bank_business_day,
    parse_date,
    previous_bank_business_day,
    to_wareki,
    wareki_year,
)
from kiban.core.errors import InputError

# --- parsing --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "令和6年6月3日",
        "令和６年６月３日",
        " 令和 6 年 6 月 3 日 ",
        "R6.6.3",
        "R06.06.03",
        "r6/6/3",
        "Ｒ６．６．３",
        "R6-6-3",
        "2024-06-03",
        "2024/6/3",
        "２０２４／６／３",
        "20240603",
        "2024年6月3日",
        "㋿6年6月3日",
    ],
)
def test_parse_date_formats(typed: str) -> None:
    assert parse_date(typed, field="申請日") == date(2024, 6, 3)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("S39.10.10", date(1964, 10, 10)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("平成12年2月29日", date(2000, 2, 29)),
    ],
)
def test_parse_wareki(typed: str, expected: date) -> None:
    assert parse_date(typed, field="生年月日") == expected


@pytest.mark.parametrize(
    ("typed", "fix"),
    [
        ("令和1年4月30日", "令和は2019年5月1日からです。"),
        ("平成31年5月1日", "平成は2019年4月30日までです。"),
        ("昭和64年1月8日", "昭和は1989年1月7日までです。"),
        ("令和0年5月1日", "令和の年は元年（1年）からです。"),
    ],
)
def test_parse_wareki_outside_the_era(typed: str, fix: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_date(typed, field="生年月日")
    (error,) = excinfo.value.errors
    assert error.field == "生年月日"
    assert error.received == typed
    assert error.fix == fix


@pytest.mark.parametrize(
    "typed", ["令和6年2月30日", "2023-02-29", "R6.13.1", "20240631", "令和6年6月", "2024-6/3", "昨日", "", "R6.6.3.1"]
)
def test_parse_date_refuses(typed: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_date(typed, field="申請日")
    (error,) = excinfo.value.errors
    assert "「令和6年6月3日」「R6.6.3」「2024-06-03」のいずれかの形で入力してください。" in error.fix
    assert error.message.startswith("申請日：")


def test_impossible_date_says_so() -> None:
    with pytest.raises(InputError, match="存在しない日付です"):
        parse_date("令和6年2月30日", field="申請日")


dates_since_1900 = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@given(dates_since_1900)
def test_wareki_round_trip(d: date) -> None:
    assert parse_date(to_wareki(d), field="日付") == d
    assert parse_date(to_wareki(d, style="short"), field="日付") == d
    assert parse_date(d.isoformat(), field="日付") == d
    assert parse_date(d.strftime("%Y%m%d"), field="日付") == d


# --- formatting -----------------------------------------------------------------------------------------------


def test_to_wareki() -> None:
    assert to_wareki(date(2024, 6, 3)) == "令和6年6月3日"
    assert to_wareki(date(2024, 6, 3), style="short") == "R6.6.3"
    assert to_wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert to_wareki(date(2019, 5, 1), style="short") == "R1.5.1"
    assert to_wareki(date(2019, 4, 30)) == "平成31年4月30日"
    assert to_wareki(date(1989, 1, 7)) == "昭和64年1月7日"
    assert to_wareki(date(1926, 12, 25)) == "昭和元年12月25日"
    assert wareki_year(date(2024, 6, 3)) == "令和6年"
    assert wareki_year(date(1989, 1, 8)) == "平成元年"


def test_before_meiji_has_no_era() -> None:
    with pytest.raises(ValueError, match="before 明治"):
        era_of(ERAS[0].start - timedelta(days=1))
    assert era_of(ERAS[0].start).name == "明治"


def test_eras_are_contiguous() -> None:
    for earlier, later in pairwise(ERAS):
        assert earlier.end is not None
        assert earlier.end + timedelta(days=1) == later.start


# --- 年度 ------------------------------------------------------------------------------------------------------


def test_fiscal_year() -> None:
    assert fiscal_year(date(2024, 4, 1)) == 2024
    assert fiscal_year(date(2025, 3, 31)) == 2024
    assert fiscal_year(date(2024, 3, 31)) == 2023
    assert fiscal_year_label(2024) == "令和6年度"
    assert fiscal_year_label(2019) == "令和元年度"
    assert fiscal_year_label(2018) == "平成30年度"
    assert fiscal_year_label(1989) == "平成元年度"
    assert fiscal_year_label(1988) == "昭和63年度"


# --- age ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2000, 6, 3), date(2024, 6, 1), 23),
        (date(2000, 6, 3), date(2024, 6, 2), 24),  # one year older on the day before the birthday
        (date(2000, 6, 3), date(2024, 6, 3), 24),
        (date(2018, 4, 1), date(2024, 3, 31), 6),  # 早生まれ: born 4月1日 is 6 on 3月31日
        (date(2018, 4, 2), date(2024, 3, 31), 5),
        (date(2000, 1, 1), date(2024, 12, 31), 25),  # born 1月1日: older on the previous 12月31日
        (date(2000, 1, 1), date(2024, 12, 30), 24),
        (date(2000, 2, 29), date(2023, 2, 27), 22),
        (date(2000, 2, 29), date(2023, 2, 28), 23),  # no 2月29日 in 2023: end of February
        (date(2000, 2, 29), date(2024, 2, 28), 24),
        (date(2000, 3, 1), date(2024, 2, 29), 24),
        (date(2000, 3, 1), date(2023, 2, 28), 23),
        (date(2024, 6, 3), date(2024, 6, 3), 0),
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_on_before_birth() -> None:
    with pytest.raises(ValueError, match="before the birth date"):
        age_on(date(2024, 6, 3), date(2024, 6, 2))


@given(dates_since_1900, st.integers(min_value=0, max_value=120))
def test_age_is_reached_on_the_day_before_the_anniversary(birth: date, years: int) -> None:
    try:
        anniversary = birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        anniversary = date(birth.year + years, 3, 1)
    if years > 0:
        assert age_on(birth, anniversary - timedelta(days=1)) == years
        assert age_on(birth, anniversary - timedelta(days=2)) == years - 1


# --- bank business days ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "open_"),
    [
        (date(2024, 1, 8), False),  # 成人の日
        (date(2024, 12, 31), False),
        (date(2025, 1, 2), False),
        (date(2025, 1, 3), False),
        (date(2025, 1, 6), True),
        (date(2024, 6, 3), True),
        (date(2024, 6, 1), False),  # Saturday
        (date(2024, 6, 2), False),  # Sunday
        (date(2024, 5, 6), False),  # 振替休日
        (date(2019, 4, 30), False),  # 国民の休日 (2019 ten-day holiday)
        (date(2024, 12, 30), True),
    ],
)
def test_is_bank_business_day(d: date, open_: bool) -> None:
    assert is_bank_business_day(d) is open_


def test_next_and_previous_bank_business_day() -> None:
    # 2024-12-28 is a Saturday; banks open on Monday 12-30 (only 12月31日–1月3日 are bank holidays).
    assert next_bank_business_day(date(2024, 12, 28)) == date(2024, 12, 30)
    assert next_bank_business_day(date(2024, 12, 31)) == date(2025, 1, 6)
    assert next_bank_business_day(date(2024, 6, 3)) == date(2024, 6, 3)
    assert previous_bank_business_day(date(2025, 1, 5)) == date(2024, 12, 30)
    assert previous_bank_business_day(date(2024, 6, 3)) == date(2024, 6, 3)


def test_add_bank_business_days() -> None:
    assert add_bank_business_days(date(2024, 12, 27), 1) == date(2024, 12, 30)
    assert add_bank_business_days(date(2024, 12, 27), 2) == date(2025, 1, 6)
    assert add_bank_business_days(date(2025, 1, 6), -2) == date(2024, 12, 27)
    assert add_bank_business_days(date(2024, 6, 1), 0) == date(2024, 6, 1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 12, 31)), st.integers(min_value=-30, max_value=30))
def test_add_bank_business_days_lands_on_business_days(d: date, n: int) -> None:
    result = add_bank_business_days(d, n)
    if n != 0:
        assert is_bank_business_day(result)
        assert (result > d) == (n > 0)
        assert add_bank_business_days(result, -n) == (
            previous_bank_business_day(d) if n > 0 else next_bank_business_day(d)
        )
