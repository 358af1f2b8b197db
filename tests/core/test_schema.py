"""The schema as the database sees it: tenant isolation enforced by PostgreSQL itself, and migrations that match
the models exactly."""

from __future__ import annotations

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import kiban.models  # noqa: F401
from kiban.core.db import Base, tenant_table_names

from conftest import TestDatabase


def test_every_tenant_table_leads_its_primary_key_with_lg_code(db: TestDatabase) -> None:
    inspector = inspect(db.owner.engine)
    tenant_tables = tenant_table_names()
    assert {"staff_user", "web_session", "api_token"} <= set(tenant_tables)
    for table in tenant_tables:
        assert inspector.get_pk_constraint(table)["constrained_columns"][0] == "lg_code", table
    platform = {t.name for t in Base.metadata.sorted_tables if t.info.get("platform")}
    assert platform | set(tenant_tables) == set(Base.metadata.tables), "every table is tenant-owned or platform"


# SQLite cannot reflect an index on expressions (the registry's number order): compared on PostgreSQL only
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_migrations_match_the_models(db: TestDatabase) -> None:
    with db.owner.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.postgres
def test_rls_is_enabled_and_forced_on_every_tenant_table(pg_db: TestDatabase) -> None:
    with pg_db.owner.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).all()
    by_table = {r.relname: r for r in rows}
    for table in tenant_table_names():
        row = by_table[table]
        assert (row.relrowsecurity, row.relforcerowsecurity, row.policies >= 1) == (True, True, True), table


@pytest.mark.postgres
def test_the_app_role_is_not_privileged_and_owns_nothing(pg_db: TestDatabase) -> None:
    with pg_db.app.engine.connect() as conn:
        role = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owned = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        ).scalar_one()
    assert role.rolsuper is False
    assert role.rolbypassrls is False
    assert owned == 0


@pytest.mark.postgres
def test_raw_sql_without_a_tenant_sees_no_rows(pg_db: TestDatabase) -> None:
    from kiban.core.identity import service
    from kiban.core.identity.permissions import Role

    with pg_db.app.tenant("131016") as s:
        service.create_user(
            s, user_id="u1", display_name="一", password="long enough pass", roles=frozenset({Role.SCHOOL})
        )
    with pg_db.app.engine.connect() as conn:
        for table in tenant_table_names():
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == 0, table  # noqa: S608
        conn.execute(text("SELECT set_config('kiban.lg_code', '011002', true)"))
        assert conn.execute(text("SELECT count(*) FROM staff_user")).scalar_one() == 0
        conn.rollback()
        conn.execute(text("SELECT set_config('kiban.lg_code', '131016', true)"))
        assert conn.execute(text("SELECT count(*) FROM staff_user")).scalar_one() == 1


@pytest.mark.postgres
def test_the_app_role_cannot_write_another_tenants_rows(pg_db: TestDatabase) -> None:
    url = pg_db.app_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('kiban.lg_code', '011002', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO staff_role (lg_code, user_id, role) VALUES ('131016', 'x', 'registry')")


def test_migrations_have_a_single_head() -> None:
    from alembic.script import ScriptDirectory

    from kiban.core.migrate import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config("kiban_app")).get_heads()) == 1
