"""Database access: one declarative base, engines for SQLite (embedded default) and PostgreSQL (production),
and sessions scoped to one tenant.

Tenant scoping happens twice on purpose:

* in the database: on PostgreSQL every tenant-owned table has row-level security forced, with a policy on
  ``lg_code = current_setting('kiban.lg_code')``; :class:`TenantSession` sets that value with ``set_config(...,
  is_local => true)`` at the start of every transaction, so a pooled connection never carries a tenant over;
* in the data layer: every ORM query on a tenant-owned entity gets ``lg_code = <tenant>`` added, and a flush refuses
  rows of another tenant. On SQLite this is the only guard; on PostgreSQL it is a second one.

A session opened without a tenant sees no tenant-owned rows at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import Engine, MetaData, String, create_engine, event, false, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.pool import ConnectionPoolEntry

from kiban.core.errors import PermissionDenied

TENANT_SETTING = "kiban.lg_code"
"""PostgreSQL custom setting that RLS policies compare ``lg_code`` with."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


PLATFORM_TABLE = {"info": {"platform": True}}
"""``__table_args__`` of platform tables (not tenant-owned: no lg_code scoping, no RLS)."""


class TenantOwned:
    """Mixin for every table that holds a municipality's data: ``lg_code`` comes first and leads the primary key,
    so the schema can be sharded by municipality later."""

    __tenant_owned__: ClassVar[bool] = True
    lg_code: Mapped[str] = mapped_column(String(6), primary_key=True, sort_order=-100)


def is_tenant_table(table_name: str) -> bool:
    return table_name in tenant_table_names()


def tenant_table_names() -> list[str]:
    """Names of every tenant-owned table in the model (what the RLS migration helpers and catalog tests check)."""
    names: list[str] = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if isinstance(cls, type) and issubclass(cls, TenantOwned):
            names.append(str(getattr(mapper.local_table, "name")))  # noqa: B009 (FromClause is a Table here)
    return sorted(names)


class TenantSession(Session):
    """A session bound to at most one tenant for its whole life (see module docstring)."""

    @property
    def lg_code(self) -> str | None:
        value = self.info.get("lg_code")
        return value if isinstance(value, str) else None

    @property
    def engine(self) -> Engine:
        """The engine under this session (to open a separate transaction, e.g. to audit a refusal)."""
        bind = self.get_bind()
        return bind.engine if isinstance(bind, Connection) else bind


@event.listens_for(TenantSession, "after_begin")
def _set_tenant_for_transaction(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": TENANT_SETTING, "value": session.info.get("lg_code") or ""},
        )


@event.listens_for(TenantSession, "do_orm_execute")
def _scope_orm_statements(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("kiban_all_tenants", False):
        return
    lg_code = state.session.info.get("lg_code")
    if lg_code is None:
        state.statement = state.statement.options(
            with_loader_criteria(TenantOwned, lambda cls: false(), include_aliases=True)
        )
    else:
        state.statement = state.statement.options(
            with_loader_criteria(TenantOwned, lambda cls: cls.lg_code == lg_code, include_aliases=True)
        )


@event.listens_for(TenantSession, "before_flush")
def _refuse_other_tenants_rows(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    lg_code = session.info.get("lg_code")
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        if obj.lg_code is None and obj in session.new and lg_code is not None:
            obj.lg_code = lg_code
        if obj.lg_code != lg_code:
            raise PermissionDenied(f"他の団体（{obj.lg_code}）のデータは変更できません。")


def _sqlite_pragmas(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """Engine plus session factory; the only way domains open a session."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._factory = sessionmaker(bind=self.engine, class_=TenantSession, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, lg_code: str | None) -> TenantSession:
        """A session for ``lg_code`` (``None``: platform tables only). The caller owns commit/rollback."""
        return self._factory(info={"lg_code": lg_code})

    @contextmanager
    def tenant(self, lg_code: str | None) -> Iterator[TenantSession]:
        """One unit of work for one tenant: commits on success, rolls back on any error."""
        with self.session(lg_code) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
