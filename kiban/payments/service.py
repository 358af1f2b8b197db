"""Payment batches: made by one person, approved by another on the exact content they saw, issued once as a 全銀
file, settled by the bank's result.

Verbs: ``create_batch`` (起票), ``batch_lines`` (what a 承認者 reviews: every line and the content hash),
``approve`` (承認), ``edit_line`` (a correction, which voids the approval), ``issue_file`` (the 全銀 file, once),
``download_file`` (the stored file again, never regenerated), ``import_result`` (振込結果).

What each step guarantees (the incidents in ``docs/architecture.md``):

* a line pays exactly its entitlement's amount (checked when made and again when issued) and a beneficiary has at
  most one line that is not ``failed`` (also a database constraint): no double payment (寝屋川市 2020);
* the 承認者 is not the 起票者, and approves the SHA-256 of the canonical lines they were shown; any change to the
  lines changes the hash and clears the approval, and a file is issued only when the current hash is the approved
  one — so nobody pays a total, or a line, that nobody checked (阿武町 2022);
* one file per batch, made once in the transaction that marks its lines sent; a second issue is refused, and so is
  a file whose bytes equal any earlier file's (垂水市 2024); the trailer's count and total must equal the approved
  ones;
* the bank's 振込結果 (a 全銀 file, ``zengin.parse_result``) is imported once per batch and only if it is the result
  of the batch's own file, line by line and total by total; 振込不能 lines become ``failed`` and their households
  need a new account (``confirm``) before a new batch.

All of it happens in the caller's transaction, so a process killed at any point leaves either the whole step or
none of it. Every call is authorized and audited.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update

from kiban.benefits.models import CONFIRMED, Entitlement
from kiban.benefits.models import FAILED as ENTITLEMENT_FAILED
from kiban.benefits.models import PAID as ENTITLEMENT_PAID
from kiban.benefits.national_check import exclude_blocked
from kiban.benefits.service import (
    BankAccount,
    checked_account,
    lock_program,
    not_entitled,
    program_of,
    set_account,
)
from kiban.core.audit.service import authorize, record, record_refusal
from kiban.core.dates import is_bank_business_day
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound, PermissionDenied
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments import zengin
from kiban.payments.models import FAILED, PAID, PENDING, SENT, PaymentBatch, PaymentFile, PaymentLine

PURPOSE = "給付金の支払"
"""Purpose written on every audit entry of the payments domain."""
MAX_BATCH_NO = 9_999
MAX_LINES = 999_999
"""The 顧客コード1 (N10) of a line is its batch number (4 digits) followed by its line number (6 digits)."""


@dataclass(frozen=True)
class Line:
    line_no: int
    household_no: str
    amount: int
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_kana: str
    status: str


@dataclass(frozen=True)
class BatchView:
    """A batch as its 承認者 reviews it: every line, the totals, and the hash to approve."""

    batch_no: int
    program: str
    maker: str
    transfer_date: date
    lines: list[Line]
    count: int
    total: int
    content_hash: str
    approved_by: str | None
    approved_hash: str | None
    issued_sha256: str | None


@dataclass(frozen=True)
class IssuedFile:
    batch_no: int
    sha256: str
    count: int
    total: int
    content: bytes


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


def customer_code(batch_no: int, line_no: int) -> str:
    return f"{batch_no:04d}{line_no:06d}"


def content_hash(batch: PaymentBatch, lines: Sequence[PaymentLine]) -> str:
    """SHA-256 of the canonical content: the batch's program and transfer date and every line (number, household,
    amount, account) in line order. Status is not content: sending and settling do not change it."""
    document = {
        "batch_no": batch.batch_no,
        "program": batch.program,
        "transfer_date": batch.transfer_date.isoformat(),
        "lines": [
            [
                line.line_no,
                line.household_no,
                line.amount,
                line.bank_code,
                line.branch_code,
                line.account_type,
                line.account_number,
                line.holder_kana,
            ]
            for line in sorted(lines, key=lambda x: x.line_no)
        ],
    }
    canonical = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _may(db_session: TenantSession, actor: Principal, permission: Permission, action: str) -> str:
    return authorize(db_session, actor=actor, permission=permission, action=action, purpose=PURPOSE)


def _may_read_batch(db_session: TenantSession, actor: Principal, action: str) -> str:
    """A batch's lines are read by the 承認者 (``PAYMENT_APPROVE``) or the 起票者 (``PAYMENT_MAKE``)."""
    permission = Permission.PAYMENT_APPROVE if actor.can(Permission.PAYMENT_APPROVE) else Permission.PAYMENT_MAKE
    return _may(db_session, actor, permission, action)


