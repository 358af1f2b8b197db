"""Alembic environment: runs on the connection handed over by ``kiban.core.migrate`` (the owner role)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import kiban.models  # noqa: F401  (registers every table on Base.metadata)
from kiban.core.db import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `kiban db upgrade` (kiban.core.migrate.upgrade)")
_run(connection)
