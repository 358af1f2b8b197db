"""The 全銀 総合振込 file: exact record layout, character rules, trailer totals, and refusal of bad input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.core.errors import InputError
from kiban.payments.zengin import (
    RESULT_CODES,
    Account,
    Sender,
    Transfer,
    bank_result,
    build,
    parse,
    parse_result,
)

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
    with pytest.raises(InputError, match="トレーラーの合計"):
        parse(tampered)
    with pytest.raises(InputError, match="120バイト"):
        parse(content[:-3])


def test_a_file_holds_at_most_999999_transfers() -> None:
    line = Transfer(PAYEE, "ﾃｽﾄ", 1, "1")
    with pytest.raises(InputError, match="999,999件まで"):
        build(CITY, [line] * 1_000_000, TRANSFER_DAY)


def _record(*fields: str) -> str:
    record = "".join(fields)
    assert len(record) <= 120
    return record.ljust(120)


def test_a_bank_result_is_read_with_every_code() -> None:
    """A 振込結果 written out field by field: the request's records, 振込結果コード at byte 112, and the trailer with
    振込済 and 振込不能 totals (全銀協 処理結果明細)."""
    header = _record(
        "1210", "1234567890", "ﾁﾖﾀﾞｸ".ljust(40), "1201", "0001", "ﾐｽﾞﾎ".ljust(15), "001", " " * 15, "1", "1234567"
    )
    codes = sorted(RESULT_CODES)
    data = [
        _record(
            "2",
            "0005",
            "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".ljust(15),
            "123",
            "ｼﾝｼﾞﾕｸ".ljust(15),
            " " * 4,
            "1",
            f"{i:07d}",
            "ﾔﾏﾀﾞ ﾀﾛｳ".ljust(30),
            f"{70_000 + i:010d}",
            "0",
            f"{i:010d}",
            "0" * 10,
            code,
            " " * 8,
        )
        for i, code in enumerate(codes, start=1)
    ]
    amounts = [70_000 + i for i in range(1, len(codes) + 1)]
    failed = sum(amounts[1:])
    trailer = _record(
        "8",
        f"{len(codes):06d}",
        f"{sum(amounts):012d}",
        "000001",
        f"{amounts[0]:012d}",
        f"{len(codes) - 1:06d}",
        f"{failed:012d}",
        " " * 65,
    )
    content = "".join(r + "\r\n" for r in [header, *data, trailer, "9" + " " * 119]).encode("shift_jis")

    result = parse_result(content)

    assert (result.client_code, result.transfer_date) == ("1234567890", "1201")
    assert [x.code for x in result.lines] == ["0", "1", "2", "3", "4", "8", "9"]
    assert [x.paid for x in result.lines] == [True] + [False] * 6
    assert result.lines[2].reason == "取引なし（口座なし・解約済み）"
    assert [x.line.customer_code for x in result.lines] == [f"{i:010d}" for i in range(1, 8)]
    assert (result.count, result.total) == (7, sum(amounts))
    assert (result.paid_count, result.paid_total, result.failed_count, result.failed_total) == (
        1,
        70_001,
        6,
        failed,
    )
    with pytest.raises(InputError, match="振込不能金額"):
        parse_result(content.replace(trailer.encode(), trailer[:43].encode() + b"0" * 12 + b" " * 65))
    unknown = content.replace(data[1].encode("shift_jis"), (data[1][:111] + "5" + data[1][112:]).encode("shift_jis"))
    with pytest.raises(InputError, match="次のいずれか") as caught:
        parse_result(unknown)
    assert caught.value.errors[0].received == "2件目: '5'"


def test_the_simulated_bank_returns_the_file_with_codes_and_totals() -> None:
    issued = build(
        CITY,
        [Transfer(PAYEE, "ﾃｽﾄ", 70_000, "1"), Transfer(PAYEE, "ﾃｽﾄ", 120_000, "2"), Transfer(PAYEE, "ﾃｽﾄ", 5, "3")],
        TRANSFER_DAY,
    )
    returned = bank_result(issued.content, {"0000000002": "2"})
    sent, back = issued.content.split(b"\r\n"), returned.split(b"\r\n")
    assert len(back) == len(sent)
    assert back[0] == sent[0]
    for s, b, code in zip(sent[1:4], back[1:4], b"020", strict=True):
        assert b[:111] + b[112:] == s[:111] + s[112:], "only the result code differs"
        assert b[111] == code
    assert back[4].decode() == "8000003000000190005000002000000070005000001000000120000" + " " * 65
    assert parse_result(returned).failed_total == 120_000
    with pytest.raises(ValueError, match="振込結果コード"):
        bank_result(issued.content, {"0000000001": "7"})
