"""The bank's 振込結果 (a 全銀 file with a result code per transfer) settles a batch: every code, once per batch, only
the result of the batch's own file. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from kiban.benefits.models import FAILED, PAID
from kiban.benefits.service import confirm
from kiban.core.audit.service import entries
from kiban.core.errors import InputError
from kiban.payments.models import PaymentLine
from kiban.payments.results import import_result
from kiban.payments.service import (
    create_batch,
    customer_code,
    download_file,
)
from kiban.payments.zengin import RESULT_CODES, Account, Transfer, bank_result, build, parse

from benefit_town import (
    MAKER,
    PROGRAM,
    SENDER,
    TRANSFER_DAY,
    WELFARE,
    account,
    confirm_all_directly,
    entitlements,
    household_no,
    in_register,
    issued_batch,
    run,
    town,
)
from conftest import TestDatabase
from residents import A

CODES = ["0", "1", "2", "3", "4", "8", "9", "0"]
"""Lines 1…8 of the batch: paid, then every 振込不能 reason, then paid."""


def _result(batch_no: int, issued: bytes) -> bytes:
    return bank_result(issued, {customer_code(batch_no, i): c for i, c in enumerate(CODES, start=1)})


@pytest.fixture
def issued(db: TestDatabase) -> tuple[int, bytes]:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(9, children={2: 1})))
        confirm_all_directly(s, range(8))
    issued = issued_batch(db.app)
    return issued.batch_no, issued.content


def test_a_result_with_every_code_settles_the_batch(db: TestDatabase, issued: tuple[int, bytes]) -> None:
    batch_no, content = issued
    assert sorted(set(CODES)) == sorted(RESULT_CODES), "every code is in the result"
    with db.app.tenant(A) as s:
        summary = import_result(s, actor=MAKER, batch_no=batch_no, content=_result(batch_no, content))
    assert (summary.paid, summary.paid_total) == (2, 140_000)
    assert (summary.failed, summary.failed_total) == (6, 6 * 70_000 + 50_000)
    assert [(f.line_no, f.household_no, f.code) for f in summary.failures] == [
        (i, household_no(i - 1), code) for i, code in enumerate(CODES, start=1) if code != "0"
    ]
    assert summary.failures[1].reason == "取引なし（口座なし・解約済み）"
    stored = entitlements(db.app)
    assert [stored[household_no(i)].status for i in range(8)] == [PAID, *[FAILED] * 6, PAID]
    assert all(stored[household_no(i)].account_number is None for i in range(1, 7)), "a new account is needed"
    assert all(stored[household_no(i)].batch_no is None for i in range(1, 7))
    with db.app.tenant(A) as s:
        statuses = [x.status for x in s.scalars(select(PaymentLine).order_by(PaymentLine.line_no))]
        audited = [e for e in entries(s, lg_code=A) if e.action == "payments.result.import" and e.outcome != "denied"]
    assert statuses == ["paid", *["failed"] * 6, "paid"]
    assert len(audited) == 1
    assert audited[0].detail is not None
    assert json.loads(audited[0].detail)["failed_lines"] == [[i, c] for i, c in enumerate(CODES, start=1) if c != "0"]

    with db.app.tenant(A) as s, pytest.raises(InputError, match="口座確認済み・未払い"):
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
    with db.app.tenant(A) as s:
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(2), account=account(77))
        retry = create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
    assert [(x.household_no, x.amount, x.account_number) for x in retry.lines] == [
        (household_no(2), 120_000, "0000077")
    ]
    with db.app.tenant(A) as s, pytest.raises(InputError, match="振り込み済み"):
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(0), account=account(0))


def test_a_result_is_imported_once(db: TestDatabase, issued: tuple[int, bytes]) -> None:
    batch_no, content = issued
    with db.app.tenant(A) as s:
        import_result(s, actor=MAKER, batch_no=batch_no, content=_result(batch_no, content))
    for codes in (CODES, ["0"] * 8):  # the same result again, or a different one
        again = bank_result(content, {customer_code(batch_no, i): c for i, c in enumerate(codes, start=1)})
        with db.app.tenant(A) as s, pytest.raises(InputError, match="取り込み済み"):
            import_result(s, actor=MAKER, batch_no=batch_no, content=again)
    assert entitlements(db.app)[household_no(1)].status == FAILED
    with db.app.tenant(A) as s:
        refused = [e for e in entries(s, lg_code=A) if e.action == "payments.result.import" and e.outcome == "denied"]
    assert len(refused) == 2


def test_only_the_result_of_the_batchs_own_file_is_accepted(db: TestDatabase, issued: tuple[int, bytes]) -> None:
    first, first_file = issued
    with db.app.tenant(A) as s:
        confirm(s, actor=WELFARE, program_code=PROGRAM, household_no=household_no(8), account=account(8))
    second_issue = issued_batch(db.app)
    second, second_file = second_issue.batch_no, second_issue.content
    with db.app.tenant(A) as s, pytest.raises(InputError, match="支払バッチ 2 の振込結果ではありません") as caught:
        import_result(s, actor=MAKER, batch_no=second, content=_result(first, first_file))
    assert caught.value.errors[0].received == "0001"
    with db.app.tenant(A) as s, pytest.raises(InputError, match="振込結果ではありません"):
        import_result(s, actor=MAKER, batch_no=first, content=bank_result(second_file, {}))

    parsed = parse(first_file)
    fewer = [
        Transfer(Account(x.bank_code, "", x.branch_code, "", x.account_type, x.account_number), x.holder, x.amount, c)
        for x, c in ((x, x.customer_code) for x in parsed.lines[:-1])
    ]
    missing_one = bank_result(build(SENDER, fewer, TRANSFER_DAY).content, {})
    with db.app.tenant(A) as s, pytest.raises(InputError) as caught:
        import_result(s, actor=MAKER, batch_no=first, content=missing_one)
    assert [e.field for e in caught.value.errors] == ["データレコード", "トレーラーの合計"]

    other_day = _result(first, first_file).replace(b"1201", b"1202", 1)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="振込指定日"):
        import_result(s, actor=MAKER, batch_no=first, content=other_day)
    more = _result(first, first_file).replace(b"0000070000", b"0000700000", 1)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="トレーラー"):
        import_result(s, actor=MAKER, batch_no=first, content=more)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="120バイト"):
        import_result(s, actor=MAKER, batch_no=first, content=b"0001000001,0\n")
    with db.app.tenant(A) as s:
        assert {x.status for x in s.scalars(select(PaymentLine))} == {"sent"}, "nothing was settled"
        assert download_file(s, actor=MAKER, batch_no=first).content == first_file


def test_a_batch_without_a_file_has_no_result(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(2)))
        confirm_all_directly(s, range(2))
        batch_no = create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY).batch_no
    with db.app.tenant(A) as s, pytest.raises(InputError, match="発行していない"):
        import_result(s, actor=MAKER, batch_no=batch_no, content=b"")
