"""Audit tables. ``audit_entry`` is append-only and hash-chained per tenant; ``audit_head`` holds each chain's last
``(seq, hash)`` so that removing entries from the end is detected too."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned


class AuditEntry(TenantOwned, Base):
    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … per tenant, without gaps."""
    at: Mapped[str] = mapped_column(String(32))
    """UTC time, ISO 8601 with microseconds: stored as text so it hashes identically on every backend."""
    actor: Mapped[str] = mapped_column(String(60))
    """Pseudonymous user id (``token:<id>`` for systems, ``system`` for batch jobs)."""
    actor_lg_code: Mapped[str] = mapped_column(String(6))
    """The actor's home tenant (``000000`` for national operators)."""
    roles: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(60))
    """The 事務 the access serves, e.g. 「住民記録事務」."""
    subject: Mapped[str | None] = mapped_column(String(120))
    """Pseudonymous id of the person concerned (宛名番号 etc.), never a My Number."""
    outcome: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    """Canonical JSON; no personal data beyond pseudonymous ids."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(TenantOwned, Base):
    __tablename__ = "audit_head"

    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
