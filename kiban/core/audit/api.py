"""Audit API: verify the caller's municipality's chain and export its head for anchoring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from kiban.core.audit import service
from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.permissions import Permission, Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


@router.get("/verify")
def verify(request: Request, principal: Auditor) -> service.VerifyResult:
    with tenant_session(request, principal) as s:
        return service.verify_chain(s, principal.lg_code)


@router.get("/head")
def head(request: Request, principal: Auditor) -> dict[str, Any]:
    with tenant_session(request, principal) as s:
        return service.export_head(s, principal.lg_code)
