"""The audit log is append-only and hash-chained: every kind of tampering is caught and named."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from kiban.cli.main import main
from kiban.core.audit import service
from kiban.core.audit.models import AuditHead
from kiban.core.db import Database
from kiban.core.identity.permissions import Principal, Role, permissions_of

from at_once import at_once
from conftest import TestDatabase

A = "131016"
B = "011002"
CLERK = Principal("clerk1", "窓口 一郎", A, A, frozenset({Role.REGISTRY}), permissions_of(frozenset({Role.REGISTRY})))


def _append(tdb: TestDatabase, n: int, lg_code: str = A) -> None:
    with tdb.app.tenant(lg_code) as s:
        for i in range(n):
            service.record(s, actor=CLERK, action="registry.person.read", purpose="住民記録事務", subject=f"P{i:05d}")


def _verify(tdb: TestDatabase, lg_code: str = A) -> service.VerifyResult:
    with tdb.app.tenant(lg_code) as s:
        return service.verify_chain(s, lg_code)


def _cli_verify(tdb: TestDatabase, lg_code: str = A) -> int:
    """Exit code of ``kiban audit verify`` run as the application against this database."""
    args = ["audit", "verify", "--lg-code", lg_code, "--database-url", tdb.app_url]
    return CliRunner().invoke(main, args, catch_exceptions=False).exit_code


def _run_as_tenant(database: Database, backend: str, statement: str, lg_code: str = A) -> None:
    """Raw SQL in a transaction of its own, scoped to ``lg_code`` as RLS sees it on PostgreSQL."""
    with database.engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("SELECT set_config('kiban.lg_code', :lg, true)"), {"lg": lg_code})
        conn.execute(text(statement))


@contextmanager
def _tampering(tdb: TestDatabase, lg_code: str = A) -> Iterator[Connection]:
    """The owner, with the append-only triggers out of the way: what an attacker with DBA rights could do."""
    with tdb.owner.engine.begin() as conn:
        if tdb.backend == "postgresql":
            conn.execute(text("SELECT set_config('kiban.lg_code', :lg, true)"), {"lg": lg_code})
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        else:
            for trigger in (
                "audit_entry_no_update",
                "audit_entry_no_delete",
                "audit_head_forward",
                "audit_head_no_delete",
            ):
                conn.execute(text(f"DROP TRIGGER {trigger}"))
        yield conn


def test_an_untouched_chain_verifies(db: TestDatabase) -> None:
    _append(db, 10)
    result = _verify(db)
    assert result.ok
    assert result.entries == 10
    assert result.first_bad_seq is None
    assert _cli_verify(db) == 0


def test_an_edited_entry_is_named(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("UPDATE audit_entry SET subject = 'P99999' WHERE seq = 5"))
    result = _verify(db)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "改ざん" in result.reason
    assert _cli_verify(db) == 1


def test_a_deleted_entry_is_named(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "欠落" in result.reason
    assert _cli_verify(db) == 1


def test_reordered_entries_are_caught(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("UPDATE audit_entry SET seq = -3 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = 6"))
        conn.execute(text("UPDATE audit_entry SET seq = 6 WHERE seq = -3"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "順序が入れ替わっています" in result.reason
    assert _cli_verify(db) == 1


def test_a_truncated_tail_is_caught_by_the_head(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 7"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 8)
    assert "切り詰め" in result.reason
    assert _cli_verify(db) == 1


def test_a_truncated_table_is_caught(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("TRUNCATE audit_entry" if db.backend == "postgresql" else "DELETE FROM audit_entry"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 1, 0)
    assert _cli_verify(db) == 1


def test_a_rewritten_chain_is_caught_by_the_anchor(db: TestDatabase) -> None:
    _append(db, 5)
    with db.app.tenant(A) as s:
        anchor = service.export_head(s, A)
    assert anchor["seq"] == 5
    with _tampering(db) as conn:
        conn.execute(text("DELETE FROM audit_entry"))
        conn.execute(text("DELETE FROM audit_head"))
    _append(db, 5)  # a forged chain, internally consistent
    assert _verify(db).ok
    with db.app.tenant(A) as s:
        result = service.verify_against_anchor(s, anchor)
    assert (result.ok, result.first_bad_seq) == (False, 5)


def test_the_app_cannot_change_or_remove_entries(db: TestDatabase) -> None:
    _append(db, 3)
    statements = ["UPDATE audit_entry SET subject = 'x'", "DELETE FROM audit_entry", "DELETE FROM audit_head"]
    if db.backend == "postgresql":
        statements += ["TRUNCATE audit_entry", "TRUNCATE audit_head"]
    for statement in statements:
        with pytest.raises(DBAPIError) as refused:
            _run_as_tenant(db.app, db.backend, statement)
        if db.backend == "postgresql":  # refused by the grants, before any trigger runs
            assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), statement
    assert _verify(db).ok


def test_the_triggers_stop_even_the_owner(db: TestDatabase) -> None:
    _append(db, 3)
    statements = ["UPDATE audit_entry SET subject = 'x'", "DELETE FROM audit_entry", "UPDATE audit_head SET seq = 1"]
    if db.backend == "postgresql":
        statements += ["TRUNCATE audit_entry", "TRUNCATE audit_head"]
    for statement in statements:
        with pytest.raises(DBAPIError, match=r"append-only|moves forward"):
            _run_as_tenant(db.owner, db.backend, statement)
    assert _verify(db).ok


@pytest.mark.postgres
def test_the_app_role_lacks_update_delete_truncate(pg_db: TestDatabase) -> None:
    with pg_db.app.engine.connect() as conn:
        rights = {
            p: conn.execute(text("SELECT has_table_privilege(current_user, 'audit_entry', :p)"), {"p": p}).scalar_one()
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        }
    assert rights == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False, "TRUNCATE": False}


def test_tenants_see_only_their_own_chain(db: TestDatabase) -> None:
    _append(db, 3, A)
    _append(db, 2, B)
    with db.app.tenant(B) as s:
        assert [e.seq for e in service.entries(s, lg_code=A)] == []
        assert [e.seq for e in service.entries(s, lg_code=B)] == [2, 1]
    assert {(r.lg_code, r.entries, r.ok) for r in service.verify_all(db.app)} == {(A, 3, True), (B, 2, True)}


@pytest.mark.postgres
def test_row_level_security_hides_other_tenants_entries(pg_db: TestDatabase) -> None:
    _append(pg_db, 3, A)
    _append(pg_db, 2, B)
    with pg_db.app.engine.begin() as conn:  # raw SQL, no ORM scoping: only RLS stands between the tenants
        conn.execute(text("SELECT set_config('kiban.lg_code', :lg, true)"), {"lg": B})
        seen = conn.execute(text("SELECT lg_code, count(*) FROM audit_entry GROUP BY lg_code")).all()
        with pytest.raises(DBAPIError, match="row-level security"):
            conn.execute(
                text(
                    "INSERT INTO audit_entry (lg_code, seq, at, actor, actor_lg_code, roles, action, purpose,"
                    " outcome, request_id, prev_hash, hash) VALUES (:a, 99, '', '', '', '', '', '', '', '', '', '')"
                ),
                {"a": A},
            )
    assert [tuple(r) for r in seen] == [(B, 2)]


def test_a_my_number_is_refused_as_subject(db: TestDatabase) -> None:
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="My Number"):
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", subject="621498320257")
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="My Number"):
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", detail={"note": "番号 621498320257"})
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="My Number"):
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", subject="6214-9832-0257")
    with db.app.tenant(A) as s:  # 12 digits failing the check digit are not a My Number
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", subject="621498320258")
    assert _verify(db).entries == 1


def test_an_unknown_outcome_is_refused(db: TestDatabase) -> None:
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="outcome"):
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", outcome="maybe")


def test_a_batch_job_is_recorded_as_system(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        entry = service.record(s, actor=None, action="registry.batch.age", purpose="住民記録事務", detail={"n": 3})
    assert (entry.actor, entry.actor_lg_code, entry.roles, entry.detail) == ("system", A, "", '{"n":3}')
    with db.app.tenant(A) as s:
        assert service.export_head(s, A)["hash"] == entry.hash


def test_concurrent_appends_never_fork_the_chain(db: TestDatabase) -> None:
    def worker() -> None:
        for _ in range(25):
            with db.app.tenant(A) as s:
                service.record(s, actor=CLERK, action="registry.person.read", purpose="住民記録事務")

    assert at_once([worker] * 4) == []
    result = _verify(db)
    assert (result.ok, result.entries) == (True, 100)


def test_a_long_lived_session_rereads_the_head(db: TestDatabase) -> None:
    session = db.app.session(A)
    with session.begin():
        service.record(session, actor=CLERK, action="registry.person.read", purpose="住民記録事務")
        shown = session.get(AuditHead, A)  # e.g. a screen still holds the head: it stays in the identity map
    _append(db, 2)  # another session moves the head on meanwhile
    with session.begin():
        assert service.record(session, actor=CLERK, action="registry.person.read", purpose="住民記録事務").seq == 4
    assert shown is not None
    assert shown.seq == 4
    session.close()
    assert _verify(db).ok


def test_a_denial_stays_recorded_when_the_request_rolls_back(db: TestDatabase) -> None:
    # The check comes first (as in every route), then the business change, which fails and rolls back.
    def refused_then_failed() -> None:
        with db.app.tenant(A) as s:
            service.record_denied(db.app.engine, actor=CLERK, action="GET /api/v1/x", purpose="アクセス制御", lg_code=A)
            service.record(s, actor=CLERK, action="registry.person.update", purpose="住民記録事務")
            raise RuntimeError("the business change fails")

    with pytest.raises(RuntimeError):
        refused_then_failed()
    with db.app.tenant(A) as s:
        kept = service.entries(s, lg_code=A)
    assert [(e.seq, e.outcome, e.action) for e in kept] == [(1, "denied", "GET /api/v1/x")]
    assert _verify(db).ok
