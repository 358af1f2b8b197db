"""Population-wide answers as columnar data: who lived in the municipality on a date, as a Polars frame (what
batch rules, statistics and Parquet exports read), and the 異動 of a period.

Both read ``person_version`` / ``registry_event`` with one query; on PostgreSQL the rows stream out with ``COPY``
(inside the tenant's row-level security), on SQLite through the cursor."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.registry.access import PURPOSE, may_read
from kiban.registry.events import Status
from kiban.registry.models import PersonVersion, RegistryEvent

SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "person_no": pl.Utf8(),
    "household_no": pl.Utf8(),
    "relationship": pl.Utf8(),
    "family_name": pl.Utf8(),
    "given_name": pl.Utf8(),
    "family_name_kana": pl.Utf8(),
    "given_name_kana": pl.Utf8(),
    "birth_date": pl.Date(),
    "sex": pl.Utf8(),
    "nationality": pl.Utf8(),
    "residence_status": pl.Utf8(),
    "resident_since": pl.Date(),
    "address_since": pl.Date(),
    "postal_code": pl.Utf8(),
    "pref_name": pl.Utf8(),
    "city_name": pl.Utf8(),
    "town": pl.Utf8(),
    "banchi": pl.Utf8(),
}
"""Columns of a snapshot: one row per resident on the date."""

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "event_no": pl.Int64(),
    "event_type": pl.Utf8(),
    "person_no": pl.Utf8(),
    "household_no": pl.Utf8(),
    "effective_date": pl.Date(),
    "recorded_at": pl.Date(),
}


def _frame(db_session: TenantSession, query: Select[*tuple[Any, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    connection = db_session.connection()
    if connection.dialect.name == "postgresql":
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        buffer = io.BytesIO()
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT CSV)") as copy:  # type: ignore[union-attr]
            for block in copy:
                buffer.write(block)
        buffer.seek(0)
        return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema, infer_schema=False)
    rows = connection.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def residents(db_session: TenantSession, *, actor: Principal, on: date) -> pl.DataFrame:
    """Every resident on ``on`` (異動日 axis, as known now), sorted by 世帯番号 and 宛名番号."""
    may_read(db_session, actor)
    v = PersonVersion
    columns = [getattr(v, name) for name in SNAPSHOT_SCHEMA]
    query = (
        select(*columns)
        .where(
            v.valid_from <= on,
            or_(v.valid_to.is_(None), v.valid_to > on),
            v.status == Status.RESIDENT.value,
            v.lg_code == db_session.lg_code,
        )
        .order_by(v.household_no, v.person_no)
    )
    frame = _frame(db_session, query, SNAPSHOT_SCHEMA)
    record(
        db_session,
        actor=actor,
        action="registry.snapshot",
        purpose=PURPOSE,
        detail={"on": on.isoformat(), "count": frame.height},
    )
    return frame


def write_residents_parquet(db_session: TenantSession, *, actor: Principal, on: date, path: str | Path) -> int:
    """Write the snapshot on ``on`` as Parquet (zstd); returns the number of residents written."""
    frame = residents(db_session, actor=actor, on=on)
    frame.write_parquet(path, compression="zstd")
    return frame.height


def events_between(db_session: TenantSession, *, actor: Principal, start: date, end: date) -> pl.DataFrame:
    """The 異動 with a 異動日 in [start, end] as known now (corrections replace what they correct)."""
    may_read(db_session, actor)
    e = RegistryEvent
    corrected = select(e.corrects_event_no).where(e.corrects_event_no.is_not(None))
    later = aliased(RegistryEvent)
    latest_corrections = select(func.max(later.event_no)).group_by(later.corrects_event_no)
    query = (
        select(e.event_no, e.event_type, e.person_no, e.household_no, e.effective_date, e.recorded_at)
        .where(
            and_(e.effective_date >= start, e.effective_date <= end),
            e.event_no.not_in(corrected),
            or_(e.corrects_event_no.is_(None), e.event_no.in_(latest_corrections)),
            e.lg_code == db_session.lg_code,
        )
        .order_by(e.event_no)
    )
    frame = _frame(db_session, query, EVENTS_SCHEMA)
    record(
        db_session,
        actor=actor,
        action="registry.events.list",
        purpose=PURPOSE,
        detail={"start": start.isoformat(), "end": end.isoformat(), "count": frame.height},
    )
    return frame