def _refuse(
    db_session: TenantSession, actor: Principal, action: str, batch_no: int, fix: str | FieldError, **detail: Any
) -> InputError:
    """A refusal about one batch: audited (in a transaction that survives the caller's rollback), then raised; a
    plain message is about the batch itself (field 「支払バッチ」)."""
    record_refusal(
        db_session, actor=actor, action=action, purpose=PURPOSE, subject=f"batch:{batch_no}", detail=detail or None
    )
    return InputError(fix if isinstance(fix, FieldError) else FieldError("支払バッチ", str(batch_no), fix))


def _batch(db_session: TenantSession, batch_no: int, *, lock: bool) -> PaymentBatch:
    query = select(PaymentBatch).where(PaymentBatch.batch_no == batch_no)
    if lock:
        query = query.with_for_update()
    found = db_session.scalar(query.execution_options(populate_existing=True))
    if found is None:
        raise NotFound(f"支払バッチ {batch_no} はありません。バッチ番号を確認してください。")
    return found


def _lines(db_session: TenantSession, batch_no: int) -> list[PaymentLine]:
    query = select(PaymentLine).where(PaymentLine.batch_no == batch_no).order_by(PaymentLine.line_no)
    return list(db_session.scalars(query.execution_options(populate_existing=True)))


def _file(db_session: TenantSession, batch_no: int) -> PaymentFile | None:
    return db_session.scalar(select(PaymentFile).where(PaymentFile.batch_no == batch_no))


def _line_of(x: PaymentLine) -> Line:
    return Line(
        x.line_no,
        x.household_no,
        x.amount,
        x.bank_code,
        x.branch_code,
        x.account_type,
        x.account_number,
        x.holder_kana,
        x.status,
    )


def _view(batch: PaymentBatch, lines: Sequence[PaymentLine], issued: PaymentFile | None) -> BatchView:
    return BatchView(
        batch_no=batch.batch_no,
        program=batch.program,
        maker=batch.maker,
        transfer_date=batch.transfer_date,
        lines=[_line_of(x) for x in lines],
        count=len(lines),
        total=sum(x.amount for x in lines),
        content_hash=content_hash(batch, lines),
        approved_by=batch.approved_by,
        approved_hash=batch.approved_hash,
        issued_sha256=issued.sha256 if issued else None,
    )


def _amounts_differ(db_session: TenantSession, batch_no: int) -> list[str]:
    """Households of the batch whose line does not pay exactly their entitlement's amount (must be none)."""
    query = (
        select(PaymentLine.household_no)
        .join(
            Entitlement,
            (Entitlement.lg_code == PaymentLine.lg_code)
            & (Entitlement.program == PaymentLine.program)
            & (Entitlement.household_no == PaymentLine.household_no),
        )
        .where(PaymentLine.batch_no == batch_no, PaymentLine.amount != Entitlement.amount)
    )
    return list(db_session.scalars(query))


