"""Bulk reads and writes of the tax tables as Polars frames, inside the caller's transaction and the tenant's
row-level security.

On PostgreSQL rows go in with ``COPY`` into a temporary table and one ``INSERT … SELECT`` (``COPY FROM`` would not
apply the RLS policy; the ``INSERT`` does), deletions by key join a ``COPY``-filled temporary table, and reads stream
out with ``COPY (SELECT …) TO STDOUT``. On SQLite the same operations are batched ``executemany`` statements."""

from __future__ import annotations

import io
import itertools
from typing import Any

import polars as pl
from sqlalchemy import Select, Table, bindparam, delete, insert, text

from kiban.core.db import TenantSession

_BATCH = 20_000
_staging = itertools.count(1)


def _driver(db_session: TenantSession) -> Any:
    return db_session.connection().connection.driver_connection


def _is_postgresql(db_session: TenantSession) -> bool:
    return db_session.connection().dialect.name == "postgresql"


def _staging_table(db_session: TenantSession, like: str, columns: list[str], frame: pl.DataFrame) -> str:
    """A temporary table with ``like``'s ``columns`` (their types, no constraints) holding ``frame`` (PostgreSQL
    only); dropped at commit."""
    connection = db_session.connection()
    name = f"staging_{like}_{next(_staging)}"
    names = ", ".join(f'"{c}"' for c in columns)
    # names come from the model, not from input
    connection.execute(text(f'CREATE TEMP TABLE "{name}" ON COMMIT DROP AS SELECT {names} FROM "{like}" WITH NO DATA'))  # noqa: S608
    with (
        _driver(db_session).cursor() as cursor,
        cursor.copy(f'COPY "{name}" ({names}) FROM STDIN (FORMAT CSV)') as copy,
    ):
        for batch in frame.select(columns).iter_slices(100_000):
            buffer = io.BytesIO()
            batch.write_csv(buffer, include_header=False, null_value="")
            copy.write(buffer.getvalue())
    return name


def insert_frame(db_session: TenantSession, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` (columns named as ``table``'s) into ``table``."""
    if frame.height == 0:
        return
    if not _is_postgresql(db_session):
        for batch in frame.iter_slices(_BATCH):
            db_session.connection().execute(insert(table), batch.to_dicts())
        return
    staging = _staging_table(db_session, table.name, frame.columns, frame)
    names = ", ".join(f'"{c}"' for c in frame.columns)
    # names come from the model, not from input
    db_session.connection().execute(text(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{staging}"'))  # noqa: S608


def delete_keys(db_session: TenantSession, table: Table, keys: pl.DataFrame) -> None:
    """Delete the rows of ``table`` whose values in ``keys``' columns equal one row of ``keys`` (the tenant's
    ``lg_code`` is added: only the session's tenant is touched)."""
    if keys.height == 0:
        return
    lg_code = db_session.lg_code
    columns = keys.columns
    if not _is_postgresql(db_session):
        statement = delete(table).where(
            table.c.lg_code == bindparam("_lg_code"), *(table.c[c] == bindparam(f"_{c}") for c in columns)
        )
        for batch in keys.iter_slices(_BATCH):
            rows = [{"_lg_code": lg_code, **{f"_{k}": v for k, v in row.items()}} for row in batch.to_dicts()]
            db_session.connection().execute(statement, rows)
        return
    staging = _staging_table(db_session, table.name, columns, keys)
    matched = " AND ".join(f't."{c}" = s."{c}"' for c in columns)
    db_session.connection().execute(
        text(f'DELETE FROM "{table.name}" t USING "{staging}" s WHERE t.lg_code = :lg_code AND {matched}'),  # noqa: S608
        {"lg_code": lg_code},
    )


def read_frame(db_session: TenantSession, query: Select[Any], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The rows of ``query`` (its columns in ``schema``'s order) as a frame of ``schema``."""
    connection = db_session.connection()
    if connection.dialect.name == "postgresql":
        sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
        buffer = io.BytesIO()
        with _driver(db_session).cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT CSV)") as copy:
            for block in copy:
                buffer.write(block)
        if buffer.tell() == 0:
            return pl.DataFrame(schema=schema)
        buffer.seek(0)
        raw = pl.read_csv(buffer, has_header=False, new_columns=list(schema), infer_schema=False)
        return raw.select(_from_text(name, dtype) for name, dtype in schema.items())
    rows = connection.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _from_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A column of PostgreSQL's CSV text (booleans as ``t``/``f``) in ``dtype``."""
    column = pl.col(name)
    if dtype == pl.Boolean():
        return (column == "t").alias(name)
    if dtype == pl.Date():
        return column.str.to_date("%Y-%m-%d").alias(name)
    return column.cast(dtype).alias(name)
