"""The benchmark database of the registry benchmarks, set up as in production (and as ``tests/conftest.py`` does):
tables owned by ``kiban_owner`` (migrations), the application connecting as ``kiban_app`` (no ownership, no
BYPASSRLS; CONNECT and TEMPORARY on the database: the bulk load stages its COPY in temporary tables), so every
query runs under row-level security.

``../.venv/bin/python registry_db.py drop ADMIN_URL`` removes it when done."""

from __future__ import annotations

import contextlib
import sys

import psycopg
from psycopg import sql

from kiban.core.db import Database
from kiban.core.identity.permissions import Principal, Role, permissions_of
from kiban.core.migrate import upgrade
from kiban.core.tenants import service as tenants

NAME = "kiban_bench_registry"
OWNER_ROLE = "kiban_owner"
APP_ROLE = "kiban_app"
LG_CODE = "011002"
"""札幌市 (about 1.96 million residents)."""


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _url(admin_url: str, user: str) -> str:
    rest = admin_url.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+psycopg://{user}@{rest}/{NAME}"


def app_url(admin_url: str) -> str:
    return _url(admin_url, APP_ROLE)


def owner_url(admin_url: str) -> str:
    return _url(admin_url, OWNER_ROLE)


def create(admin_url: str, lg_code: str) -> None:
    """A fresh, migrated database with the tenant catalogue and ``lg_code`` active (dropped first if it exists)."""
    drop(admin_url)
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        for role, attrs in ((OWNER_ROLE, "LOGIN"), (APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                with contextlib.suppress(psycopg.errors.DuplicateObject):
                    conn.execute(sql.SQL("CREATE ROLE {} " + attrs).format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(NAME), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(NAME)))
    with psycopg.connect(_plain(admin_url).rsplit("/", 1)[0] + "/" + NAME, autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(APP_ROLE)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(NAME), sql.Identifier(APP_ROLE)
            )
        )
    upgrade(owner_url(admin_url), app_role=APP_ROLE)
    owner = Database(owner_url(admin_url))
    with owner.tenant(None) as s:
        tenants.load_catalog(db_session=s)
        tenants.activate(db_session=s, lg_code=lg_code)
    owner.dispose()


def vacuum_analyze(admin_url: str) -> None:
    """What autovacuum does after a large load: planner statistics and the visibility map (index-only scans)."""
    with psycopg.connect(_plain(owner_url(admin_url)), autocommit=True) as conn:
        for table in ("household", "person", "registry_event", "person_version"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def drop(admin_url: str) -> None:
    with psycopg.connect(_plain(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))


def clerk(lg_code: str) -> Principal:
    """A 住民記録担当 of the municipality (what the staff UI's searches run as)."""
    roles = frozenset({Role.REGISTRY})
    return Principal("bench", "住記 ベンチ", lg_code, lg_code, roles, permissions_of(roles))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "drop":
        sys.exit("usage: registry_db.py drop ADMIN_URL")
    drop(sys.argv[2])