def create_batch(
    db_session: TenantSession,
    *,
    actor: Principal,
    program_code: str,
    transfer_date: date,
    max_lines: int | None = None,
) -> BatchView:
    """A batch of every confirmed entitlement of the program that has an account and no line in flight (at most
    ``max_lines``, by 世帯番号), each line paying exactly the entitlement's amount; a household another municipality
    pays, or some entitled person of which the national duplicate check has not seen, is left out and put on review
    (``national_check.exclude_blocked``: fail-closed). Needs ``PAYMENT_MAKE``; audited."""
    lg_code = _may(db_session, actor, Permission.PAYMENT_MAKE, "payments.batch.create")
    program = program_of(program_code)
    if not is_bank_business_day(transfer_date):
        raise InputError(FieldError("振込指定日", transfer_date.isoformat(), "銀行営業日を指定してください。"))
    lock_program(db_session, lg_code, program.code)
    query = (
        select(Entitlement)
        .where(
            Entitlement.program == program.code,
            Entitlement.status == CONFIRMED,
            Entitlement.batch_no.is_(None),
            Entitlement.bank_code.is_not(None),
            Entitlement.amount > 0,
        )
        .order_by(Entitlement.household_no)
        .limit(min(max_lines or MAX_LINES, MAX_LINES))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payable = exclude_blocked(db_session, program=program.code, payable=list(db_session.scalars(query)))
    if not payable:
        raise InputError(
            FieldError(
                "支払対象",
                "0件",
                f"{program.name}で口座確認済み・未払いの世帯がありません。確認書の受付（口座の確認）を先に行ってください。",
            )
        )
    batch_no = (db_session.scalar(select(func.max(PaymentBatch.batch_no))) or 0) + 1
    if batch_no > MAX_BATCH_NO:
        raise InputError(FieldError("支払バッチ番号", str(batch_no), f"{MAX_BATCH_NO}件を超えるバッチは作れません。"))
    batch = PaymentBatch(
        lg_code=lg_code,
        batch_no=batch_no,
        program=program.code,
        maker=actor.user_id,
        created_at=datetime.now(UTC),
        transfer_date=transfer_date,
        line_count=len(payable),
        total=sum(e.amount for e in payable),
        content_hash="",
    )
    db_session.add(batch)
    db_session.flush()
    lines = []
    for line_no, e in enumerate(payable, start=1):
        if e.bank_code is None or e.branch_code is None or e.account_type is None or e.account_number is None:
            raise RuntimeError(f"confirmed entitlement {e.household_no} has no account")  # excluded by the query
        lines.append(
            PaymentLine(
                lg_code=lg_code,
                batch_no=batch_no,
                line_no=line_no,
                program=program.code,
                household_no=e.household_no,
                amount=e.amount,
                bank_code=e.bank_code,
                branch_code=e.branch_code,
                account_type=e.account_type,
                account_number=e.account_number,
                holder_kana=e.holder_kana or "",
                status=PENDING,
            )
        )
        e.batch_no = batch_no
    db_session.add_all(lines)
    db_session.flush()
    wrong = _amounts_differ(db_session, batch_no)
    if wrong:  # the lines were just copied from the entitlements: this would be a bug, never pay it
        raise RuntimeError(f"batch {batch_no}: line amounts differ from the entitlements of {wrong[:5]}")
    batch.content_hash = content_hash(batch, lines)
    record(
        db_session,
        actor=actor,
        action="payments.batch.create",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "program": program.code,
            "lines": len(lines),
            "total": batch.total,
            "transfer_date": transfer_date.isoformat(),
            "content_hash": batch.content_hash,
        },
    )
    db_session.flush()
    return _view(batch, lines, None)


def batch_lines(db_session: TenantSession, *, actor: Principal, batch_no: int) -> BatchView:
    """Every line of the batch and the hash a 承認者 approves. Needs ``PAYMENT_APPROVE`` or ``PAYMENT_MAKE``;
    audited."""
    _may_read_batch(db_session, actor, "payments.batch.read")
    batch = _batch(db_session, batch_no, lock=False)
    view = _view(batch, _lines(db_session, batch_no), _file(db_session, batch_no))
    record(
        db_session,
        actor=actor,
        action="payments.batch.read",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={"lines": view.count, "total": view.total, "content_hash": view.content_hash},
    )
    return view


