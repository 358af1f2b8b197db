"""宛名番号 and 世帯番号 the registry hands out when a form leaves them blank: the municipality's next free number (its
largest one + 1, as many digits as that one, leading zeros kept), taken in the transaction that records the 異動.

Two concurrent transactions may take the same number: the primary key of ``person`` / ``household`` decides. On
PostgreSQL the one that loses rolls back to a SAVEPOINT and records again with fresh numbers (its 異動番号, which
races the same way, is taken again too). SQLite lets one transaction write at a time (one whose reads went stale
fails instead), so it records once."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from kiban.core.db import TenantSession
from kiban.registry.models import Household, Person, number_order

NUMBERS: dict[str, InstrumentedAttribute[str]] = {
    "person_no": Person.person_no,
    "household_no": Household.household_no,
    "new_household_no": Household.household_no,
}
"""The form inputs that may be left blank, and the numbers they take."""
ATTEMPTS = 5
UNIQUE_VIOLATION = "23505"
"""PostgreSQL's SQLSTATE for a duplicate key."""

Record = Callable[[dict[str, str]], int]
"""Records a 異動 with the given numbers (by form input); returns its 異動番号."""


def largest_of(column: InstrumentedAttribute[str]) -> Select[str]:
    """The query of the largest number in ``column`` (of the session's municipality, as every query of a tenant's
    session is)."""
    length, digits = number_order(column)
    return select(column).order_by(length.desc(), digits.desc()).limit(1)


def next_free(db_session: TenantSession, column: InstrumentedAttribute[str]) -> str:
    """The largest number recorded in ``column`` in the municipality + 1 ("1" for the first one). Numbers are
    digits (``Checks.number``), compared by value (``number_order``, the order of an index: the largest is read at
    its end)."""
    largest = db_session.scalar(largest_of(column))
    if largest is None:
        return "1"
    return str(int(largest) + 1).zfill(len(largest))


def numbered(db_session: TenantSession, typed: Mapping[str, str], record: Record) -> int:
    """``record`` with the numbers as ``typed`` (by input, keys of ``NUMBERS``), each blank one replaced by the
    next free one."""
    blank = [key for key, value in typed.items() if not value.strip()]

    def attempt() -> int:
        return record({**typed, **{key: next_free(db_session, NUMBERS[key]) for key in blank}})

    if blank and db_session.get_bind().dialect.name == "postgresql":
        for _ in range(ATTEMPTS - 1):
            try:
                with db_session.begin_nested():
                    return attempt()
            except IntegrityError as exc:
                if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
                    raise
    return attempt()
