"""The only access path to the national claims of the duplicate check (``benefit_claim``, a platform table): a
municipality writes its own claims and reads its own claims' states, never another municipality's rows.

On PostgreSQL every call goes through the views ``benefit_claim_state`` and ``benefit_claim_unit`` (migration
``0016_claim_units``) and the ``SECURITY DEFINER`` functions of migration ``0013_notices_claims`` (the app role has no
privilege on the table itself, and the tenant is the transaction's ``kiban.lg_code``, not an argument). On SQLite the
same statements run here, filtered by the session's tenant. Who pays among the claims of one person is decided by the
view (see the migration's docstring).

These functions do not authorize or audit: their callers (``kiban.benefits.national_check``, ``service.confirm``,
``kiban.payments.service.create_batch``) do.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import polars as pl
from sqlalchemy import Table, bindparam, column, delete, func, select, table, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import ARRAY, Integer, String

from kiban.benefits.models import BenefitClaim
from kiban.core.db import TenantSession
from kiban.core.errors import PermissionDenied

SINGLE, PAYS, OPEN, BLOCKED = "single", "pays", "open", "blocked"
"""States of a claim among all claims of the same person and program: the view ``benefit_claim_state`` shows the
last three; a claim it does not show is ``SINGLE`` (no other municipality claims the person)."""
CLAIM_COLUMNS = ("person_key", "key_kind", "person_no", "household_no", "resident_since", "confirmed_at", "paying")
"""The frame ``register`` takes: one row per person; ``paying`` says the household is in a batch or paid."""
CHUNK = 100_000
"""Claims per ``COPY`` block on PostgreSQL."""
SQLITE_CHUNK = 10_000
"""Households per statement on SQLite (its limit on bound parameters)."""
STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS benefit_claim_staging (person_key text, key_kind text, person_no text, "
    "household_no text, resident_since date, confirmed_at timestamptz, paying boolean) ON COMMIT DROP"
)
"""What ``benefit_claims_register`` reads (the caller's own temporary table: nothing another session sees)."""

CLAIM = cast(Table, BenefitClaim.__table__)
STATE_VIEW = table(
    "benefit_claim_state",
    column("program", String),
    column("lg_code", String),
    column("person_key", String),
    column("key_kind", String),
    column("person_no", String),
    column("household_no", String),
    column("claims", Integer),
    column("state", String),
)
"""Read-only view of the caller's claims with their states."""
UNIT_VIEW = table(
    "benefit_claim_unit",
    column("program", String),
    column("lg_code", String),
    column("household_no", String),
    column("claims", Integer),
)
"""Read-only view of the number of the caller's claims per program and 受給単位."""


@dataclass(frozen=True)
class ClaimState:
    person_no: str
    household_no: str
    key_kind: str
    state: str


def _tenant(db_session: TenantSession) -> str:
    lg_code = db_session.lg_code
    if lg_code is None:
        raise PermissionDenied("団体が指定されていないため、二重給付の確認は利用できません。")
    return lg_code


def _postgresql(db_session: TenantSession) -> bool:
    return db_session.connection().dialect.name == "postgresql"


def _stage(db_session: TenantSession, frame: pl.DataFrame) -> None:
    """``frame`` into the temporary table ``benefit_claim_staging`` with ``COPY`` (PostgreSQL; dropped at commit)."""
    connection = db_session.connection()
    connection.execute(text(STAGING))
    connection.execute(text("TRUNCATE benefit_claim_staging"))
    # the definer function reads it as the owner role; no other session can reach a temporary table anyway
    connection.execute(text("GRANT SELECT ON benefit_claim_staging TO PUBLIC"))
    driver: Any = connection.connection.driver_connection
    copy_sql = f"COPY benefit_claim_staging ({', '.join(CLAIM_COLUMNS)}) FROM STDIN (FORMAT CSV)"
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for part in frame.iter_slices(CHUNK):
            buffer = io.BytesIO()
            part.write_csv(buffer, include_header=False, null_value="")
            copy.write(buffer.getvalue())


def register(db_session: TenantSession, *, program: str, claims: pl.DataFrame) -> int:
    """Upsert the tenant's claims of ``program`` (``CLAIM_COLUMNS``) in bulk, then drop its earlier claims of the
    program this registration no longer makes (unless paying). A first confirmation or payment already stamped is
    kept. Returns the number of claims written."""
    lg_code = _tenant(db_session)
    frame = claims.select(CLAIM_COLUMNS)
    now = datetime.now(UTC)
    generation = int(now.timestamp() * 1_000_000)
    if _postgresql(db_session):
        _stage(db_session, frame)
        db_session.execute(
            text("SELECT benefit_claims_register(:program, :generation)"),
            {"program": program, "generation": generation},
        )
        return frame.height
    rows = frame.with_columns(
        pl.lit(program).alias("program"),
        pl.lit(lg_code).alias("lg_code"),
        pl.lit(generation, dtype=pl.Int64).alias("generation"),
        pl.lit(now).alias("claimed_at"),
        pl.when(pl.col("paying")).then(pl.lit(now)).otherwise(None).alias("paying_at"),
    ).drop("paying")
    claim = CLAIM
    statement = sqlite_insert(claim)
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=["program", "person_key", "lg_code"],
        set_={
            "key_kind": excluded.key_kind,
            "person_no": excluded.person_no,
            "household_no": excluded.household_no,
            "resident_since": excluded.resident_since,
            "confirmed_at": func.coalesce(claim.c.confirmed_at, excluded.confirmed_at),
            "paying_at": func.coalesce(claim.c.paying_at, excluded.paying_at),
            "generation": excluded.generation,
        },
    )
    if rows.height:
        db_session.execute(upsert, rows.to_dicts())
    db_session.execute(
        delete(claim).where(
            claim.c.lg_code == lg_code,
            claim.c.program == program,
            claim.c.generation != generation,
            claim.c.paying_at.is_(None),
        )
    )
    return frame.height