def approve(db_session: TenantSession, *, actor: Principal, batch_no: int, seen_hash: str) -> BatchView:
    """The 承認者 approves the content whose hash they were shown (``batch_lines``). Refused (and audited) when the
    承認者 is the 起票者, when the lines changed since (the hash differs), or when the file was already issued.
    Needs ``PAYMENT_APPROVE``."""
    _may(db_session, actor, Permission.PAYMENT_APPROVE, "payments.batch.approve")
    batch = _batch(db_session, batch_no, lock=True)
    action = "payments.batch.approve"
    if actor.user_id == batch.maker:
        record_refusal(
            db_session,
            actor=actor,
            action=action,
            purpose=PURPOSE,
            subject=f"batch:{batch_no}",
            detail={"reason": "maker_cannot_approve"},
        )
        raise PermissionDenied(
            f"支払バッチ {batch_no} は {batch.maker} が作成したため、同じ職員は承認できません。"
            "別の支払承認者が明細を確認して承認してください。"
        )
    issued = _file(db_session, batch_no)
    if issued is not None:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            "全銀ファイルを発行済みのため、承認し直すことはできません。",
        )
    lines = _lines(db_session, batch_no)
    current = content_hash(batch, lines)
    if seen_hash != current or batch.content_hash != current:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "確認した明細のハッシュ",
                seen_hash,
                "明細が確認後に変更されています。明細を表示し直し、最新の内容を確認してから承認してください。",
            ),
            # the form posts it: whatever is not a SHA-256 (e.g. a number typed in by hand) is not written
            seen_hash=seen_hash if re.fullmatch(r"[0-9a-f]{64}", seen_hash) else "（SHA-256 ではない値）",
            current_hash=current,
        )
    total = sum(x.amount for x in lines)
    if (len(lines), total) != (batch.line_count, batch.total):  # the hash matched, so this would be a bug
        raise RuntimeError(f"batch {batch_no}: stored count/total differ from its lines")
    batch.approved_by, batch.approved_at = actor.user_id, datetime.now(UTC)
    batch.approved_hash, batch.approved_total = current, total
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={"lines": len(lines), "total": total, "content_hash": current, "maker": batch.maker},
    )
    db_session.flush()
    return _view(batch, lines, None)


def edit_line(
    db_session: TenantSession, *, actor: Principal, batch_no: int, line_no: int, account: BankAccount
) -> BatchView:
    """Correct a line's account before the file is issued (the entitlement's account too). The content hash changes
    and any approval is voided: the batch must be approved again. Needs ``PAYMENT_MAKE``; audited."""
    _may(db_session, actor, Permission.PAYMENT_MAKE, "payments.line.edit")
    given = checked_account(account)
    batch = _batch(db_session, batch_no, lock=True)
    action = "payments.line.edit"
    if _file(db_session, batch_no) is not None:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            "全銀ファイルを発行済みのため明細は直せません。振込不能の結果を取り込んでから口座を確認し直してください。",
        )
    lines = _lines(db_session, batch_no)
    line = next((x for x in lines if x.line_no == line_no), None)
    if line is None:
        raise NotFound(f"支払バッチ {batch_no} に明細 {line_no} はありません。明細番号を確認してください。")
    old_hash = batch.content_hash
    line.bank_code, line.branch_code, line.account_type = given.bank_code, given.branch_code, given.account_type
    line.account_number, line.holder_kana = given.account_number, given.holder_kana
    entitlement = db_session.get(Entitlement, (batch.lg_code, line.program, line.household_no))
    if entitlement is not None:
        set_account(entitlement, given)
    voided = batch.approved_hash is not None
    batch.approved_by = batch.approved_at = batch.approved_hash = batch.approved_total = None
    batch.content_hash = content_hash(batch, lines)
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "line_no": line_no,
            "household_no": line.household_no,
            "approval_voided": voided,
            "old_hash": old_hash,
            "new_hash": batch.content_hash,
        },
    )
    db_session.flush()
    return _view(batch, lines, None)


