"""Registry tables (住民記録). ``registry_event`` is the record: append-only, one row per 異動 (or correction of one).
``person`` and ``household`` only say that a 宛名番号 / 世帯番号 exists in the tenant and hold a person's data as first
registered; every current or past state (address, household, 続柄, names, 住民状態) is derived by folding events
(``kiban.registry.events.fold``), never stored in a column that is edited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned


class Household(TenantOwned, Base):
    __tablename__ = "household"

    household_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    """世帯番号."""
    created: Mapped[date] = mapped_column(Date)
    """記録日 of the event that first used this 世帯番号."""


class Person(TenantOwned, Base):
    __tablename__ = "person"

    person_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    """宛名番号 (internal, pseudonymous: what audit entries name)."""
    resident_code: Mapped[str | None] = mapped_column(String(11))
    """住民票コード."""
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name_kana: Mapped[str] = mapped_column(String(200))
    given_name_kana: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    """``male`` or ``female`` (as in the synthetic population)."""


class RegistryEvent(TenantOwned, Base):
    __tablename__ = "registry_event"
    __table_args__ = (
        ForeignKeyConstraint(
            ["lg_code", "person_no"],
            ["person.lg_code", "person.person_no"],
            name="fk_registry_event_lg_code_person_no_person",
        ),
        ForeignKeyConstraint(
            ["lg_code", "household_no"],
            ["household.lg_code", "household.household_no"],
            name="fk_registry_event_lg_code_household_no_household",
        ),
        Index("ix_registry_event_person", "lg_code", "person_no"),
    )

    event_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … per tenant, in the order events were recorded."""
    event_type: Mapped[str] = mapped_column(String(20))
    """A ``kiban.registry.events.EventType`` value."""
    person_no: Mapped[str] = mapped_column(String(20))
    household_no: Mapped[str] = mapped_column(String(20))
    """The household the event concerns (the one the person belongs to after it, or left by it)."""
    effective_date: Mapped[date] = mapped_column(Date)
    """異動日."""
    recorded_at: Mapped[date] = mapped_column(Date)
    """記録日 (処理日): the second time axis; as-recorded queries keep only events recorded by a date."""
    payload: Mapped[str] = mapped_column(Text)
    """JSON of the new state items the event sets (address, 続柄, names, status, …)."""
    corrects_event_no: Mapped[int | None] = mapped_column(Integer)
    """For a correction (誤記修正): the event it replaces, from its ``recorded_at`` on."""
