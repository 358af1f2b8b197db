"""Payment batches end to end: made by one person, approved by another on the hash they saw, issued once, settled
by the bank's result; and what the database itself refuses. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from kiban.core.audit.service import entries, record
from kiban.core.db import Database
from kiban.core.errors import InputError, NotFound, PermissionDenied
from kiban.core.identifiers import find_my_number_candidates
from kiban.core.identity.permissions import Role, permissions_of
from kiban.payments import zengin
from kiban.payments.models import PaymentFile, PaymentLine
from kiban.payments.results import import_result
from kiban.payments.service import (
    PURPOSE,
    approve,
    batch_lines,
    create_batch,
    customer_code,
    download_file,
    edit_line,
    issue_file,
)
from kiban.payments.zengin import Sender, Transfer, ZenginFile, parse

from at_once import at_once
from benefit_town import (
    CHECKER,
    CHECKER2,
    MAKER,
    PROGRAM,
    SENDER,
    TRANSFER_DAY,
    account,
    approved_batch,
    confirm_all_directly,
    entitlements,
    household_no,
    in_register,
    issued_batch,
    made_batch,
    run,
    town,
)
from conftest import TestDatabase
from residents import A


def _town(db: TestDatabase, households: int = 4, confirmed: int = 3) -> None:
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(households, children={1: 2})))
        confirm_all_directly(s, range(confirmed))


def _denied(db: TestDatabase) -> list[tuple[str, str]]:
    with db.app.tenant(A) as s:
        return [(x.action, x.actor) for x in entries(s, lg_code=A) if x.outcome == "denied"]


def test_a_batch_pays_each_confirmed_household_its_entitlement_and_the_trailer_is_the_approved_total(
    db: TestDatabase,
) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        made = create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)
    assert [(x.household_no, x.amount) for x in made.lines] == [
        (household_no(0), 70_000),
        (household_no(1), 170_000),
        (household_no(2), 70_000),
    ]
    stored = entitlements(db.app)
    assert all(x.amount == stored[x.household_no].amount for x in made.lines)
    assert household_no(3) not in {x.household_no for x in made.lines}, "not confirmed: not paid"
    with db.app.tenant(A) as s:
        seen = batch_lines(s, actor=CHECKER, batch_no=made.batch_no)
        approved = approve(s, actor=CHECKER, batch_no=made.batch_no, seen_hash=seen.content_hash)
    assert seen.content_hash == made.content_hash == approved.approved_hash
    with db.app.tenant(A) as s:
        issued = issue_file(s, actor=MAKER, batch_no=made.batch_no, sender=SENDER)
    back = parse(issued.content)
    assert (back.count, back.total) == (3, 310_000) == (approved.count, approved.total)
    first_line = issued.content.split(b"\r\n")[1]
    assert (first_line[5:20], first_line[23:38]) == (b" " * 15, b" " * 15), "bank and branch names left blank"
    assert [(x.customer_code, x.amount) for x in back.lines] == [
        (customer_code(1, 1), 70_000),
        (customer_code(1, 2), 170_000),
        (customer_code(1, 3), 70_000),
    ]
    with db.app.tenant(A) as s:
        assert {x.status for x in s.scalars(select(PaymentLine))} == {"sent"}
        actions = [x.action for x in reversed(entries(s, lg_code=A))]
    assert actions[-4:] == [
        "payments.batch.create",
        "payments.batch.read",
        "payments.batch.approve",
        "payments.file.issue",
    ]
    with db.app.tenant(A) as s, pytest.raises(InputError, match="口座確認済み・未払いの世帯がありません"):
        create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY)


def test_the_maker_cannot_approve_their_own_batch(db: TestDatabase) -> None:
    _town(db)
    batch_no = made_batch(db.app)
    with db.app.tenant(A) as s:
        seen = batch_lines(s, actor=MAKER, batch_no=batch_no)
    both = frozenset({Role.PAYMENT_MAKER, Role.PAYMENT_CHECKER})
    maker_and_checker = replace(MAKER, roles=both, permissions=permissions_of(both))
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match="別の支払承認者"):
        approve(s, actor=maker_and_checker, batch_no=batch_no, seen_hash=seen.content_hash)
    with db.app.tenant(A) as s, pytest.raises(PermissionDenied, match=r"payment\.approve"):
        approve(s, actor=MAKER, batch_no=batch_no, seen_hash=seen.content_hash)
    assert _denied(db) == [("payments.batch.approve", "maker1"), ("payments.batch.approve", "maker1")]
    with db.app.tenant(A) as s:
        assert batch_lines(s, actor=MAKER, batch_no=batch_no).approved_by is None


def test_an_approval_on_a_stale_hash_is_refused(db: TestDatabase) -> None:
    _town(db)
    batch_no = made_batch(db.app)
    with db.app.tenant(A) as s:
        seen = batch_lines(s, actor=CHECKER, batch_no=batch_no)
        edit_line(s, actor=MAKER, batch_no=batch_no, line_no=2, account=account(42))
    with db.app.tenant(A) as s, pytest.raises(InputError, match="明細が確認後に変更されています"):
        approve(s, actor=CHECKER, batch_no=batch_no, seen_hash=seen.content_hash)
    assert _denied(db) == [("payments.batch.approve", "checker1")]
    with db.app.tenant(A) as s:
        fresh = batch_lines(s, actor=CHECKER, batch_no=batch_no)
        assert fresh.content_hash != seen.content_hash
        assert fresh.lines[1].account_number == "0000042"
        approve(s, actor=CHECKER, batch_no=batch_no, seen_hash=fresh.content_hash)


def test_editing_an_approved_batch_voids_the_approval_until_it_is_approved_again(db: TestDatabase) -> None:
    _town(db)
    batch_no = approved_batch(db.app)
    with db.app.tenant(A) as s:
        edited = edit_line(s, actor=MAKER, batch_no=batch_no, line_no=1, account=account(77))
    assert (edited.approved_by, edited.approved_hash) == (None, None)
    assert entitlements(db.app)[household_no(0)].account_number == "0000077", "the entitlement is corrected too"
    with db.app.tenant(A) as s, pytest.raises(InputError, match="承認されていません"):
        issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    with db.app.tenant(A) as s:
        seen = batch_lines(s, actor=CHECKER2, batch_no=batch_no)
        approve(s, actor=CHECKER2, batch_no=batch_no, seen_hash=seen.content_hash)
    with db.app.tenant(A) as s:
        issued = issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    assert parse(issued.content).lines[0].account_number == "0000077"
    with db.app.tenant(A) as s, pytest.raises(InputError, match="発行済みのため明細は直せません"):
        edit_line(s, actor=MAKER, batch_no=batch_no, line_no=1, account=account(78))


def test_a_line_changed_behind_the_service_after_approval_blocks_the_issue(db: TestDatabase) -> None:
    _town(db)
    batch_no = approved_batch(db.app)
    with db.app.tenant(A) as s:
        s.execute(
            text("UPDATE payment_line SET account_number = '9999999' WHERE batch_no = :b AND line_no = 1"),
            {"b": batch_no},
        )
    with db.app.tenant(A) as s, pytest.raises(InputError, match="承認後に明細が変更されています"):
        issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    with db.app.tenant(A) as s:
        assert s.scalar(select(PaymentFile.batch_no)) is None


def test_a_batch_is_issued_once_and_its_file_is_downloaded_not_regenerated(db: TestDatabase) -> None:
    _town(db)
    batch_no = approved_batch(db.app)
    with db.app.tenant(A) as s:
        first = issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="発行済みです"):
        issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    with db.app.tenant(A) as s:
        again = download_file(s, actor=MAKER, batch_no=batch_no)
        assert len(list(s.scalars(select(PaymentFile)))) == 1
    assert (again.content, again.sha256) == (first.content, first.sha256)
    assert _denied(db) == [("payments.file.issue", "maker1")]
    with db.app.tenant(A) as s, pytest.raises(InputError, match="発行済みのため、承認し直す"):
        approve(s, actor=CHECKER, batch_no=batch_no, seen_hash=first.sha256)
    with db.app.tenant(A) as s, pytest.raises(NotFound):
        download_file(s, actor=MAKER, batch_no=99)


def test_a_file_identical_to_an_earlier_one_is_refused(db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    """垂水市 2024: whatever made it, bytes already sent are never issued again (service check, then the UNIQUE
    constraint)."""
    _town(db, households=4, confirmed=2)
    first_batch = issued_batch(db.app).batch_no
    with db.app.tenant(A) as s:
        first = download_file(s, actor=MAKER, batch_no=first_batch)
        confirm_all_directly(s, range(2, 4))
    second_batch = approved_batch(db.app)
    resent = ZenginFile(content=first.content, count=first.count, total=first.total)
    monkeypatch.setattr(zengin, "build", lambda *args: resent)
    with (
        db.app.tenant(A) as s,
        pytest.raises(InputError, match=f"支払バッチ {first_batch} で発行済みのファイルと同じ内容"),
    ):
        issue_file(s, actor=MAKER, batch_no=second_batch, sender=SENDER)
    with db.app.tenant(A) as s:
        lines = list(s.scalars(select(PaymentLine).where(PaymentLine.batch_no == second_batch)))
        assert {x.status for x in lines} == {"pending"}
        assert s.scalar(select(PaymentFile.batch_no).where(PaymentFile.batch_no == second_batch)) is None
    with db.app.tenant(A) as s, pytest.raises(IntegrityError):
        s.execute(
            text(
                "INSERT INTO payment_file (lg_code, batch_no, sha256, content, line_count, total, issued_at, issued_by)"
                " VALUES (:lg, :b, :sha, :c, 1, 70000, CURRENT_TIMESTAMP, 'x')"
            ),
            {"lg": A, "b": second_batch, "sha": first.sha256, "c": first.content},
        )


def test_a_file_whose_trailer_is_not_the_approved_total_is_not_issued(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """阿武町 2022: nothing leaves with a total or a line nobody approved."""
    _town(db)
    batch_no = approved_batch(db.app)
    real_build = zengin.build

    def one_more(sender: Sender, transfers: Sequence[Transfer], day: date) -> ZenginFile:
        return real_build(sender, [*transfers, replace(transfers[0], amount=46_300_000)], day)

    monkeypatch.setattr(zengin, "build", one_more)
    with db.app.tenant(A) as s, pytest.raises(InputError, match="承認された 3件 310,000円と一致しません"):
        issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    monkeypatch.setattr(zengin, "build", real_build)
    with db.app.tenant(A) as s:
        issued = issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    assert (parse(issued.content).count, parse(issued.content).total) == (3, 310_000)


@pytest.fixture
def paid_line(db: TestDatabase) -> TestDatabase:
    _town(db, households=2, confirmed=1)
    batch_no = issued_batch(db.app).batch_no
    with db.app.tenant(A) as s:
        issued = download_file(s, actor=MAKER, batch_no=batch_no).content
        import_result(s, actor=MAKER, batch_no=batch_no, content=zengin.bank_result(issued, {}))
    return db


INSERT_LINE = (
    "INSERT INTO payment_line (lg_code, batch_no, line_no, program, household_no, amount, bank_code, branch_code, "
    "account_type, account_number, holder_kana, status) VALUES (:lg, 1, :line, :p, :h, :amount, '0005', '123', '1', "
    "'0000001', 'ﾔﾏﾀﾞ', :status)"
)


def test_the_database_refuses_a_second_line_for_a_paid_household(paid_line: TestDatabase) -> None:
    values = {"lg": A, "line": 2, "p": PROGRAM, "h": household_no(0), "amount": 70_000}
    for status in ("pending", "sent", "paid"):
        with paid_line.app.tenant(A) as s, pytest.raises(IntegrityError):
            s.execute(text(INSERT_LINE), {**values, "status": status})
    with paid_line.app.tenant(A) as s:  # a failed line (a record of what the bank refused) is allowed
        s.execute(text(INSERT_LINE), {**values, "status": "failed"})


def test_the_database_refuses_lines_of_no_amount_or_without_an_entitlement(paid_line: TestDatabase) -> None:
    with paid_line.app.tenant(A) as s, pytest.raises(IntegrityError):
        s.execute(
            text(INSERT_LINE),
            {"lg": A, "line": 2, "p": PROGRAM, "h": household_no(1), "amount": 0, "status": "pending"},
        )
    with paid_line.app.tenant(A) as s, pytest.raises(IntegrityError):
        s.execute(
            text(INSERT_LINE), {"lg": A, "line": 2, "p": PROGRAM, "h": "H99999", "amount": 1, "status": "pending"}
        )


def test_the_database_refuses_to_delete_or_rewrite_a_paid_line(paid_line: TestDatabase) -> None:
    for statement in (
        "DELETE FROM payment_line WHERE household_no = :h",
        "UPDATE payment_line SET amount = amount + 1 WHERE household_no = :h",
        "UPDATE payment_line SET account_number = '7777777' WHERE household_no = :h",
        "UPDATE payment_line SET status = 'pending' WHERE household_no = :h",
        "UPDATE payment_line SET status = 'failed' WHERE household_no = :h",
    ):
        with paid_line.app.tenant(A) as s, pytest.raises(IntegrityError):
            s.execute(text(statement), {"h": household_no(0)})
    for statement in ("DELETE FROM payment_file", "UPDATE payment_file SET total = 0"):
        with paid_line.app.tenant(A) as s, pytest.raises(Exception, match=r"append-only|permission denied"):
            s.execute(text(statement))
    with paid_line.app.tenant(A) as s:
        assert [(x.status, x.amount) for x in s.scalars(select(PaymentLine))] == [("paid", 70_000)]


def test_a_plain_hash_holding_digits_that_pass_the_check_is_written_but_a_my_number_is_not(db: TestDatabase) -> None:
    digits = "199111640514"  # 12 digits that pass the My Number check digit, as they appeared inside a real SHA-256
    assert find_my_number_candidates(digits) == [digits]
    value = "42599d547c64d" + digits + "d5a6d4373139b015925a4f9a7c47731cd2b6f49"
    with db.app.tenant(A) as s:
        record(s, actor=MAKER, action="payments.file.download", purpose=PURPOSE, detail={"sha256": value})
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="My Number"):
        record(s, actor=MAKER, action="payments.file.download", purpose=PURPOSE, detail={"sha256": digits})
    with db.app.tenant(A) as s:
        assert [json.loads(x.detail or "{}") for x in entries(s, lg_code=A)] == [{"sha256": value}]


def test_an_approval_on_a_value_that_is_not_a_hash_is_refused_without_writing_it(db: TestDatabase) -> None:
    _town(db)
    batch_no = made_batch(db.app)
    with db.app.tenant(A) as s:
        current = batch_lines(s, actor=CHECKER, batch_no=batch_no).content_hash
    with db.app.tenant(A) as s, pytest.raises(InputError, match="明細が確認後に変更されています"):
        approve(s, actor=CHECKER, batch_no=batch_no, seen_hash="621498320257")  # a My Number typed in by hand
    with db.app.tenant(A) as s:
        denied = [json.loads(x.detail or "{}") for x in entries(s, lg_code=A) if x.outcome == "denied"]
    assert denied == [{"seen_hash": "（SHA-256 ではない値）", "current_hash": current}]


@pytest.mark.postgres
def test_two_makers_at_once_never_put_a_household_in_two_batches(pg_db: TestDatabase) -> None:
    _town(pg_db, households=60, confirmed=60)
    database = Database(pg_db.app_url, pool_size=4, max_overflow=0)
    made: list[int] = []

    def make() -> None:
        with database.tenant(A) as s:
            made.append(
                create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY, max_lines=20).count
            )

    refused = at_once([make] * 4)
    database.dispose()
    assert sorted(made) == [20, 20, 20]
    assert [type(x) for x in refused] == [InputError]
    with pg_db.app.tenant(A) as s:
        lines = list(s.scalars(select(PaymentLine)))
    assert len({x.household_no for x in lines}) == len(lines) == 60