def issue_file(db_session: TenantSession, *, actor: Principal, batch_no: int, sender: zengin.Sender) -> IssuedFile:
    """The batch's 全銀 総合振込 file, made once: only for an approved batch whose content is still what was approved;
    stored with its SHA-256 and its lines marked sent in the caller's transaction. A second issue, or a file
    identical to an earlier one, is refused. Needs ``PAYMENT_MAKE``; audited."""
    _may(db_session, actor, Permission.PAYMENT_MAKE, "payments.file.issue")
    action = "payments.file.issue"
    batch = _batch(db_session, batch_no, lock=True)
    issued = _file(db_session, batch_no)
    if issued is not None:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            f"全銀ファイルは {issued.issued_at:%Y-%m-%d %H:%M} に発行済みです（SHA-256 {issued.sha256[:16]}…）。"
            "再送が必要なときは保存済みのファイルをダウンロードしてください（作り直しはできません）。",
        )
    if batch.approved_hash is None:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            "承認されていません。支払承認者に明細の確認と承認を依頼してください。",
        )
    lines = _lines(db_session, batch_no)
    current = content_hash(batch, lines)
    if current != batch.approved_hash or batch.content_hash != batch.approved_hash:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            "承認後に明細が変更されています。支払承認者に明細の確認と再承認を依頼してください。",
            approved_hash=batch.approved_hash,
            current_hash=current,
        )
    if any(x.status != PENDING for x in lines):  # only a file marks lines sent, and there is none
        raise RuntimeError(f"batch {batch_no} has lines already sent without a file")
    wrong = _amounts_differ(db_session, batch_no)
    if wrong:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "振込金額",
                "、".join(wrong[:5]),
                "支給決定額と一致しない明細があります。支給決定を確認し、バッチを作り直してください。",
            ),
        )
    transfers = [
        zengin.Transfer(
            account=zengin.Account(x.bank_code, "", x.branch_code, "", x.account_type, x.account_number),
            holder=x.holder_kana,
            amount=x.amount,
            customer_code=customer_code(batch_no, x.line_no),
        )
        for x in lines
    ]
    made = zengin.build(sender, transfers, batch.transfer_date)
    earlier = db_session.scalar(select(PaymentFile.batch_no).where(PaymentFile.sha256 == made.sha256))
    if earlier is not None:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "全銀ファイル",
                made.sha256[:16] + "…",
                f"支払バッチ {earlier} で発行済みのファイルと同じ内容です。二重振込を防ぐため発行できません。",
            ),
        )
    parsed = zengin.parse(made.content)
    expected = [(customer_code(batch_no, x.line_no), x.amount, x.account_number) for x in lines]
    written = [(p.customer_code, p.amount, p.account_number) for p in parsed.lines]
    if (parsed.count, parsed.total) != (len(lines), batch.approved_total) or written != expected:
        raise _refuse(
            db_session,
            actor,
            action,
            batch_no,
            FieldError(
                "トレーラーの合計",
                f"{parsed.count}件 {parsed.total:,}円",
                f"承認された {len(lines)}件 {batch.approved_total or 0:,}円と一致しません。発行を中止しました。",
            ),
        )
    now = datetime.now(UTC)
    db_session.add(
        PaymentFile(
            lg_code=batch.lg_code,
            batch_no=batch_no,
            sha256=made.sha256,
            content=made.content,
            line_count=made.count,
            total=made.total,
            issued_at=now,
            issued_by=actor.user_id,
        )
    )
    db_session.flush()
    db_session.execute(
        update(PaymentLine)
        .where(PaymentLine.batch_no == batch_no, PaymentLine.status == PENDING)
        .values(status=SENT)
        .execution_options(synchronize_session=False)
    )
    record(
        db_session,
        actor=actor,
        action=action,
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={
            "sha256": made.sha256,
            "lines": made.count,
            "total": made.total,
            "content_hash": current,
        },
    )
    db_session.flush()
    return IssuedFile(batch_no, made.sha256, made.count, made.total, made.content)


