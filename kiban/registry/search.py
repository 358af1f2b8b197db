"""Finding people in the register: by name (kanji or フリガナ, from the start), birth date, address (町域 and 番地,
from the start), 住民票コード or 個人番号 (exact, through its blind index).

Searches read the current rows of ``person_version`` (one per person, including those who left), whose search
columns are indexed per tenant. Every search is audited with the 宛名番号 it returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from kiban.core.audit.service import authorize, record
from kiban.core.crypto import blind_index
from kiban.core.db import TenantSession
from kiban.core.identifiers import validate_my_number, validate_resident_code
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.jtext import FieldKind
from kiban.registry.access import PURPOSE, may_read
from kiban.registry.checks import Checks
from kiban.registry.events import Status
from kiban.registry.models import Person, PersonVersion
from kiban.registry.service import MY_NUMBER_CONTEXT

LIMIT = 50
SPACES = str.maketrans("", "", " \u3000")


@dataclass(frozen=True)
class Hit:
    person_no: str
    household_no: str
    status: Status
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    relationship: str
    address: str


def _starts_with(column: InstrumentedAttribute[str], value: str) -> ColumnElement[bool]:
    """Values of ``column`` that start with ``value``, as a range: ``value <= column < value'`` (its last character
    incremented). The search columns compare by code point ("C" collation on PostgreSQL, SQLite's default), so the
    range is exactly the prefix; and unlike ``LIKE`` (not leakproof) PostgreSQL uses it as an index condition on a
    table with row-level security, instead of filtering every row of the tenant."""
    if not value:
        return true()
    return and_(column >= value, column < value[:-1] + chr(ord(value[-1]) + 1))


def search(
    db_session: TenantSession,
    *,
    actor: Principal,
    name: str = "",
    kana: str = "",
    birth_date: date | None = None,
    address: str = "",
    resident_code: str = "",
    my_number: str = "",
    include_departed: bool = False,
    limit: int = LIMIT,
) -> list[Hit]:
    """People matching every criterion given (at least one), by フリガナ then birth date; at most ``limit``.
    Searching by 個人番号 needs ``MY_NUMBER_READ`` as well."""
    may_read(db_session, actor)
    checks = Checks()
    query: Select[PersonVersion] = select(PersonVersion).where(PersonVersion.valid_to.is_(None))
    criteria: list[str] = []
    if name.strip():
        text = checks.text(name, FieldKind.NAME, "氏名", 200).translate(SPACES)
        query = query.where(_starts_with(PersonVersion.name, text))
        criteria.append("name")
    if kana.strip():
        text = checks.text(kana, FieldKind.KANA, "フリガナ", 400).translate(SPACES)
        query = query.where(_starts_with(PersonVersion.name_kana, text))
        criteria.append("kana")
    if birth_date is not None:
        query = query.where(PersonVersion.birth_date == birth_date)
        criteria.append("birth_date")
    if address.strip():
        text = checks.text(address, FieldKind.ADDRESS, "住所", 200).translate(SPACES)
        query = query.where(_starts_with(PersonVersion.address_key, text))
        criteria.append("address")
    if resident_code.strip():
        code = checks.run(lambda: validate_resident_code(resident_code), "")
        query = query.where(PersonVersion.person_no.in_(select(Person.person_no).where(Person.resident_code == code)))
        criteria.append("resident_code")
    if my_number.strip():
        authorize(
            db_session,
            actor=actor,
            permission=Permission.MY_NUMBER_READ,
            action="registry.search.my_number",
            purpose=PURPOSE,
        )
        number = checks.run(lambda: validate_my_number(my_number), "")
        index = blind_index(number, context=MY_NUMBER_CONTEXT) if number else ""
        query = query.where(
            PersonVersion.person_no.in_(select(Person.person_no).where(Person.my_number_index == index))
        )
        criteria.append("my_number")
    if not criteria:
        checks.add(
            "検索条件", "", "氏名・フリガナ・生年月日・住所・住民票コード・個人番号のいずれかを入力してください。"
        )
    checks.done()
    if not include_departed:
        query = query.where(PersonVersion.status == Status.RESIDENT.value)
    ranking = (PersonVersion.name_kana, PersonVersion.birth_date, PersonVersion.person_no)
    if "kana" not in criteria:
        # Rank the matches first (an index-only scan of the criterion's index, which carries the ranking columns),
        # then read just the rows returned. OFFSET 0 keeps PostgreSQL from walking the フリガナ index in order
        # instead, hoping to meet matches early: the matches of a name or an address cluster in フリガナ order.
        matches = query.with_only_columns(*ranking).offset(0).subquery("matches")
        top = select(matches.c.person_no).order_by(*matches.c).limit(limit)
        query = select(PersonVersion).where(PersonVersion.valid_to.is_(None), PersonVersion.person_no.in_(top))
    rows = list(db_session.scalars(query.order_by(*ranking).limit(limit)))
    record(
        db_session,
        actor=actor,
        action="registry.search",
        purpose=PURPOSE,
        detail={"criteria": criteria, "found": [r.person_no for r in rows]},
    )
    return [
        Hit(
            person_no=r.person_no,
            household_no=r.household_no,
            status=Status(r.status),
            family_name=r.family_name,
            given_name=r.given_name,
            family_name_kana=r.family_name_kana,
            given_name_kana=r.given_name_kana,
            birth_date=r.birth_date,
            sex=r.sex,
            relationship=r.relationship,
            address=f"{r.pref_name}{r.city_name}{r.town}{r.banchi}",
        )
        for r in rows
    ]
