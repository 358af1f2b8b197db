"""Amounts of money as exact integer yen: rounding to a unit, formatting and parsing.

Rounding to a unit follows the fraction rules of the tax laws, for example:

* 国税通則法第118条第1項 — 課税標準 (the tax base) is rounded down to 1,000 yen: ``floor_to(base, 1000)``.
* 国税通則法第119条第1項 — 確定金額 (the tax) is rounded down to 100 yen: ``floor_to(tax, 100)``.
* 地方税法第20条の4の2第1項・第3項 — the same two rules for local taxes (課税標準 1,000円未満, 税額 100円未満切捨て).

``floor_to`` truncates toward zero (端数切捨て on the absolute value) and ``ceil_to`` rounds away from zero
(端数切上げ), so a refund of −1,234 yen floors to −1,200 and ceils to −1,300. Whether a negative amount should be
clipped at 0 is the caller's rule, not this module's.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import polars as pl

from kiban.core.errors import FieldError, InputError


def _check_unit(unit: int) -> None:
    if unit <= 0:
        raise ValueError(f"unit must be a positive number of yen, not {unit}")


def floor_to(amount: int, unit: int) -> int:
    """Truncate ``amount`` toward zero to a multiple of ``unit`` (``floor_to(1999, 1000) == 1000``)."""
    _check_unit(unit)
    magnitude = abs(amount) // unit * unit
    return magnitude if amount >= 0 else -magnitude


def ceil_to(amount: int, unit: int) -> int:
    """Round ``amount`` away from zero to a multiple of ``unit`` (``ceil_to(1001, 1000) == 2000``)."""
    _check_unit(unit)
    magnitude = -(-abs(amount) // unit) * unit
    return magnitude if amount >= 0 else -magnitude


def floor_to_expr(expr: pl.Expr, unit: int) -> pl.Expr:
    """``floor_to`` for a polars column; the result is Int64 (the input is cast to Int64 first), nulls stay null."""
    _check_unit(unit)
    e = expr.cast(pl.Int64)
    magnitude = e.abs() // unit * unit
    return pl.when(e >= 0).then(magnitude).otherwise(-magnitude).cast(pl.Int64)


def ceil_to_expr(expr: pl.Expr, unit: int) -> pl.Expr:
    """``ceil_to`` for a polars column; the result is Int64 (the input is cast to Int64 first), nulls stay null."""
    _check_unit(unit)
    e = expr.cast(pl.Int64)
    magnitude = -(-e.abs() // unit) * unit
    return pl.when(e >= 0).then(magnitude).otherwise(-magnitude).cast(pl.Int64)


def times_rate_expr(expr: pl.Expr, rate: Decimal) -> pl.Expr:
    """``expr × rate`` in exact integer arithmetic, fractions of a yen truncated (1円未満切捨て) for non-negative
    amounts: the rate is taken as the fraction it is written as ("0.06" → 6/100), never as a float."""
    numerator, denominator = rate.as_integer_ratio()
    return (expr.cast(pl.Int64) * numerator // denominator).cast(pl.Int64)


def times_ratio_up_expr(expr: pl.Expr, numerator: int | pl.Expr, denominator: int | pl.Expr) -> pl.Expr:
    """``expr × numerator ÷ denominator`` (each may vary by row) in exact integer arithmetic, fractions of a yen
    rounded up (1円未満切上げ) for non-negative amounts."""
    return ((expr.cast(pl.Int64) * numerator + denominator - 1) // denominator).cast(pl.Int64)


def times_rate_up_expr(expr: pl.Expr, rate: Decimal) -> pl.Expr:
    """``times_rate_expr`` rounded up (1円未満切上げ) instead of down."""
    return times_ratio_up_expr(expr, *rate.as_integer_ratio())


def format_yen(amount: int) -> str:
    """「1,234,567円」; a negative amount is shown with a minus sign (「-1,234円」)."""
    return f"{amount:,}円"


_YEN_FIX = "0以上の整数の金額を入力してください（例：1,234 または 1234円）。"
_YEN = re.compile(r"[¥\\]?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*円?", re.ASCII)


def parse_yen(value: str, *, field: str) -> int:
    """Read a non-negative whole yen amount: 「1,234」「１２３４」「1234円」「¥1,234」「￥1,234」.

    Commas must group digits by three; decimals, negative amounts and other text raise ``InputError``.
    """
    # NFKC: full-width digits, comma and 「￥」 become ASCII digits, 「,」 and 「¥」.
    text = unicodedata.normalize("NFKC", value).strip()
    m = _YEN.fullmatch(text)
    if m is None:
        raise InputError(FieldError(field, value, _YEN_FIX))
    return int(m[1].replace(",", ""))
