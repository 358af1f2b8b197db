"""Search (name, フリガナ, birth date, address, 住民票コード, 個人番号), the columnar snapshot, and the change feed,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kiban.core.audit.service import entries
from kiban.core.errors import InputError, PermissionDenied
from kiban.core.identity.permissions import Role
from kiban.registry import feed, service, snapshot
from kiban.registry.search import search

from conftest import TestDatabase
from residents import TODAY, A, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
SCHOOL = staff("school1", Role.SCHOOL)
TAX_SYSTEM = staff("tax-feed", Role.TAX)
MY_NUMBER = "123456789018"
RESIDENT_CODE = "12345678903"


def _town(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001", my_number=MY_NUMBER, resident_code=RESIDENT_CODE)
        move_in(s, CLERK, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="女", relationship="妻")
        move_in(
            s,
            CLERK,
            "2001",
            "9002",
            family_name="山本",
            family_name_kana="ヤマモト",
            given_name="100%_男",
            birth_date=date(1990, 2, 3),
            postal_code="1000005",
            town="丸の内一丁目",
            banchi="9-9",
        )
        service.register_move_out(
            s,
            actor=CLERK,
            person_no="2001",
            effective_date=date(2024, 1, 10),
            destination="大阪府大阪市北区",
            today=TODAY,
        )


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_search_by_every_criterion(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        assert [h.person_no for h in search(s, actor=CLERK, kana="やまだ")] == ["1001", "1002"]
        assert [h.person_no for h in search(s, actor=CLERK, kana="ﾔﾏﾀﾞ ﾊﾅｺ")] == ["1002"]
        assert [h.person_no for h in search(s, actor=CLERK, name="山田　太")] == ["1001"]
        assert search(s, actor=CLERK, kana="ヤマ") == search(s, actor=CLERK, kana="ヤマダ"), "山本 has left"
        assert [h.person_no for h in search(s, actor=CLERK, kana="ヤマ", include_departed=True)] == [
            "1001",
            "1002",
            "2001",
        ]
        assert [h.person_no for h in search(s, actor=CLERK, birth_date=date(1980, 5, 1), kana="ヤマダタ")] == ["1001"]
        assert [h.person_no for h in search(s, actor=CLERK, address="千代田１－１")] == ["1001", "1002"]
        assert [h.person_no for h in search(s, actor=CLERK, resident_code=RESIDENT_CODE)] == ["1001"]
        assert [h.person_no for h in search(s, actor=CLERK, my_number=MY_NUMBER)] == ["1001"]
        assert search(s, actor=CLERK, name="100%", include_departed=True) == []
        assert [h.person_no for h in search(s, actor=CLERK, name="山本100%_", include_departed=True)] == ["2001"]
        hit = search(s, actor=CLERK, kana="ヤマダタロウ")[0]
        assert (hit.address, hit.household_no) == ("東京都千代田区千代田1-1", "9001")
        with pytest.raises(InputError, match="いずれか"):
            search(s, actor=CLERK)
        logged = [e for e in entries(s, lg_code=A) if e.action == "registry.search"]
        assert json.loads(logged[-1].detail or "{}")["found"] == ["1001", "1002"], "the first search of the test"
        assert all(MY_NUMBER not in (e.detail or "") for e in entries(s, lg_code=A))


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_my_number_search_needs_the_permission(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        assert [h.person_no for h in search(s, actor=SCHOOL, kana="ヤマダ")] == ["1001", "1002"]
        with pytest.raises(PermissionDenied):
            search(s, actor=SCHOOL, my_number=MY_NUMBER)
    with db.app.tenant(A) as s:
        # The refusal came after this transaction had appended to the chain: it is written once that one ends.
        newest = entries(s, lg_code=A, limit=1)[0]
        assert (newest.action, newest.outcome) == ("registry.search.my_number", "denied")


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_snapshot_on_a_date(db: TestDatabase, tmp_path: Path) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        before = snapshot.residents(s, actor=CLERK, on=date(2024, 1, 9))
        after = snapshot.residents(s, actor=CLERK, on=date(2024, 1, 10))
        assert before["person_no"].to_list() == ["1001", "1002", "2001"]
        assert after["person_no"].to_list() == ["1001", "1002"]
        assert after.schema == pl.Schema(snapshot.SNAPSHOT_SCHEMA)
        assert after.filter(pl.col("person_no") == "1002")["sex"].item() == "female"
        assert snapshot.residents(s, actor=CLERK, on=date(2020, 3, 31)).height == 0
        path = tmp_path / "residents.parquet"
        assert snapshot.write_residents_parquet(s, actor=CLERK, on=date(2024, 1, 9), path=path) == 3
        assert pl.read_parquet(path).equals(before)
        moves = snapshot.events_between(s, actor=CLERK, start=date(2020, 1, 1), end=date(2024, 12, 31))
        assert moves["event_type"].to_list() == ["move_in", "move_in", "move_in", "move_out"]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_feed_delivers_every_change_once_across_restarts(db: TestDatabase) -> None:
    _town(db)
    with db.app.tenant(A) as s:
        first = feed.changes(s, actor=TAX_SYSTEM, after=feed.position(s, actor=TAX_SYSTEM, consumer="tax"), limit=3)
        assert [c.event_no for c in first] == [1, 2, 3]
        feed.acknowledge(s, actor=TAX_SYSTEM, consumer="tax", to=first[-1].event_no, today=TODAY)
    with db.app.tenant(A) as s:  # the consumer restarts: it resumes after what it acknowledged
        move_in(s, CLERK, "3001", "9003", family_name="鈴木", family_name_kana="スズキ")
        rest = feed.changes(s, actor=TAX_SYSTEM, after=feed.position(s, actor=TAX_SYSTEM, consumer="tax"))
        assert [(c.event_no, c.label) for c in rest] == [(4, "転出"), (5, "転入")]
        assert rest[0].payload["destination"] == "大阪府大阪市北区"
        with pytest.raises(InputError, match="戻せません"):
            feed.acknowledge(s, actor=TAX_SYSTEM, consumer="tax", to=2, today=TODAY)
        with pytest.raises(InputError, match="まだ記録されていない"):
            feed.acknowledge(s, actor=TAX_SYSTEM, consumer="tax", to=6, today=TODAY)
        feed.acknowledge(s, actor=TAX_SYSTEM, consumer="tax", to=5, today=TODAY)
        assert feed.changes(s, actor=TAX_SYSTEM, after=5) == []
        assert feed.position(s, actor=TAX_SYSTEM, consumer="school") == 0
