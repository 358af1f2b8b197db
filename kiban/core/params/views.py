"""Parameters screens: every declared parameter with the value in force for the municipality, its legal basis and
its history; tenant admins set the municipality's own value with an effective date and a reason."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from kiban.core.dates import parse_date
from kiban.core.errors import InputError, NotFound
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.jtext import to_halfwidth_ascii
from kiban.core.params import service

router = APIRouter(prefix="/parameters", include_in_schema=False)
NAV = [NavItem("パラメータ", "/parameters", Permission.PARAMETERS_READ)]
Reader = Annotated[Principal, Depends(require(Permission.PARAMETERS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.PARAMETERS_WRITE))]


@router.get("")
def index(request: Request, principal: Reader, on: str = "") -> Response:
    day = parse_date(on, field="基準日") if on else date.today()
    with tenant_session(request, principal) as s:
        values = service.values_on(s, day)
    rows = [(parameter, values.get(name)) for name, parameter in service.catalogue().items()]
    return render(request, "params/index.html", {"rows": rows, "on": day}, principal=principal)


def _detail(request: Request, principal: Principal, name: str, **extra: object) -> Response:
    parameter = service.describe(name)
    today = date.today()
    with tenant_session(request, principal) as s:
        history = service.history(s, name)
        try:
            current = parameter.format(service.value(s, name, today))
        except NotFound:
            current = "（この日に適用される値はありません）"
    context = {"parameter": parameter, "history": history, "current": current, "today": today, "form": {}}
    context.update(extra)
    status = 422 if extra.get("errors") else 200
    return render(request, "params/detail.html", context, principal=principal, status_code=status)


@router.get("/{name}")
def detail(request: Request, principal: Reader, name: str) -> Response:
    return _detail(request, principal, name)


@router.post("/{name}")
def set_value(
    request: Request,
    principal: Writer,
    name: str,
    value: Annotated[str, Form()] = "",
    effective_from: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    form = {"value": value, "effective_from": effective_from, "reason": reason}
    try:
        start = parse_date(effective_from, field="適用開始日")
        with tenant_session(request, principal) as s:
            typed = to_halfwidth_ascii(value.strip()).removesuffix("円")
            service.set_municipal_value(s, actor=principal, name=name, value=typed, effective_from=start, reason=reason)
    except InputError as exc:
        return _detail(request, principal, name, errors=exc.errors, form=form)
    return RedirectResponse(f"/parameters/{name}?saved=1", status_code=303)
