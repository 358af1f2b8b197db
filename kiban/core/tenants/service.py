"""Tenant catalogue queries and loading. Verbs: ``get``, ``get_all``, ``load_catalog``, ``activate``."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identifiers import validate_lg_code
from kiban.core.tenants.catalog import load_bodies
from kiban.core.tenants.models import Tenant


def load_catalog(*, db_session: Session) -> int:
    """Insert or refresh every shipped body; returns how many rows the catalogue holds. Keeps ``active``."""
    existing = {t.lg_code: t for t in db_session.scalars(select(Tenant))}
    for body in load_bodies():
        values = asdict(body)
        row = existing.get(body.lg_code)
        if row is None:
            db_session.add(Tenant(**values, active=False))
        else:
            for key, value in values.items():
                setattr(row, key, value)
    db_session.flush()
    return len(load_bodies())


def get(*, db_session: Session, lg_code: str) -> Tenant:
    code = validate_lg_code(lg_code)
    tenant = db_session.get(Tenant, code)
    if tenant is None:
        raise NotFound(f"団体コード「{code}」の団体は登録されていません。")
    return tenant


def get_all(
    *, db_session: Session, pref_code: str | None = None, kind: str | None = None, active: bool | None = None
) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.lg_code)
    if pref_code is not None:
        query = query.where(Tenant.pref_code == pref_code)
    if kind is not None:
        query = query.where(Tenant.kind == kind)
    if active is not None:
        query = query.where(Tenant.active.is_(active))
    return list(db_session.scalars(query))


def activate(*, db_session: Session, lg_code: str) -> Tenant:
    """Onboard a municipality (or ward) as an active tenant; prefectures and unknown codes are refused."""
    tenant = get(db_session=db_session, lg_code=lg_code)
    if tenant.kind == "prefecture":
        raise InputError(
            FieldError(
                "団体コード", lg_code, "市区町村の団体コードを指定してください（都道府県は利用団体になれません）。"
            )
        )
    tenant.active = True
    db_session.flush()
    return tenant