def stamp(
    db_session: TenantSession, *, program: str, households: Sequence[str], paying: bool = False
) -> dict[str, str]:
    """Lock every claim (of every municipality) of the persons of ``households``, then stamp the tenant's claims:
    the first confirmation (``paying=False``), or the payment (``paying=True``: only households none of whose
    persons is ``blocked`` or ``open``). Returns the state of each household claimed elsewhere too
    (``household_state``); the others are absent (``SINGLE``). Concurrent stamps of the same persons by two
    municipalities queue on the lock (the caller's own claims included), so exactly one of them pays."""
    lg_code = _tenant(db_session)
    wanted = sorted(set(households))
    if not wanted:
        return {}
    if _postgresql(db_session):
        call = text("SELECT claim_household, claim_state FROM benefit_claims_stamp(:program, :households, :paying)")
        rows = db_session.execute(
            call.bindparams(bindparam("households", type_=ARRAY(String))),
            {"program": program, "households": wanted, "paying": paying},
        ).all()
        return household_state([(str(h), str(s)) for h, s in rows])
    now = datetime.now(UTC)
    found: list[tuple[str, str]] = []
    for start in range(0, len(wanted), SQLITE_CHUNK):  # SQLite serializes writers: no row locks needed
        part = wanted[start : start + SQLITE_CHUNK]
        mine = (CLAIM.c.lg_code == lg_code, CLAIM.c.program == program, CLAIM.c.household_no.in_(part))
        if paying:
            undecided = select(STATE_VIEW.c.household_no).where(
                STATE_VIEW.c.lg_code == lg_code,
                STATE_VIEW.c.program == program,
                STATE_VIEW.c.household_no.in_(part),
                STATE_VIEW.c.state.in_((BLOCKED, OPEN)),
            )
            db_session.execute(
                update(CLAIM)
                .where(*mine, CLAIM.c.paying_at.is_(None), CLAIM.c.household_no.not_in(undecided))
                .values(paying_at=now)
            )
        else:
            db_session.execute(update(CLAIM).where(*mine, CLAIM.c.confirmed_at.is_(None)).values(confirmed_at=now))
        found += [(c.household_no, c.state) for c in states(db_session, program=program, households=part)]
    return household_state(found)


def states(db_session: TenantSession, *, program: str, households: Sequence[str] | None = None) -> list[ClaimState]:
    """The tenant's claims of ``program`` (of ``households``, or all) that another municipality claims too, with
    their states, by 世帯番号 and 宛名番号 (every other claim is ``SINGLE``)."""
    lg_code = _tenant(db_session)
    v = STATE_VIEW.c
    query = select(v.person_no, v.household_no, v.key_kind, v.state).where(v.program == program, v.lg_code == lg_code)
    if households is not None:
        query = query.where(v.household_no.in_(sorted(set(households))))
    rows = db_session.execute(query.order_by(v.household_no, v.person_no)).all()
    return [ClaimState(*row) for row in rows]


def registered(db_session: TenantSession, *, program: str, households: Sequence[str]) -> dict[str, int]:
    """The number of the tenant's claims of ``program`` per 受給単位 of ``households`` (those without any claim are
    absent)."""
    lg_code = _tenant(db_session)
    v = UNIT_VIEW.c
    wanted = sorted(set(households))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), SQLITE_CHUNK):
        part = wanted[start : start + SQLITE_CHUNK]
        query = select(v.household_no, v.claims).where(
            v.program == program, v.lg_code == lg_code, v.household_no.in_(part)
        )
        found |= {str(h): int(n) for h, n in db_session.execute(query).all()}
    return found


SEVERITY = {SINGLE: 0, PAYS: 1, OPEN: 2, BLOCKED: 3}


def household_state(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A household's state is its worst person's: ``blocked`` if any member is paid by another municipality, else
    ``open`` if any is undecided, else ``pays`` if any is claimed elsewhere too, else ``single``."""
    worst: dict[str, str] = {}
    for household_no, state in pairs:
        if SEVERITY[state] >= SEVERITY.get(worst.get(household_no, SINGLE), 0):
            worst[household_no] = state
    return worst
