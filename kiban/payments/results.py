"""The bank's 振込結果 of a payment batch (``import_result``): the 全銀 records returned with a 振込結果コード per
transfer and the 振込済 / 振込不能 totals (``zengin.parse_result``).

What the import guarantees: it is accepted only as the result of the batch's own issued file (the same 委託者 and
振込指定日, exactly the issued lines by 顧客コード, each with the amount and account sent, the trailer's count and
total) and only once per batch, all or nothing in the caller's transaction; 0 振込済 → the line and its entitlement
are paid; any other code (振込不能) → the line is failed and the household needs a new account (``confirm``) before a
new batch. Authorized (``PAYMENT_MAKE``) and audited with every failed line's code; a refused file is audited too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kiban.benefits.models import FAILED as ENTITLEMENT_FAILED
from kiban.benefits.models import PAID as ENTITLEMENT_PAID
from kiban.benefits.models import Entitlement
from kiban.benefits.service import lock_program, set_account
from kiban.core.audit.service import record, record_refusal
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments import zengin
from kiban.payments.models import FAILED, PAID, SENT
from kiban.payments.service import PURPOSE, batch_of, customer_code, file_of, lines_of, may, refuse


@dataclass(frozen=True)
class Failure:
    """A 振込不能 line of a result: its household, amount and the bank's reason."""

    line_no: int
    household_no: str
    amount: int
    code: str
    """振込結果コード (``zengin.RESULT_CODES``)."""
    reason: str


@dataclass(frozen=True)
class ResultSummary:
    batch_no: int
    paid: int
    paid_total: int
    failed: int
    failed_total: int
    failures: list[Failure]


def _paid_to(line: zengin.ParsedLine) -> tuple[int, str, str, str, str]:
    return line.amount, line.bank_code, line.branch_code, line.account_type, line.account_number


def _result_errors(issued: zengin.Parsed, result: zengin.ParsedResult, batch_no: int) -> list[FieldError]:
    """Why ``result`` is not the bank's result of the issued file (empty when it is): the same 委託者 and 振込指定日,
    exactly the issued lines by 顧客コード, each with the amount and account sent; the trailer's count and total equal
    to the issued file's."""
    errors: list[FieldError] = []
    if (result.client_code, result.transfer_date) != (issued.client_code, issued.transfer_date):
        errors.append(
            FieldError(
                "ヘッダー（委託者コード・振込指定日）",
                f"{result.client_code}・{result.transfer_date}",
                f"発行したファイルは {issued.client_code}・{issued.transfer_date} です。",
            )
        )
    sent = {x.customer_code: x for x in issued.lines}
    returned = {x.line.customer_code: x.line for x in result.lines}
    others = sorted({c[:4] for c in returned if c not in sent})
    if others:
        errors.append(
            FieldError(
                "顧客コード",
                "、".join(others),
                f"支払バッチ {batch_no} の振込結果ではありません（顧客コードの先頭4桁が支払バッチ番号です）。",
            )
        )
    missing = [c for c in sent if c not in returned]
    if missing or len(returned) != len(result.lines):
        errors.append(
            FieldError(
                "データレコード",
                f"{len(result.lines)}件",
                f"発行したファイルの{len(sent)}件の明細それぞれに結果が1件ずつ必要です（不足 {len(missing)}件）。",
            )
        )
    changed = [c for c, line in returned.items() if c in sent and _paid_to(line) != _paid_to(sent[c])]
    if changed:
        errors.append(FieldError("振込金額・口座", "、".join(changed[:5]), "発行したファイルの明細と一致しません。"))
    if (result.count, result.total) != (issued.count, issued.total):
        errors.append(
            FieldError(
                "トレーラーの合計",
                f"{result.count}件 {result.total:,}円",
                f"発行したファイルは {issued.count}件 {issued.total:,}円です。",
            )
        )
    return errors


def import_result(db_session: TenantSession, *, actor: Principal, batch_no: int, content: bytes) -> ResultSummary:
    """The bank's 振込結果 of the batch's issued file (``zengin.parse_result``), all or nothing: it must be the result
    of exactly that file (委託者, 振込指定日, every line by 顧客コード with its amount and account, the trailer's count
    and total) and the first one imported for the batch. 0 振込済 → the line and the entitlement are paid; any other
    code (振込不能) → the line is failed and the entitlement goes back to ``failed`` without an account (a new account
    must be confirmed before it is batched again). Needs ``PAYMENT_MAKE``; audited with every failed line's code."""
    lg_code = may(db_session, actor, Permission.PAYMENT_MAKE, "payments.result.import")
    action = "payments.result.import"
    batch = batch_of(db_session, batch_no, lock=True)
    lock_program(db_session, lg_code, batch.program)
    issued = file_of(db_session, batch_no)
    if issued is None:
        raise refuse(db_session, actor, action, batch_no, "全銀ファイルを発行していないバッチです。")
    try:
        result = zengin.parse_result(content)
        errors = _result_errors(zengin.parse(issued.content), result, batch_no)
    except InputError as exc:
        errors = list(exc.errors)
    if errors:
        detail = {"problems": [e.field for e in errors], "sha256": hashlib.sha256(content).hexdigest()}
        record_refusal(
            db_session, actor=actor, action=action, purpose=PURPOSE, subject=f"batch:{batch_no}", detail=detail
        )
        raise InputError(*errors)
    lines = {customer_code(batch_no, x.line_no): x for x in lines_of(db_session, batch_no)}
    settled = [x for x in lines.values() if x.status != SENT]
    if settled:
        raise refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "振込結果",
                f"{len(settled)}件取込済み",
                f"支払バッチ {batch_no} の振込結果は取り込み済みです。同じ結果を二度取り込むことはできません。",
            ),
        )
    failures: list[Failure] = []
    for outcome in result.lines:
        line = lines[outcome.line.customer_code]
        entitlement = db_session.get(Entitlement, (lg_code, line.program, line.household_no))
        if entitlement is None:  # the foreign key makes this impossible
            raise RuntimeError(f"line {batch_no}/{line.line_no} has no entitlement")
        if outcome.paid:
            line.status, entitlement.status = PAID, ENTITLEMENT_PAID
            continue
        line.status, entitlement.status, entitlement.batch_no = FAILED, ENTITLEMENT_FAILED, None
        set_account(entitlement, None)
        failures.append(Failure(line.line_no, line.household_no, line.amount, outcome.code, outcome.reason))
    db_session.flush()
    summary = ResultSummary(
        batch_no, result.paid_count, result.paid_total, result.failed_count, result.failed_total, failures
    )
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "paid": summary.paid,
            "paid_total": summary.paid_total,
            "failed": summary.failed,
            "failed_total": summary.failed_total,
            "failed_lines": [[x.line_no, x.code] for x in failures],
            "sha256": hashlib.sha256(content).hexdigest(),
        },
    )
    return summary
