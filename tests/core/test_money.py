"""Integer yen: rounding to a unit (scalars and polars), formatting and parsing."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.core.errors import InputError
from kiban.core.money import (
    ceil_to,
    ceil_to_expr,
    floor_to,
    floor_to_expr,
    format_yen,
    parse_yen,
    times_rate_expr,
    times_rate_up_expr,
)


@pytest.mark.parametrize(
    ("amount", "unit", "floored", "ceiled"),
    [
        (1_234_567, 1000, 1_234_000, 1_235_000),  # 国税通則法第118条: 課税標準 1,000円未満切捨て
        (98_765, 100, 98_700, 98_800),  # 国税通則法第119条: 税額 100円未満切捨て
        (1000, 1000, 1000, 1000),
        (0, 100, 0, 0),
        (999, 1000, 0, 1000),
        (-1234, 100, -1200, -1300),  # toward zero / away from zero
        (7, 1, 7, 7),
    ],
)
def test_floor_and_ceil(amount: int, unit: int, floored: int, ceiled: int) -> None:
    assert floor_to(amount, unit) == floored
    assert ceil_to(amount, unit) == ceiled


@pytest.mark.parametrize("unit", [0, -100])
def test_unit_must_be_positive(unit: int) -> None:
    with pytest.raises(ValueError, match="unit"):
        floor_to(100, unit)
    with pytest.raises(ValueError, match="unit"):
        ceil_to_expr(pl.col("a"), unit)


amounts = st.integers(min_value=-(10**15), max_value=10**15)
units = st.sampled_from([1, 10, 100, 1000, 10_000, 7])


@given(amounts, units)
def test_rounding_properties(amount: int, unit: int) -> None:
    down, up = floor_to(amount, unit), ceil_to(amount, unit)
    assert down % unit == 0
    assert up % unit == 0
    assert abs(down) <= abs(amount) <= abs(up)
    assert abs(amount) - abs(down) < unit
    assert abs(up) - abs(amount) < unit


@given(st.lists(st.one_of(amounts, st.none()), max_size=50), units)
def test_expressions_match_scalars(values: list[int | None], unit: int) -> None:
    frame = pl.DataFrame({"a": values}, schema={"a": pl.Int64})
    result = frame.select(down=floor_to_expr(pl.col("a"), unit), up=ceil_to_expr(pl.col("a"), unit))
    assert result.schema == pl.Schema({"down": pl.Int64, "up": pl.Int64})
    assert result["down"].to_list() == [None if v is None else floor_to(v, unit) for v in values]
    assert result["up"].to_list() == [None if v is None else ceil_to(v, unit) for v in values]


def test_expressions_widen_narrow_integers_to_int64() -> None:
    frame = pl.DataFrame({"a": [1999, -1999]}, schema={"a": pl.Int32})
    result = frame.select(floor_to_expr(pl.col("a"), 1000))
    assert result.dtypes == [pl.Int64]
    assert result["a"].to_list() == [1000, -1000]


def test_format_yen() -> None:
    assert format_yen(1_234_567) == "1,234,567円"
    assert format_yen(0) == "0円"
    assert format_yen(999) == "999円"
    assert format_yen(-1234) == "-1,234円"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1,234", 1234),
        ("１２３４", 1234),
        ("１，２３４円", 1234),
        ("1234円", 1234),
        ("¥1,234", 1234),
        ("￥1,234", 1234),
        (" 1,234,567 円 ", 1_234_567),
        ("0", 0),
    ],
)
def test_parse_yen(typed: str, expected: int) -> None:
    assert parse_yen(typed, field="支給額") == expected


@pytest.mark.parametrize("typed", ["-1", "1.5", "12,34", "1,2345", "abc", "", "1,234ドル", "−100", "١٢٣"])
def test_parse_yen_refuses(typed: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_yen(typed, field="支給額")
    (error,) = excinfo.value.errors
    assert error.field == "支給額"
    assert error.fix == "0以上の整数の金額を入力してください（例：1,234 または 1234円）。"


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_round_trip(amount: int) -> None:
    assert parse_yen(format_yen(amount), field="金額") == amount


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=10_000))
def test_a_rate_rounds_down_or_up_exactly(amount: int, basis_points: int) -> None:
    rate = Decimal(basis_points) / 10_000
    frame = pl.DataFrame({"yen": [amount]})
    down = frame.select(times_rate_expr(pl.col("yen"), rate)).item()
    up = frame.select(times_rate_up_expr(pl.col("yen"), rate)).item()
    exact = amount * basis_points
    assert down == exact // 10_000
    assert up == -(-exact // 10_000)
