"""The staff home page and the health endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import text

from kiban.core.http.auth import public, require
from kiban.core.http.runtime import runtime
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal

router = APIRouter()


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", tags=["platform"])
def health(request: Request, principal: Annotated[Principal | None, Depends(public)]) -> Health:
    """Liveness and database reachability (no tenant data)."""
    database = runtime(request).database
    with database.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return Health(status="ok", database=database.dialect)


@router.get("/", include_in_schema=False)
def home(request: Request, principal: Annotated[Principal, Depends(require(Permission.SIGNED_IN))]) -> Response:
    return render(request, "web/home.html", {}, principal=principal)
