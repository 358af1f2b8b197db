"""The tenant catalogue (a platform table: it is the list of tenants, not a tenant's data)."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import PLATFORM_TABLE, Base


class Tenant(Base):
    """One local public body (地方公共団体) known to the platform."""

    __tablename__ = "tenant"
    __table_args__ = PLATFORM_TABLE

    lg_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    """全国地方公共団体コード, 6 digits with check digit."""
    name: Mapped[str] = mapped_column(String(40))
    name_kana: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24))
    """prefecture, designated_city, city, special_ward, town, village or designated_city_ward."""
    pref_code: Mapped[str] = mapped_column(String(2), index=True)
    pref_name: Mapped[str] = mapped_column(String(8))
    parent_code: Mapped[str | None] = mapped_column(String(6))
    """For a designated-city ward (行政区): the city's code."""
    gun: Mapped[str | None] = mapped_column(String(20))
    population: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    kyuchi: Mapped[int | None] = mapped_column(Integer)
    """生活保護 級地 (1–3) for municipalities and wards; None for prefectures."""
    kyuchi_sub: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    """Onboarded: the municipality uses Kiban (reference rows exist for every body)."""
