"""The audit log is append-only and hash-chained: every kind of tampering is caught and named."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from kiban.core.audit import service
from kiban.core.identity.permissions import Principal, Role, permissions_of

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


def test_an_edited_entry_is_named(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("UPDATE audit_entry SET subject = 'P99999' WHERE seq = 5"))
    result = _verify(db)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "改ざん" in result.reason


def test_a_deleted_entry_is_named(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "欠落" in result.reason


def test_reordered_entries_are_caught(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("UPDATE audit_entry SET seq = -3 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = 6"))
        conn.execute(text("UPDATE audit_entry SET seq = 6 WHERE seq = -3"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_a_truncated_tail_is_caught_by_the_head(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 7"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 8)
    assert "切り詰め" in result.reason


def test_a_truncated_table_is_caught(db: TestDatabase) -> None:
    _append(db, 10)
    with _tampering(db) as conn:
        conn.execute(text("TRUNCATE audit_entry" if db.backend == "postgresql" else "DELETE FROM audit_entry"))
    result = _verify(db)
    assert (result.ok, result.first_bad_seq) == (False, 1)


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
        statements.append("TRUNCATE audit_entry")
    for statement in statements:
        with db.app.engine.connect() as conn:
            conn.execute(
                text("SELECT set_config('kiban.lg_code', :lg, true)" if db.backend == "postgresql" else "SELECT :lg"),
                {"lg": A},
            )
            with pytest.raises(DBAPIError):
                conn.execute(text(statement))
            conn.rollback()
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


def test_a_my_number_is_refused_as_subject(db: TestDatabase) -> None:
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="My Number"):
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", subject="621498320257")
    with db.app.tenant(A) as s, pytest.raises(ValueError, match="My Number"):
        service.record(s, actor=CLERK, action="x", purpose="住民記録事務", detail={"note": "番号 621498320257"})


def test_concurrent_appends_never_fork_the_chain(db: TestDatabase) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                with db.app.tenant(A) as s:
                    service.record(s, actor=CLERK, action="registry.person.read", purpose="住民記録事務")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = _verify(db)
    assert (result.ok, result.entries) == (True, 100)


def test_a_denial_stays_recorded_when_the_request_rolls_back(db: TestDatabase) -> None:
    # The check comes first (as in every route), then the business change, which fails and rolls back.
    def refused_then_failed() -> None:
        with db.app.tenant(A) as s:
            service.record_denied(db.app, actor=CLERK, action="GET /api/v1/x", purpose="アクセス制御", lg_code=A)
            service.record(s, actor=CLERK, action="registry.person.update", purpose="住民記録事務")
            raise RuntimeError("the business change fails")

    with pytest.raises(RuntimeError):
        refused_then_failed()
    with db.app.tenant(A) as s:
        kept = service.entries(s, lg_code=A)
    assert [(e.seq, e.outcome, e.action) for e in kept] == [(1, "denied", "GET /api/v1/x")]
    assert _verify(db).ok
