"""Payments API (``/api/v1/payments``): each program's households and amounts per stage of payment (``progress``),
the batches, one batch's lines beside their entitlements with the content
hash a 承認者 approves, a batch's reconciliation and a household's payment history (account numbers masked but for
the last 3 digits)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from kiban.benefits.api import masked
from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments import progress, reports
from kiban.payments.reports import ReviewedLine, Tally

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])
Reader = Annotated[Principal, Depends(require(Permission.WELFARE_READ))]


class BatchOut(BaseModel):
    batch_no: int
    program: str
    stage: str
    maker: str
    created_at: datetime
    transfer_date: date
    line_count: int
    total: int
    approved_by: str | None
    issued_at: datetime | None
    lines_by_status: dict[str, int]


class LineOut(BaseModel):
    line_no: int
    household_no: str
    recipient_no: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    """Masked: the last 3 digits only."""
    holder_kana: str
    amount: int
    entitlement_amount: int
    entitlement_status: str
    status: str


class BatchLinesOut(BaseModel):
    batch_no: int
    program: str
    maker: str
    transfer_date: date
    count: int
    total: int
    entitlement_total: int
    content_hash: str
    approved_by: str | None
    approved_hash: str | None
    issued_sha256: str | None
    lines: list[LineOut]


class HouseholdLineOut(BaseModel):
    batch_no: int
    transfer_date: date
    issued: bool
    line_no: int
    amount: int
    bank_code: str
    branch_code: str
    account_number: str
    """Masked: the last 3 digits only."""
    status: str


class TallyOut(BaseModel):
    count: int
    amount: int


class ReconciliationOut(BaseModel):
    batch_no: int
    program: str
    balanced: bool
    approved: TallyOut | None
    trailer: TallyOut | None
    by_status: dict[str, TallyOut]
    failed_lines: list[LineOut]


def _line(r: ReviewedLine) -> LineOut:
    x = r.line
    return LineOut(
        line_no=x.line_no,
        household_no=x.household_no,
        recipient_no=r.recipient_no,
        bank_code=x.bank_code,
        branch_code=x.branch_code,
        account_type=x.account_type,
        account_number=masked(x.account_number) or "",
        holder_kana=x.holder_kana,
        amount=x.amount,
        entitlement_amount=r.entitlement_amount,
        entitlement_status=r.entitlement_status,
        status=x.status,
    )


def _tally(t: Tally | None) -> TallyOut | None:
    return None if t is None else TallyOut(count=t.count, amount=t.amount)


@router.get("")
def batches(request: Request, principal: Reader) -> list[BatchOut]:
    with tenant_session(request, principal) as s:
        found = reports.batches(s, actor=principal)
    return [
        BatchOut(
            batch_no=b.batch_no,
            program=b.program,
            stage=b.stage,
            maker=b.maker,
            created_at=b.created_at,
            transfer_date=b.transfer_date,
            line_count=b.line_count,
            total=b.total,
            approved_by=b.approved_by,
            issued_at=b.issued_at,
            lines_by_status=b.lines_by_status,
        )
        for b in found
    ]


class StageOut(BaseModel):
    label: str
    households: int
    amount: int


class ProgressOut(BaseModel):
    program: str
    name: str
    stages: dict[str, StageOut]
    """Every stage of ``kiban.payments.progress.STAGES``, in lifecycle order."""
    entitled_households: int
    entitled_amount: int
    paid_share: float
    """The paid amount out of the entitled amount (0 to 1)."""


def _progress(found: list[progress.ProgramProgress]) -> list[ProgressOut]:
    return [
        ProgressOut(
            program=p.program.code,
            name=p.program.name,
            stages={
                key: StageOut(label=progress.STAGE_LABELS[key], households=c.households, amount=c.amount)
                for key, c in p.stages.items()
            },
            entitled_households=p.entitled.households,
            entitled_amount=p.entitled.amount,
            paid_share=p.paid_share,
        )
        for p in found
    ]


@router.get("/progress")
def programs_progress(request: Request, principal: Reader) -> list[ProgressOut]:
    with tenant_session(request, principal) as s:
        return _progress(progress.program_progress(s, actor=principal))


@router.get("/progress/{program}")
def program_progress(request: Request, principal: Reader, program: str) -> ProgressOut:
    with tenant_session(request, principal) as s:
        return _progress(progress.program_progress(s, actor=principal, program_code=program))[0]


@router.get("/households/{program}/{household_no}")
def household(request: Request, principal: Reader, program: str, household_no: str) -> list[HouseholdLineOut]:
    with tenant_session(request, principal) as s:
        found = reports.lines_of_household(s, actor=principal, program_code=program, household_no=household_no)
    return [
        HouseholdLineOut(
            batch_no=h.batch_no,
            transfer_date=h.transfer_date,
            issued=h.issued,
            line_no=h.line.line_no,
            amount=h.line.amount,
            bank_code=h.line.bank_code,
            branch_code=h.line.branch_code,
            account_number=masked(h.line.account_number) or "",
            status=h.line.status,
        )
        for h in found
    ]


@router.get("/{batch_no}")
def lines(request: Request, principal: Reader, batch_no: int) -> BatchLinesOut:
    with tenant_session(request, principal) as s:
        review = reports.batch_review(s, actor=principal, batch_no=batch_no)
    b = review.batch
    return BatchLinesOut(
        batch_no=b.batch_no,
        program=b.program,
        maker=b.maker,
        transfer_date=b.transfer_date,
        count=b.count,
        total=b.total,
        entitlement_total=review.entitlement_total,
        content_hash=b.content_hash,
        approved_by=b.approved_by,
        approved_hash=b.approved_hash,
        issued_sha256=b.issued_sha256,
        lines=[_line(r) for r in review.lines],
    )


@router.get("/{batch_no}/reconciliation")
def reconciliation(request: Request, principal: Reader, batch_no: int) -> ReconciliationOut:
    with tenant_session(request, principal) as s:
        found = reports.reconciliation(s, actor=principal, batch_no=batch_no)
    return ReconciliationOut(
        batch_no=found.batch_no,
        program=found.program,
        balanced=found.balanced,
        approved=_tally(found.approved),
        trailer=_tally(found.trailer),
        by_status={status: TallyOut(count=t.count, amount=t.amount) for status, t in found.by_status.items()},
        failed_lines=[_line(r) for r in found.failed_lines],
    )
