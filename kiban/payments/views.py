"""Payment staff pages (給付金の支払): the programs' progress (households and amounts per stage of the lifecycle,
each count linking to its households), the batches and making one from a program's confirmed households (起票者),
the approval page that shows every line with its entitlement, the totals and the content hash the 承認者 approves,
issuing and downloading the 全銀 file, importing the bank's 振込結果, the reconciliation of a batch, and a
household's payment history. Lines name their bank and branch beside the codes (the 全銀協 list, looked up once per
distinct pair, so an approval page of 10,000 lines stays quick).

The route permissions let 給付担当・起票者・承認者 reach the pages; each service checks the permission of its own step
(the lines: 起票者 or 承認者; approving: 承認者, never the 起票者 of the batch; file and result: 起票者)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from kiban.benefits.models import STATUS_LABELS
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import ACCOUNT_TYPES
from kiban.core import banks
from kiban.core.dates import next_bank_business_day, parse_date
from kiban.core.errors import FieldError, InputError, PermissionDenied
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal
from kiban.payments import progress, reports, results, service, zengin
from kiban.payments.reports import BATCH_STAGES
from kiban.payments.service import Line

router = APIRouter(prefix="/payments", include_in_schema=False)
NAV = [NavItem("給付金の支払", "/payments", Permission.WELFARE_READ)]
Reader = Annotated[Principal, Depends(require(Permission.WELFARE_READ))]
Maker = Annotated[Principal, Depends(require(Permission.PAYMENT_MAKE))]
Checker = Annotated[Principal, Depends(require(Permission.PAYMENT_APPROVE))]
LINE_LABELS = {"pending": "未送信", "sent": "送信済み（結果待ち）", "paid": "振込済み", "failed": "振込不能"}
SENDER_FIELDS = {
    "client_code": "委託者コード",
    "client_name": "委託者名",
    "bank_code": "仕向銀行番号",
    "bank_name": "仕向銀行名",
    "branch_code": "仕向支店番号",
    "branch_name": "仕向支店名",
    "account_type": "仕向預金種目",
    "account_number": "仕向口座番号",
}
"""Form field of the issue form → the label ``kiban.payments.zengin.build`` names in its errors."""


def _bank_names(lines: Iterable[Line]) -> dict[tuple[str, str], banks.BankBranch | None]:
    """(bank code, branch code) → their names, for every distinct pair of ``lines``."""
    return {pair: banks.names(*pair) for pair in {(x.bank_code, x.branch_code) for x in lines}}


def _list_page(request: Request, principal: Principal, **extra: object) -> Response:
    with tenant_session(request, principal) as s:
        found = reports.batches(s, actor=principal)
    form = {"program": request.query_params.get("program", ""), "transfer_date": ""}
    context: dict[str, object] = {
        "batches": found,
        "programs": PROGRAMS,
        "stages": BATCH_STAGES,
        "form": form,
        "suggested_date": next_bank_business_day(date.today()).isoformat(),
    }
    context.update(extra)
    status = 422 if extra.get("errors") else 200
    return render(request, "payments/index.html", context, principal=principal, status_code=status)


@router.get("")
def index(request: Request, principal: Reader) -> Response:
    return _list_page(request, principal)


@router.post("")
def create(
    request: Request,
    principal: Maker,
    program: Annotated[str, Form()] = "",
    transfer_date: Annotated[str, Form()] = "",
) -> Response:
    form = {"program": program, "transfer_date": transfer_date}
    try:
        on = parse_date(transfer_date, field="振込指定日")
        with tenant_session(request, principal) as s:
            made = service.create_batch(s, actor=principal, program_code=program, transfer_date=on)
    except InputError as exc:
        return _list_page(request, principal, errors=exc.errors, form=form)
    return RedirectResponse(f"/payments/{made.batch_no}", status_code=303)


@router.get("/progress")
def progress_page(request: Request, principal: Reader) -> Response:
    with tenant_session(request, principal) as s:
        found = progress.program_progress(s, actor=principal)
    return _render_progress(request, principal, found, None)


@router.get("/progress/{program}")
def program_progress_page(request: Request, principal: Reader, program: str) -> Response:
    with tenant_session(request, principal) as s:
        found = progress.program_progress(s, actor=principal, program_code=program)
    return _render_progress(request, principal, found, found[0].program)


def _render_progress(
    request: Request, principal: Principal, found: list[progress.ProgramProgress], program: object
) -> Response:
    context = {
        "programs": found,
        "program": program,
        "stages": progress.STAGES,
        "labels": progress.STAGE_LABELS,
        "searchable": progress.SEARCHABLE,
    }
    return render(request, "payments/progress.html", context, principal=principal)


@router.get("/progress/{program}/{stage}")
def stage_page(request: Request, principal: Reader, program: str, stage: str, page: str = "1") -> Response:
    number = page.strip() or "1"
    if not (number.isascii() and number.isdigit()):
        raise InputError(FieldError("ページ", page, "1以上の半角数字で指定してください。"))
    with tenant_session(request, principal) as s:
        found = progress.stage_households(s, actor=principal, program_code=program, stage=stage, page=int(number))
    context = {"found": found, "labels": progress.STAGE_LABELS}
    return render(request, "payments/progress_stage.html", context, principal=principal)


def _batch_page(
    request: Request, principal: Principal, batch_no: int, *, status_code: int = 200, **extra: object
) -> Response:
    with tenant_session(request, principal) as s:
        review = reports.batch_review(s, actor=principal, batch_no=batch_no)
    context: dict[str, object] = {
        "review": review,
        "b": review.batch,
        "program": PROGRAMS[review.batch.program],
        "line_labels": LINE_LABELS,
        "entitlement_labels": STATUS_LABELS,
        "account_types": ACCOUNT_TYPES,
        "bank_names": _bank_names(r.line for r in review.lines),
        "sender_fields": SENDER_FIELDS,
        "sender_errors": {},
        "errors": [],
        "refusal": None,
        "form": {},
        "message": request.query_params.get("done", ""),
    }
    context.update(extra)
    return render(request, "payments/batch.html", context, principal=principal, status_code=status_code)


@router.get("/households/{program}/{household_no}")
def household(request: Request, principal: Reader, program: str, household_no: str) -> Response:
    with tenant_session(request, principal) as s:
        found = reports.lines_of_household(s, actor=principal, program_code=program, household_no=household_no)
    context = {
        "program": PROGRAMS[program],
        "household_no": household_no,
        "lines": found,
        "line_labels": LINE_LABELS,
        "account_types": ACCOUNT_TYPES,
        "bank_names": _bank_names(h.line for h in found),
    }
    return render(request, "payments/household.html", context, principal=principal)


@router.get("/{batch_no}")
def batch(request: Request, principal: Reader, batch_no: int) -> Response:
    return _batch_page(request, principal, batch_no)


@router.post("/{batch_no}/approve")
def approve(request: Request, principal: Checker, batch_no: int, seen_hash: Annotated[str, Form()] = "") -> Response:
    try:
        with tenant_session(request, principal) as s:
            service.approve(s, actor=principal, batch_no=batch_no, seen_hash=seen_hash)
    except PermissionDenied as exc:
        return _batch_page(request, principal, batch_no, status_code=403, refusal=str(exc))
    except InputError as exc:
        return _batch_page(request, principal, batch_no, status_code=422, errors=exc.errors)
    return RedirectResponse(f"/payments/{batch_no}?done=approved", status_code=303)


@router.post("/{batch_no}/file")
def issue(
    request: Request,
    principal: Maker,
    batch_no: int,
    client_code: Annotated[str, Form()] = "",
    client_name: Annotated[str, Form()] = "",
    bank_code: Annotated[str, Form()] = "",
    bank_name: Annotated[str, Form()] = "",
    branch_code: Annotated[str, Form()] = "",
    branch_name: Annotated[str, Form()] = "",
    account_type: Annotated[str, Form()] = "",
    account_number: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "client_code": client_code,
        "client_name": client_name,
        "bank_code": bank_code,
        "bank_name": bank_name,
        "branch_code": branch_code,
        "branch_name": branch_name,
        "account_type": account_type,
        "account_number": account_number,
    }
    sender = zengin.Sender(
        client_code.strip(),
        client_name.strip(),
        zengin.Account(
            bank_code.strip(),
            bank_name.strip(),
            branch_code.strip(),
            branch_name.strip(),
            account_type.strip(),
            account_number.strip(),
        ),
    )
    try:
        with tenant_session(request, principal) as s:
            service.issue_file(s, actor=principal, batch_no=batch_no, sender=sender)
    except InputError as exc:
        labels = set(SENDER_FIELDS.values())
        return _batch_page(
            request,
            principal,
            batch_no,
            status_code=422,
            errors=[e for e in exc.errors if e.field not in labels],
            sender_errors={e.field: e for e in exc.errors if e.field in labels},
            form=form,
        )
    return RedirectResponse(f"/payments/{batch_no}?done=issued", status_code=303)


@router.get("/{batch_no}/file")
def download(request: Request, principal: Maker, batch_no: int) -> Response:
    with tenant_session(request, principal) as s:
        issued = service.download_file(s, actor=principal, batch_no=batch_no)
    name = f"zengin-{batch_no:04d}.txt"
    headers = {
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote('総合振込_' + name)}",
        "Cache-Control": "no-store",
        "X-Content-SHA256": issued.sha256,
    }
    return Response(issued.content, media_type="text/plain; charset=shift_jis", headers=headers)


@router.post("/{batch_no}/result")
def result(request: Request, principal: Maker, batch_no: int, file: Annotated[UploadFile, File()]) -> Response:
    content = file.file.read()
    try:
        with tenant_session(request, principal) as s:
            summary = results.import_result(s, actor=principal, batch_no=batch_no, content=content)
    except InputError as exc:
        return _batch_page(request, principal, batch_no, status_code=422, errors=exc.errors)
    reasons = {f.line_no: f"{f.code}：{f.reason}" for f in summary.failures}
    return _reconciliation_page(request, principal, batch_no, reasons=reasons, imported=True)


def _reconciliation_page(
    request: Request, principal: Principal, batch_no: int, *, reasons: dict[int, str], imported: bool
) -> Response:
    with tenant_session(request, principal) as s:
        found = reports.reconciliation(s, actor=principal, batch_no=batch_no)
    context = {
        "r": found,
        "program": PROGRAMS[found.program],
        "line_labels": LINE_LABELS,
        "entitlement_labels": STATUS_LABELS,
        "reasons": reasons,
        "imported": imported,
    }
    return render(request, "payments/reconciliation.html", context, principal=principal)


@router.get("/{batch_no}/reconciliation")
def reconciliation(request: Request, principal: Reader, batch_no: int) -> Response:
    return _reconciliation_page(request, principal, batch_no, reasons={}, imported=False)
