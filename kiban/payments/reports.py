"""Read-only reports on payment batches, for the staff pages and the API: every batch with its stage (``batches``),
a batch's lines beside the entitlements they pay (``batch_review``), its reconciliation — approved total = trailer
read back from the stored file = paid + failed + at the bank (``reconciliation``) — and a household's payment
history (``lines_of_household``).

Nothing here writes: each report is authorized with the permission of who may see it and audited (a batch's lines
and reconciliation: 起票者 or 承認者; the list and a household's history: ``WELFARE_READ``); the list shows counts
and totals only, no account and no household.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from kiban.benefits.models import Entitlement
from kiban.benefits.service import not_entitled, program_of
from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments import zengin
from kiban.payments.models import FAILED, PAID, PENDING, SENT, PaymentBatch, PaymentFile, PaymentLine
from kiban.payments.service import (
    PURPOSE,
    BatchView,
    Line,
    batch_lines,
    batch_of,
    file_of,
    line_of,
    may,
    may_read_batch,
)

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
    may(db_session, actor, Permission.WELFARE_READ, "payments.batch.list")
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
    issued = file_of(db_session, batch_no)
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
    may_read_batch(db_session, actor, "payments.reconciliation.read")
    batch = batch_of(db_session, batch_no, lock=False)
    grouped = (
        select(PaymentLine.status, func.count(), func.coalesce(func.sum(PaymentLine.amount), 0))
        .where(PaymentLine.batch_no == batch_no)
        .group_by(PaymentLine.status)
    )
    counted = {status: Tally(count, int(amount)) for status, count, amount in db_session.execute(grouped)}
    by_status = {status: counted.get(status, Tally(0, 0)) for status in (PENDING, SENT, PAID, FAILED)}
    failed_query = select(PaymentLine).where(PaymentLine.batch_no == batch_no, PaymentLine.status == FAILED)
    failed_lines = [line_of(x) for x in db_session.scalars(failed_query.order_by(PaymentLine.line_no))]
    issued = file_of(db_session, batch_no)
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
    lg_code = may(db_session, actor, Permission.WELFARE_READ, "payments.household.read")
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
        HouseholdLine(line.batch_no, transfer_date, issued is not None, line_of(line))
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
