"""Check digits and formats of the identifiers Kiban handles.

* 全国地方公共団体コード (``lg_code``, 6 digits): 総務省「全国地方公共団体コード仕様」— check digit = the last digit of
  ``11 - (Σ digit × weight mod 11)`` with weights 6, 5, 4, 3, 2 on the first five digits.
* 個人番号 (My Number, 12 digits): 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令第8条 and
  総務省令「個人番号の検査用数字の算出方法」(平成26年総務省令第85号).
* 法人番号 (13 digits, check digit first): 法人番号の指定等に関する省令第2条 (平成26年財務省令第70号).
* 住民票コード (11 digits): 住民基本台帳法第7条第13号, 住民基本台帳法施行規則第1条 — modulus 11, weights 2–7.
* 郵便番号 (7 digits, shown ``123-4567``).

Error messages never echo a My Number: a wrong one is shown only by its length (番号法第19条 limits its provision).
"""

from __future__ import annotations

import re

from kiban.core.errors import FieldError, InputError

_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SEPARATORS = re.compile(r"[\s\u3000\-‐－ー−‑–—]")


def _digits_only(value: str) -> str:
    return _SEPARATORS.sub("", value.translate(_DIGITS))


def _weighted_mod11(digits: str, weights: list[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11


# --- 全国地方公共団体コード ------------------------------------------------------------------------------------


def lg_code_check_digit(first_five: str) -> int:
    return (11 - _weighted_mod11(first_five, [6, 5, 4, 3, 2])) % 10


def is_valid_lg_code(value: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", value)) and lg_code_check_digit(value[:5]) == int(value[5])


def validate_lg_code(value: str, *, field: str = "団体コード") -> str:
    code = _digits_only(value)
    if not re.fullmatch(r"\d{6}", code):
        raise InputError(FieldError(field, value, "6桁の全国地方公共団体コードを入力してください（例：131016）。"))
    if not is_valid_lg_code(code):
        raise InputError(FieldError(field, value, "検査数字（6桁目）が合いません。団体コードを確かめてください。"))
    return code


# --- 個人番号 (My Number) -------------------------------------------------------------------------------------


def my_number_check_digit(first_eleven: str) -> int:
    """Q_n = n + 1 (1 ≤ n ≤ 6), n − 5 (7 ≤ n ≤ 11), P_n the n-th digit counted from the right of the 11 digits."""
    total = sum(int(first_eleven[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d{12}", value)) and my_number_check_digit(value[:11]) == int(value[11])


def validate_my_number(value: str, *, field: str = "個人番号") -> str:
    number = _digits_only(value)
    shown = f"（{len(number)}桁の入力・表示を省略）"
    if not re.fullmatch(r"\d{12}", number):
        raise InputError(FieldError(field, shown, "個人番号は12桁の数字で入力してください。"))
    if not is_valid_my_number(number):
        raise InputError(FieldError(field, shown, "検査数字（12桁目）が合いません。番号を確かめてください。"))
    return number


_TWELVE_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
"""12 digits standing alone: not inside a longer number, nor inside a token of letters and digits such as a
hexadecimal SHA-256 or request id (「…d5a6199111640514d5…」 is a hash, not a My Number)."""


def find_my_number_candidates(text: str) -> list[str]:
    """Every standalone 12-digit number in ``text`` (``_TWELVE_DIGITS``) that passes the My Number check digit (for
    log scans and the audit log's refusal)."""
    return [m for m in _TWELVE_DIGITS.findall(text.translate(_DIGITS)) if is_valid_my_number(m)]


# --- 法人番号 -------------------------------------------------------------------------------------------------


def corporate_number_check_digit(base_twelve: str) -> int:
    """9 − (Σ P_n × Q_n mod 9), P_n the n-th digit from the right, Q_n = 1 for odd n and 2 for even n."""
    total = sum(int(base_twelve[12 - n]) * (1 if n % 2 else 2) for n in range(1, 13))
    return 9 - total % 9


def is_valid_corporate_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d{13}", value)) and corporate_number_check_digit(value[1:]) == int(value[0])


def validate_corporate_number(value: str, *, field: str = "法人番号") -> str:
    number = _digits_only(value)
    if not re.fullmatch(r"\d{13}", number):
        raise InputError(FieldError(field, value, "法人番号は13桁の数字で入力してください。"))
    if not is_valid_corporate_number(number):
        raise InputError(FieldError(field, value, "検査数字（先頭の1桁）が合いません。番号を確かめてください。"))
    return number


# --- 住民票コード ---------------------------------------------------------------------------------------------


def resident_code_check_digit(first_ten: str) -> int:
    """Modulus 11 with weights 2, 3, 4, 5, 6, 7, 2, 3, 4, 5 from the rightmost digit; remainder 0 or 1 gives 0."""
    weights = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5]
    remainder = _weighted_mod11(first_ten[::-1], weights)
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_resident_code(value: str) -> bool:
    return bool(re.fullmatch(r"\d{11}", value)) and resident_code_check_digit(value[:10]) == int(value[10])


def validate_resident_code(value: str, *, field: str = "住民票コード") -> str:
    code = _digits_only(value)
    if not re.fullmatch(r"\d{11}", code):
        raise InputError(FieldError(field, value, "住民票コードは11桁の数字で入力してください。"))
    if not is_valid_resident_code(code):
        raise InputError(FieldError(field, value, "検査数字（11桁目）が合いません。番号を確かめてください。"))
    return code


# --- 郵便番号 -------------------------------------------------------------------------------------------------


def validate_postal_code(value: str, *, field: str = "郵便番号") -> str:
    """Accepts 「100-0001」「１０００００１」「〒100-0001」; returns the 7 digits."""
    code = _digits_only(value.replace("〒", ""))
    if not re.fullmatch(r"\d{7}", code):
        raise InputError(FieldError(field, value, "7桁の数字で入力してください（例：100-0001）。"))
    return code


def format_postal_code(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"
