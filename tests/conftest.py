"""Test databases. Every test that takes ``db`` runs on SQLite and on PostgreSQL.

PostgreSQL: with CI=true the suite uses 127.0.0.1:5432 (user postgres) and fails if any PostgreSQL test was
skipped; elsewhere it uses KIBAN_TEST_PG_ADMIN_URL, or starts a throw-away cluster when PostgreSQL binaries are
installed, or skips the PostgreSQL part and says so in the summary.

Each test gets a fresh database cloned from a migrated template (a file copy on SQLite, CREATE DATABASE ...
TEMPLATE on PostgreSQL). On PostgreSQL the app connects as ``kiban_app`` (no ownership, no BYPASSRLS) and
migrations run as ``kiban_owner``, exactly as in production.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg
import pytest
from psycopg import sql

from kiban.core.db import Database
from kiban.core.identifiers import find_my_number_candidates
from kiban.core.logs import configure_logging
from kiban.core.migrate import upgrade
from kiban.core.tenants.service import load_catalog

from pgcluster import CI_ADMIN_URL, in_ci, throwaway_cluster, wait_for

pytest_plugins = ["web_site", "browser"]

OWNER_ROLE = "kiban_owner"
APP_ROLE = "kiban_app"


@pytest.fixture(autouse=True, scope="session")
def kernel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Plans compiled by the rules engine (``kiban.core.rules.compiled``) are cached for the session, not in the
    user's cache: a run compiles what it tests, once for all its workers (``pytest-xdist``: the workers' temporary
    directories share a parent; the cache writes each file atomically)."""
    base = tmp_path_factory.getbasetemp()
    directory = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "kernels"
    os.environ["KIBAN_KERNEL_CACHE"] = str(directory)
    return directory


@dataclass
class TestDatabase:
    """One test's database: ``app`` connects as the application, ``owner`` as the table owner."""

    __test__ = False

    backend: str
    app_url: str
    owner_url: str
    admin_url: str | None = None

    def __post_init__(self) -> None:
        self._dbs: list[Database] = []

    def _open(self, url: str) -> Database:
        db = Database(url)
        self._dbs.append(db)
        return db

    @property
    def app(self) -> Database:
        if not hasattr(self, "_app"):
            self._app = self._open(self.app_url)
        return self._app

    @property
    def owner(self) -> Database:
        if not hasattr(self, "_owner"):
            self._owner = self._open(self.owner_url)
        return self._owner

    def close(self) -> None:
        for db in self._dbs:
            db.dispose()


def _with_user_and_db(admin_url: str, user: str, dbname: str) -> str:
    rest = admin_url.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+psycopg://{user}@{rest}/{dbname}"


# --- PostgreSQL server -------------------------------------------------------------------------------------------

_pg_skip_reason: str | None = None


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    global _pg_skip_reason
    if in_ci():
        wait_for(CI_ADMIN_URL, seconds=30)
        yield CI_ADMIN_URL
        return
    given = os.environ.get("KIBAN_TEST_PG_ADMIN_URL")
    if given:
        yield given
        return
    with throwaway_cluster() as url:
        if url is None:
            _pg_skip_reason = "PostgreSQL binaries (initdb, pg_ctl) not found"
            pytest.skip(_pg_skip_reason)
        yield url


_ROLES_LOCK = 7_336_201
"""Advisory lock key held while the roles are made: xdist workers starting together on a fresh server would both see
a role missing and both create it (a unique violation for the second)."""


