"""A municipality's own parameter values. Append-only: a row is never updated or deleted, so the history of who
set what, from when and why stays complete (the migration grants the app role SELECT and INSERT only).

A value applies from ``effective_from`` until the next row's ``effective_from`` (or ``effective_until``, if set).
Setting the same parameter from the same date again adds a row with the next ``revision``; the highest revision
wins, and the earlier ones remain as history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned


class ParameterOverride(TenantOwned, Base):
    __tablename__ = "parameter_override"
    __table_args__ = (
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_empty"),
        CheckConstraint("effective_until IS NULL OR effective_until >= effective_from", name="date_order"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    """Declared parameter name (catalogue.yaml)."""
    effective_from: Mapped[date] = mapped_column(Date, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1 for the first value set from ``effective_from``; a correction from the same date adds 1."""
    value: Mapped[str] = mapped_column(Text)
    """JSON: an integer (yen), a decimal string (rate), true/false, or null (back to the national value)."""
    effective_until: Mapped[date | None] = mapped_column(Date)
    """Last day (inclusive) the value applies; afterwards the national value applies again. Usually null."""
    set_by: Mapped[str] = mapped_column(String(40))
    """Pseudonymous user id of the tenant administrator."""
    reason: Mapped[str] = mapped_column(Text)
    """Why, e.g. the 条例 and its article; required."""
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
