"""Audit API: verify the caller's municipality's chain and export its head for anchoring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from kiban.core.audit import service
from kiban.core.http.auth import require, signed_in, tenant_session
from kiban.core.identity.permissions import Permission, Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Auditor = Annotated[Principal | None, Depends(require(Permission.AUDIT_READ))]


@router.get("/verify")
def verify(request: Request, principal: Auditor) -> service.VerifyResult:
    p = signed_in(principal)
    with tenant_session(request, p) as s:
        return service.verify_chain(s, p.lg_code)


@router.get("/head")
def head(request: Request, principal: Auditor) -> dict[str, Any]:
    p = signed_in(principal)
    with tenant_session(request, p) as s:
        return service.export_head(s, p.lg_code)