def _ensure_roles(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ROLES_LOCK,))
        try:
            for role, attrs in (
                (OWNER_ROLE, "LOGIN"),
                (APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
            ):
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} " + attrs).format(sql.Identifier(role)))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ROLES_LOCK,))


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str, worker_id: str) -> Iterator[str]:
    _ensure_roles(pg_admin_url)
    name = f"kiban_tmpl_{worker_id}_{os.getpid()}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    admin_db_url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin_db_url, autocommit=True) as conn:
        # PostgreSQL 15 no longer lets every role create in "public"; the owner role owns the schema objects.
        conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(APP_ROLE)))
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(APP_ROLE))
        )
    owner_url = _with_user_and_db(pg_admin_url, OWNER_ROLE, name)
    upgrade(owner_url, app_role=APP_ROLE)
    owner = Database(owner_url)
    with owner.tenant(None) as session:
        load_catalog(db_session=session)
    owner.dispose()
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _pg_database(admin_url: str, template: str) -> Iterator[TestDatabase]:
    name = f"kiban_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(template), sql.Identifier(OWNER_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(APP_ROLE))
        )
    tdb = TestDatabase(
        backend="postgresql",
        app_url=_with_user_and_db(admin_url, APP_ROLE, name),
        owner_url=_with_user_and_db(admin_url, OWNER_ROLE, name),
        admin_url=admin_url.rsplit("/", 1)[0] + "/" + name,
    )
    try:
        yield tdb
    finally:
        tdb.close()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- SQLite ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "kiban.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, app_role=APP_ROLE)
    db = Database(url)
    with db.tenant(None) as session:
        load_catalog(db_session=session)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def _sqlite_database(template: Path, tmp_path: Path) -> Iterator[TestDatabase]:
    path = tmp_path / "kiban.sqlite3"
    shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    tdb = TestDatabase(backend="sqlite", app_url=url, owner_url=url)
    try:
        yield tdb
    finally:
        tdb.close()


# --- fixtures tests use ------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A fresh, migrated database with the tenant catalogue loaded, on each backend."""
    if request.param == "sqlite":
        yield from _sqlite_database(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        admin = request.getfixturevalue("pg_admin_url")
        yield from _pg_database(admin, request.getfixturevalue("pg_template"))


@pytest.fixture
def pg_db(request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """A fresh PostgreSQL database (for tests of what only PostgreSQL enforces: RLS, grants, triggers)."""
    admin = request.getfixturevalue("pg_admin_url")
    yield from _pg_database(admin, request.getfixturevalue("pg_template"))


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[TestDatabase]:
    yield from _sqlite_database(sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """The xdist worker name ("master" without xdist)."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "master"))


# --- PostgreSQL must not be skipped in CI --------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


_skipped_pg: list[str] = []
_ran_pg: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.skipped:
        _skipped_pg.append(report.nodeid)
    elif report.when == "call":
        _ran_pg.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    if _skipped_pg:
        terminalreporter.write_line(
            f"PostgreSQL: {len(_skipped_pg)} PostgreSQL tests were SKIPPED"
            + (f" ({_pg_skip_reason})" if _pg_skip_reason else "")
            + ". Install PostgreSQL or set KIBAN_TEST_PG_ADMIN_URL to run them.",
            yellow=True,
            bold=True,
        )
    elif _ran_pg:
        terminalreporter.write_line(f"PostgreSQL: {len(_ran_pg)} PostgreSQL tests ran.", green=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if in_ci() and _skipped_pg and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _LOG_FILE is not None:
        _LOG_FILE.flush()
        leaked = find_my_number_candidates(Path(_LOG_FILE.name).read_text(encoding="utf-8"))
        if leaked:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            print(f"\nLOG SCAN: {len(leaked)} My-Number-like numbers were logged (see {_LOG_FILE.name})")


# --- everything logged during the suite is scanned for My Numbers -------------------------------------------------

_LOG_FILE: IO[str] | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Send every ``kiban`` log line of this test process to one file, scanned when the session ends."""
    global _LOG_FILE
    directory = Path(tempfile.gettempdir()) / "kiban-test-logs"
    directory.mkdir(exist_ok=True)
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    _LOG_FILE = (directory / f"{os.getpid()}-{worker}.jsonl").open("w", encoding="utf-8")
    configure_logging(_LOG_FILE, level=logging.DEBUG)
