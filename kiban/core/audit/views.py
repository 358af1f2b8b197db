"""Audit screen: the chain's verification and the newest entries of the municipality."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from kiban.core.audit import service
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal

router = APIRouter(prefix="/audit", include_in_schema=False)
NAV = [NavItem("監査記録", "/audit", Permission.AUDIT_READ)]


@router.get("")
def index(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    before: int | None = None,
) -> Response:
    with tenant_session(request, principal) as s:
        result = service.verify_chain(s, principal.lg_code)
        rows = service.entries(s, lg_code=principal.lg_code, limit=100, before_seq=before)
    return render(request, "audit/index.html", {"result": result, "rows": rows}, principal=principal)
