"""Registry outputs for staff: the 住民票の写し (a form choosing what it states, then the PDF) and the population
statistics page (tables and server-drawn SVG charts) on a date."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from kiban.core.dates import parse_date, to_wareki
from kiban.core.errors import FieldError, InputError
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal, missing_permission_message
from kiban.registry import certificate, charts, service, statistics

router = APIRouter(prefix="/registry", include_in_schema=False)
NAV = [NavItem("人口統計", "/registry/statistics", Permission.REGISTRY_READ)]
Reader = Annotated[Principal, Depends(require(Permission.REGISTRY_READ))]
TRUE = frozenset({"1", "on", "true", "yes"})


def _flag(value: str) -> bool:
    return value.strip().lower() in TRUE


@router.get("/persons/{person_no}/copy")
def copy_form(request: Request, principal: Reader, person_no: str) -> Response:
    today = date.today()
    with tenant_session(request, principal) as s:
        state = service.person_state(s, actor=principal, person_no=person_no, as_of=today)
    context = {
        "person_no": person_no,
        "state": state,
        "items": list(certificate.CopyItem),
        "today": today,
        "may_my_number": principal.can(Permission.MY_NUMBER_READ),
        "my_number_refusal": missing_permission_message(Permission.MY_NUMBER_READ),
    }
    return render(request, "registry/copy_form.html", context, principal=principal)


@router.get("/persons/{person_no}/copy.pdf")
def copy_pdf(
    request: Request,
    principal: Reader,
    person_no: str,
    household: str = "",
    items: Annotated[list[str] | None, Query()] = None,
    my_number: str = "",
) -> Response:
    """``items`` may be repeated (a form's checkboxes) or comma-separated (``items=relationship,resident_code``)."""
    wanted = [part for value in items or [] for part in value.split(",")]
    today = date.today()
    with tenant_session(request, principal) as s:
        pdf = certificate.resident_copy_pdf(
            s,
            actor=principal,
            person_no=person_no,
            household=_flag(household),
            items=wanted,
            my_number=_flag(my_number),
            today=today,
        )
    stem = re.sub(r"[^0-9A-Za-z]", "", person_no)
    ascii_name = f"juminhyo-{stem}-{today:%Y%m%d}.pdf"
    japanese_name = quote(f"住民票の写し_{stem}_{today:%Y%m%d}.pdf")
    headers = {
        "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{japanese_name}",
        "Cache-Control": "no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/statistics")
def statistics_page(request: Request, principal: Reader, on: str = "") -> Response:
    today = date.today()
    day = parse_date(on, field="基準日") if on.strip() else today
    if day > today:
        raise InputError(FieldError("基準日", on, f"今日（{to_wareki(today)}）以前の日付を入力してください。"))
    with tenant_session(request, principal) as s:
        stats = statistics.population_on(s, actor=principal, on=day)
    context = {
        "stats": stats,
        "on": day,
        "kinds": statistics.MOVE_KINDS,
        "pyramid_chart": charts.pyramid_svg(stats),
        "moves_chart": charts.moves_svg(stats),
    }
    return render(request, "registry/statistics.html", context, principal=principal)