def download_file(db_session: TenantSession, *, actor: Principal, batch_no: int) -> IssuedFile:
    """The stored file of the batch, byte for byte as issued. Needs ``PAYMENT_MAKE``; audited."""
    _may(db_session, actor, Permission.PAYMENT_MAKE, "payments.file.download")
    issued = _file(db_session, batch_no)
    if issued is None:
        raise NotFound(f"支払バッチ {batch_no} の全銀ファイルはまだ発行されていません。")
    record(
        db_session,
        actor=actor,
        action="payments.file.download",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={"sha256": issued.sha256},
    )
    return IssuedFile(batch_no, issued.sha256, issued.line_count, issued.total, issued.content)


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
    lg_code = _may(db_session, actor, Permission.PAYMENT_MAKE, "payments.result.import")
    action = "payments.result.import"
    batch = _batch(db_session, batch_no, lock=True)
    lock_program(db_session, lg_code, batch.program)
    issued = _file(db_session, batch_no)
    if issued is None:
        raise _refuse(db_session, actor, action, batch_no, "全銀ファイルを発行していないバッチです。")
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
    lines = {customer_code(batch_no, x.line_no): x for x in _lines(db_session, batch_no)}
    settled = [x for x in lines.values() if x.status != SENT]
    if settled:
        raise _refuse(
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


BATCH_STAGES = {
    "awaiting_approval": "承認待ち",
    "approved": "承認済み（全銀ファイル発行待ち）",
    "issued": "発行済み（振込結果待ち）",
    "settled": "振込結果取込済み",
}


@dataclass(frozen=True)
class BatchSummary:
    """A batch in the list: who made and approved it, its totals, and how far its lines went (no account)."""

    batch_no: int
    program: str
    maker: str
    created_at: datetime
    transfer_date: date
    line_count: int
    total: int
    approved_by: str | None
    issued_at: datetime | None
    lines_by_status: dict[str, int]
    """pending / sent / paid / failed → number of lines."""

    @property
    def stage(self) -> str:
        """A key of ``BATCH_STAGES``."""
        if self.issued_at is not None:
            done = self.lines_by_status.get(PAID, 0) + self.lines_by_status.get(FAILED, 0)
            return "settled" if done == self.line_count else "issued"
        return "approved" if self.approved_by is not None else "awaiting_approval"


@dataclass(frozen=True)
class ReviewedLine:
    """A line as the 承認者 sees it, beside the entitlement it pays."""

    line: Line
    recipient_no: str
    """宛名番号 of the 受給権者."""
    entitlement_amount: int
    entitlement_status: str


@dataclass(frozen=True)
class BatchReview:
    batch: BatchView
    lines: list[ReviewedLine]
    entitlement_total: int
    issued_at: datetime | None
    issued_by: str | None


@dataclass(frozen=True)
class Tally:
    count: int
    amount: int


@dataclass(frozen=True)
class Reconciliation:
    """A batch's totals as approved, as written in its file's trailer, and as the bank settled them."""

    batch_no: int
    program: str
    approved: Tally | None
    """``None`` until approved."""
    trailer: Tally | None
    """Read back from the stored file's trailer record; ``None`` until issued."""
    by_status: dict[str, Tally]
    """pending / sent / paid / failed."""
    failed_lines: list[ReviewedLine]

    @property
    def balanced(self) -> bool:
        """The trailer equals the approval, and every line is accounted for (paid, failed or still at the bank)."""
        lines = Tally(sum(t.count for t in self.by_status.values()), sum(t.amount for t in self.by_status.values()))
        return self.approved is not None and self.trailer == self.approved == lines


def batches(db_session: TenantSession, *, actor: Principal) -> list[BatchSummary]:
    """Every batch, latest first, with its stage (counts and totals only: no account, no household). Needs
    ``WELFARE_READ`` (held by 給付担当, 起票者 and 承認者); audited."""
    _may(db_session, actor, Permission.WELFARE_READ, "payments.batch.list")
    issued = {no: at for no, at in db_session.execute(select(PaymentFile.batch_no, PaymentFile.issued_at))}
    statuses: dict[int, dict[str, int]] = {}
    grouped = select(PaymentLine.batch_no, PaymentLine.status, func.count()).group_by(
        PaymentLine.batch_no, PaymentLine.status
    )
    for batch_no, status, count in db_session.execute(grouped):
        statuses.setdefault(batch_no, {})[status] = count
    found = [
        BatchSummary(
            b.batch_no,
            b.program,
            b.maker,
            b.created_at,
            b.transfer_date,
            b.line_count,
            b.total,
            b.approved_by,
            issued.get(b.batch_no),
            statuses.get(b.batch_no, {}),
        )
        for b in db_session.scalars(select(PaymentBatch).order_by(PaymentBatch.batch_no.desc()))
    ]
    record(db_session, actor=actor, action="payments.batch.list", purpose=PURPOSE, detail={"count": len(found)})
    return found


def _reviewed(db_session: TenantSession, batch_no: int, lines: Sequence[Line]) -> list[ReviewedLine]:
    """``lines`` of the batch, each beside its entitlement (one joined query, plain rows)."""
    query = select(PaymentLine.line_no, Entitlement.recipient_no, Entitlement.amount, Entitlement.status).join(
        Entitlement,
        (Entitlement.lg_code == PaymentLine.lg_code)
        & (Entitlement.program == PaymentLine.program)
        & (Entitlement.household_no == PaymentLine.household_no),
    )
    rows = db_session.execute(query.where(PaymentLine.batch_no == batch_no))
    entitlements = {no: (recipient, amount, status) for no, recipient, amount, status in rows}
    return [ReviewedLine(x, *entitlements[x.line_no]) for x in lines]


def batch_review(db_session: TenantSession, *, actor: Principal, batch_no: int) -> BatchReview:
    """``batch_lines`` (same permission and audit) with each line's entitlement beside it and the file's issue."""
    view = batch_lines(db_session, actor=actor, batch_no=batch_no)
    reviewed = _reviewed(db_session, batch_no, view.lines)
    issued = _file(db_session, batch_no)
    return BatchReview(
        view,
        reviewed,
        sum(r.entitlement_amount for r in reviewed),
        issued.issued_at if issued else None,
        issued.issued_by if issued else None,
    )


def reconciliation(db_session: TenantSession, *, actor: Principal, batch_no: int) -> Reconciliation:
    """The batch's approved total, its file's trailer (parsed from the stored bytes), and its lines by status, with
    the 振込不能 lines and their entitlements now. Needs ``PAYMENT_APPROVE`` or ``PAYMENT_MAKE``; audited."""
    _may_read_batch(db_session, actor, "payments.reconciliation.read")
    batch = _batch(db_session, batch_no, lock=False)
    grouped = (
        select(PaymentLine.status, func.count(), func.coalesce(func.sum(PaymentLine.amount), 0))
        .where(PaymentLine.batch_no == batch_no)
        .group_by(PaymentLine.status)
    )
    counted = {status: Tally(count, int(amount)) for status, count, amount in db_session.execute(grouped)}
    by_status = {status: counted.get(status, Tally(0, 0)) for status in (PENDING, SENT, PAID, FAILED)}
    failed_query = select(PaymentLine).where(PaymentLine.batch_no == batch_no, PaymentLine.status == FAILED)
    failed_lines = [_line_of(x) for x in db_session.scalars(failed_query.order_by(PaymentLine.line_no))]
    issued = _file(db_session, batch_no)
    trailer = None
    if issued is not None:
        parsed = zengin.parse(issued.content)
        trailer = Tally(parsed.count, parsed.total)
    approved = Tally(batch.line_count, batch.approved_total) if batch.approved_total is not None else None
    failed = _reviewed(db_session, batch_no, failed_lines)
    record(
        db_session,
        actor=actor,
        action="payments.reconciliation.read",
        purpose=PURPOSE,
        subject=f"batch:{batch_no}",
        detail={status: t.count for status, t in by_status.items()},
    )
    return Reconciliation(batch_no, batch.program, approved, trailer, by_status, failed)


@dataclass(frozen=True)
class HouseholdLine:
    """A line that paid (or tried to pay) a household, with its batch."""

    batch_no: int
    transfer_date: date
    issued: bool
    line: Line


def lines_of_household(
    db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str
) -> list[HouseholdLine]:
    """Every line of the program for the household, oldest batch first: its payment history (a 振込不能 line, then
    the line of the next batch); ``NotFound`` if the household has no entitlement. Needs ``WELFARE_READ``; audited
    with the 世帯番号 as subject."""
    lg_code = _may(db_session, actor, Permission.WELFARE_READ, "payments.household.read")
    program = program_of(program_code)
    if db_session.get(Entitlement, (lg_code, program.code, household_no)) is None:
        raise not_entitled(program, household_no)
    query = (
        select(PaymentLine, PaymentBatch.transfer_date, PaymentFile.batch_no)
        .join(
            PaymentBatch,
            (PaymentBatch.lg_code == PaymentLine.lg_code) & (PaymentBatch.batch_no == PaymentLine.batch_no),
        )
        .outerjoin(
            PaymentFile, (PaymentFile.lg_code == PaymentLine.lg_code) & (PaymentFile.batch_no == PaymentLine.batch_no)
        )
        .where(PaymentLine.program == program.code, PaymentLine.household_no == household_no)
        .order_by(PaymentLine.batch_no)
    )
    found = [
        HouseholdLine(line.batch_no, transfer_date, issued is not None, _line_of(line))
        for line, transfer_date, issued in db_session.execute(query)
    ]
    record(
        db_session,
        actor=actor,
        action="payments.household.read",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code, "lines": len(found)},
    )
    return found
