"""Registry tables (住民記録). ``registry_event`` is the record: append-only, one row per 異動 (or correction of one).
``person`` and ``household`` only say that a 宛名番号 / 世帯番号 exists in the tenant and hold a person's data as first
registered; every current or past state (address, household, 続柄, names, 住民状態) is derived by folding events
(``kiban.registry.events.fold``), never stored in a column that is edited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from kiban.core.crypto import EncryptedString
from kiban.core.db import Base, TenantOwned


class Household(TenantOwned, Base):
    __tablename__ = "household"

    household_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    """世帯番号."""
    created: Mapped[date] = mapped_column(Date)
    """記録日 of the event that first used this 世帯番号."""


class Person(TenantOwned, Base):
    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_my_number_index", "lg_code", "my_number_index"),
        Index("ix_person_resident_code", "lg_code", "resident_code"),
    )

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
    my_number: Mapped[str | None] = mapped_column(EncryptedString(context="person.my_number", length=200))
    """個人番号: AES-GCM at rest (``kiban.core.crypto``); never in events, logs or audit details."""
    my_number_index: Mapped[str | None] = mapped_column(String(64))
    """Keyed blind index of the 個人番号, for exact lookup without decrypting."""


def number_order(column: InstrumentedAttribute[str]) -> tuple[ColumnElement[int], ColumnElement[str]]:
    """The order of a 宛名番号 or 世帯番号 by value (they are digits, ``Checks.number``): its length without leading
    zeros, then those digits as text. The same expressions lead an index of each table after ``lg_code``, so that the
    largest number of a municipality is read at the end of the index instead of among all its rows (the zero is
    written in the SQL, as an index on an expression serves only a query with the same expression)."""
    digits = func.ltrim(column, literal_column("'0'"))
    return func.length(digits), digits


Index("ix_household_number_order", Household.lg_code, *number_order(Household.household_no))
Index("ix_person_number_order", Person.lg_code, *number_order(Person.person_no))


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


CURRENT = text("valid_to IS NULL")
RANKING = ["name_kana", "birth_date", "person_no", "status"]
"""Columns the search indexes carry on PostgreSQL (``INCLUDE``): what ranking the matches of a search needs, so
it reads only the rows it returns (``kiban.registry.search``)."""


def search_key(length: int) -> String:
    """A search column: on PostgreSQL in the "C" collation, so one b-tree index serves both prefix ``LIKE`` and
    ``ORDER BY`` (whatever the database's default collation)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class PersonVersion(TenantOwned, Base):
    """A person's state from ``valid_from`` (異動日) to ``valid_to`` (exclusive; NULL: still current), as known now.

    Derived from ``registry_event`` (``kiban.registry.events.versions``) and rewritten for the people an event
    concerns whenever one is recorded, so it is never the record itself: it can be rebuilt from the events at any
    time. It serves search (current rows), population-wide as-of answers (``valid_from <= D < valid_to``) and the
    columnar snapshot batch rules read. As-recorded (記録日) questions are answered from the events."""

    __tablename__ = "person_version"
    __table_args__ = (
        Index(
            "ix_person_version_name_kana",
            "lg_code",
            "name_kana",
            "birth_date",
            "person_no",
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
        ),
        Index(
            "ix_person_version_name",
            "lg_code",
            "name",
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
            postgresql_include=RANKING,
        ),
        Index(
            "ix_person_version_address",
            "lg_code",
            "address_key",
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
            postgresql_include=RANKING,
        ),
        Index(
            "ix_person_version_birth_date",
            "lg_code",
            "birth_date",
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
            postgresql_include=[c for c in RANKING if c != "birth_date"],
        ),
        Index("ix_person_version_household", "lg_code", "household_no", "valid_from"),
    )

    person_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    event_no: Mapped[int] = mapped_column(Integer)
    """The last event of ``valid_from`` that shaped this version."""
    status: Mapped[str] = mapped_column(String(12))
    household_no: Mapped[str] = mapped_column(String(20))
    relationship: Mapped[str] = mapped_column(String(20))
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name_kana: Mapped[str] = mapped_column(String(200))
    given_name_kana: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(search_key(200))
    """氏 + 名 without space (search key)."""
    name_kana: Mapped[str] = mapped_column(search_key(400))
    """フリガナ 氏 + 名 without space, full-width katakana (search key)."""
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    nationality: Mapped[str] = mapped_column(String(3))
    residence_status: Mapped[str | None] = mapped_column(String(40))
    residence_until: Mapped[date | None] = mapped_column(Date)
    resident_since: Mapped[date] = mapped_column(Date)
    address_since: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    destination: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(7))
    pref_name: Mapped[str] = mapped_column(String(8))
    city_name: Mapped[str] = mapped_column(String(40))
    town: Mapped[str] = mapped_column(String(100))
    banchi: Mapped[str] = mapped_column(String(100))
    address_key: Mapped[str] = mapped_column(search_key(200))
    """町域 + 番地 (search key)."""


class FeedCursor(TenantOwned, Base):
    """How far a consuming system (tax, benefits, school, …) has read the registry's change feed."""

    __tablename__ = "registry_feed_cursor"

    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    """The last ``event_no`` the consumer has processed."""
    updated_at: Mapped[date] = mapped_column(Date)


class TransferCertificate(TenantOwned, Base):
    """転出証明書 (住民基本台帳法第24条, 施行令第23条): issued by the municipality of departure (``lg_code``) for a
    転出 to ``to_lg_code``, which may read it (and only it) to register the 転入 (第22条). Cancelled when the 転出 is
    (転出取消)."""

    __tablename__ = "transfer_certificate"

    certificate_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    to_lg_code: Mapped[str] = mapped_column(String(6), index=True)
    person_no: Mapped[str] = mapped_column(String(20))
    """宛名番号 in the municipality of departure."""
    move_out_event_no: Mapped[int] = mapped_column(Integer)
    planned_date: Mapped[date] = mapped_column(Date)
    """転出予定日 (the 転出's 異動日)."""
    issued_on: Mapped[date] = mapped_column(Date)
    particulars: Mapped[str] = mapped_column(Text)
    """JSON of the 記載事項 handed over: names and フリガナ, birth date, sex, 住民票コード, 続柄, 世帯主, address,
    destination."""
    my_number: Mapped[str | None] = mapped_column(EncryptedString(context="transfer_certificate.my_number", length=200))
    cancelled_on: Mapped[date | None] = mapped_column(Date)


class TransferArrival(TenantOwned, Base):
    """The 転入 that used a 転出証明書 (``lg_code`` = municipality of arrival); the municipality of departure reads
    it as the 転入通知 (住民基本台帳法第9条第1項). One certificate can be used once."""

    __tablename__ = "transfer_arrival"

    from_lg_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_no: Mapped[str] = mapped_column(String(20))
    """宛名番号 given by the municipality of arrival."""
    event_no: Mapped[int] = mapped_column(Integer)
    arrived_on: Mapped[date] = mapped_column(Date)
