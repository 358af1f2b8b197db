"""The 全銀 総合振込 file: exact record layout, character rules, trailer totals, and refusal of bad input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.core.errors import InputError
from kiban.payments.zengin import Account, Sender, Transfer, build, parse

CITY = Sender(
    client_code="1234567890",
    name="チヨダク",
    account=Account("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", "1", "1234567"),
)
PAYEE = Account("0005", "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", "123", "ｼﾝｼﾞﾕｸ", "1", "7654321")
TRANSFER_DAY = date(2026, 12, 1)  # a Tuesday


def test_records_are_120_bytes_in_the_published_layout() -> None:
    made = build(
        CITY,
        [Transfer(PAYEE, "ヤマダ　キョウコ", 120_000, "1"), Transfer(PAYEE, "ｽｽﾞｷ ｲﾁﾛｳ", 70_000, "2")],
        TRANSFER_DAY,
    )
    records = made.content.split(b"\r\n")
    assert records[-1] == b""
    records.pop()
    assert [len(r) for r in records] == [120] * 5
    header, first, second, trailer, end = (r.decode("shift_jis") for r in records)
    assert header[:4] == "1210"
    assert header[4:14] == "1234567890"
    assert header[14:54] == "ﾁﾖﾀﾞｸ".ljust(40)
    assert header[54:58] == "1201"
    assert (header[58:62], header[77:80], header[95], header[96:103]) == ("0001", "001", "1", "1234567")
    assert first[0] == "2"
    assert (first[1:5], first[20:23], first[42], first[43:50]) == ("0005", "123", "1", "7654321")
    assert first[50:80] == "ﾔﾏﾀﾞ ｷﾖｳｺ".ljust(30)
    assert first[80:90] == "0000120000"
    assert first[91:101] == "0000000001"
    assert first[111] == "7"
    assert (second[50:80].rstrip(), second[80:90]) == ("ｽｽﾞｷ ｲﾁﾛｳ", "0000070000")
    assert trailer == "8" + "000002" + "000000190000" + " " * 101
    assert end == "9" + " " * 119
    assert (made.count, made.total) == (2, 190_000)
    assert len(made.sha256) == 64
    assert len("ﾀﾞ".encode("shift_jis")) == 2, "half-width kana are one byte each"


def test_a_long_name_is_cut_without_separating_a_voicing_mark() -> None:
    name = "ｱ" * 29 + "ｶﾞ"  # the 30th character is ｶ, the 31st its mark
    made = build(CITY, [Transfer(PAYEE, name, 1, "1")], TRANSFER_DAY)
    holder = made.content.split(b"\r\n")[1].decode("shift_jis")[50:80]
    assert holder == "ｱ" * 29 + " "


def test_bad_input_is_reported_whole_and_no_file_is_made() -> None:
    bad = Transfer(Account("5", "ﾐﾂﾋﾞｼ", "12", "ｼﾃﾝ", "3", "12345678"), "山田太郎", 0, "x")
    with pytest.raises(InputError) as caught:
        build(CITY, [bad], date(2026, 12, 5))  # a Saturday
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "振込指定日",
        "1行目の振込金額",
        "1行目の預金種目",
        "1行目の口座番号",
        "1行目の受取人名",
        "1行目の顧客コード",
    ]
    with pytest.raises(InputError, match="1件以上"):
        build(CITY, [], TRANSFER_DAY)


@settings(max_examples=40, deadline=None)
@given(amounts=st.lists(st.integers(min_value=1, max_value=9_999_999), min_size=1, max_size=30))
def test_the_trailer_always_equals_the_data_records(amounts: list[int]) -> None:
    transfers = [Transfer(PAYEE, "ﾃｽﾄ", a, str(i)) for i, a in enumerate(amounts, start=1)]
    parsed = parse(build(CITY, transfers, TRANSFER_DAY).content)
    assert parsed.count == len(amounts)
    assert parsed.total == sum(amounts)
    assert [line.amount for line in parsed.lines] == amounts
    assert [int(line.customer_code) for line in parsed.lines] == list(range(1, len(amounts) + 1))


def test_a_tampered_file_does_not_parse() -> None:
    content = build(CITY, [Transfer(PAYEE, "ﾃｽﾄ", 5_000, "1")], TRANSFER_DAY).content
    tampered = content.replace(b"0000005000", b"0000050000", 1)
    with pytest.raises(ValueError, match="trailer"):
        parse(tampered)


def test_a_file_holds_at_most_999999_transfers() -> None:
    line = Transfer(PAYEE, "ﾃｽﾄ", 1, "1")
    with pytest.raises(InputError, match="999,999件まで"):
        build(CITY, [line] * 1_000_000, TRANSFER_DAY)
