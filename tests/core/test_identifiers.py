"""Check digits agree with python-stdnum's independent implementation, and errors never echo a My Number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.jp import cn, in_

from kiban.core.errors import InputError
from kiban.core.identifiers import (
    corporate_number_check_digit,
    find_my_number_candidates,
    format_postal_code,
    is_valid_lg_code,
    is_valid_my_number,
    my_number_check_digit,
    validate_corporate_number,
    validate_lg_code,
    validate_my_number,
    validate_postal_code,
    validate_resident_code,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_my_number_check_digit_agrees_with_stdnum(base: str) -> None:
    number = base + str(my_number_check_digit(base))
    assert in_.is_valid(number)
    assert is_valid_my_number(number)
    wrong = base + str((my_number_check_digit(base) + 1) % 10)
    assert not is_valid_my_number(wrong)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_corporate_number_check_digit_agrees_with_stdnum(base: str) -> None:
    assert cn.is_valid(str(corporate_number_check_digit(base)) + base)


def test_real_codes() -> None:
    assert is_valid_lg_code("131016")  # 千代田区
    assert is_valid_lg_code("011002")  # 札幌市
    assert not is_valid_lg_code("131017")
    assert not is_valid_lg_code("000000")  # the platform pseudo-tenant can never be a real code
    assert validate_corporate_number("7000012050002") == "7000012050002"  # 国税庁's own 法人番号


def test_lg_code_accepts_full_width_and_explains_errors() -> None:
    assert validate_lg_code("１３１０１６") == "131016"
    with pytest.raises(InputError) as wrong_digit:
        validate_lg_code("131017")
    assert "検査数字" in str(wrong_digit.value)
    assert "「131017」" in str(wrong_digit.value)
    with pytest.raises(InputError, match="6桁"):
        validate_lg_code("1310")


def test_my_number_errors_do_not_echo_the_number() -> None:
    assert validate_my_number("1234 5678 9018") == "123456789018"
    with pytest.raises(InputError) as caught:
        validate_my_number("123456789019")
    message = str(caught.value)
    assert "123456789019" not in message
    assert "個人番号" in message
    assert "検査数字" in message


def test_find_my_number_candidates_only_standalone_valid_numbers() -> None:
    text = "id=123456789018 order=123456789019 long=1234567890181 ＭＮ：１２３４５６７８９０１８"
    assert find_my_number_candidates(text) == ["123456789018", "123456789018"]
    assert find_my_number_candidates("番号123456789018です、(123456789018)") == ["123456789018", "123456789018"]
    # inside a hexadecimal hash or request id the digits are part of a token, not a number
    assert is_valid_my_number("259344437193")
    assert find_my_number_candidates("request_id=305d0f259344437193ce sha=42599d547c64d199111640514d5a6") == []


def test_postal_code_forms() -> None:
    assert validate_postal_code("〒100-0001") == "1000001"
    assert validate_postal_code("１００－０００１") == "1000001"
    assert format_postal_code("1000001") == "100-0001"
    with pytest.raises(InputError, match="例：100-0001"):
        validate_postal_code("100-001")


def test_resident_code_check_digit() -> None:
    with pytest.raises(InputError, match="11桁"):
        validate_resident_code("1234")
    base = "1234567890"
    valid = [base + str(d) for d in range(10) if _accepts(base + str(d))]
    assert len(valid) == 1


def _accepts(code: str) -> bool:
    try:
        validate_resident_code(code)
    except InputError:
        return False
    return True
