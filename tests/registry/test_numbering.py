"""宛名番号 and 世帯番号 left blank on the forms (転入, 出生, 世帯分離, 転居 to a new household) take the municipality's
next free number; typed ones are kept, and one already in use is refused in Japanese. On SQLite and PostgreSQL, and
on PostgreSQL with two transactions taking the same number at once."""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import InstrumentedAttribute

from kiban.core.errors import NotFound
from kiban.registry import forms, numbering, service
from kiban.registry.events import HEAD
from kiban.registry.models import Household, Person

from conftest import TestDatabase
from form_town import CLERK, households, marked, members, state_of
from residents import CHIYODA, A, B, move_in
from web_site import Site

ARRIVAL = {
    "person_no": "",
    "household_no": "",
    "family_name": "鈴木",
    "given_name": "一郎",
    "family_name_kana": "すずき",
    "given_name_kana": "いちろう",
    "birth_date": "平成2年2月3日",
    "sex": "男",
    "relationship": "世帯主",
    **CHIYODA,
    "banchi": "2-2",
    "effective_date": "令和8年10月15日",
}
"""A 転入 founding a household, numbers left blank."""


def test_blank_numbers_take_the_next_free_ones(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    form = client.get("/registry/move-in").text
    for name in ("person_no", "household_no"):
        tag = re.search(rf'<input id="{name}" [^>]*>', form)
        assert tag is not None
        assert " required" not in tag.group(0), f"{name} may be left blank"
    first = client.post("/registry/move-in", data=ARRIVAL, follow_redirects=False)
    assert first.headers["location"] == "/registry/persons/2002?saved=4", first.text
    second_person = {**ARRIVAL, "family_name": "田中", "family_name_kana": "タナカ"}
    second = client.post("/registry/move-in", data=second_person, follow_redirects=False)
    assert second.headers["location"] == "/registry/persons/2003?saved=5", second.text
    assert (state_of(site, "2002").household_no, state_of(site, "2003").household_no) == ("9003", "9004")
    joining = {**ARRIVAL, "household_no": "９００３", "given_name": "花子", "given_name_kana": "ハナコ"}
    joined = client.post("/registry/move-in", data={**joining, "sex": "女", "relationship": "妻"})
    assert joined.status_code == 200, joined.text
    assert members(site, "9003") == {"2002": HEAD, "2004": "妻"}, "a blank 宛名番号 joining a typed 世帯番号"


def test_typed_numbers_are_kept(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    typed = client.post(
        "/registry/move-in",
        data={**ARRIVAL, "person_no": "５００１", "household_no": "８００１"},
        follow_redirects=False,
    )
    assert typed.headers["location"] == "/registry/persons/5001?saved=4", typed.text
    assert state_of(site, "5001").household_no == "8001"
    blank = client.post("/registry/move-in", data={**ARRIVAL, "family_name": "田中", "family_name_kana": "タナカ"})
    assert blank.status_code == 200, blank.text
    assert members(site, "9003") == {"5002": HEAD}, "after the largest numbers, typed ones included"


def test_a_typed_number_in_use_is_refused(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    taken = client.post("/registry/move-in", data={**ARRIVAL, "person_no": "1001"})
    assert taken.status_code == 422
    assert (
        "宛名番号：「1001」は受け付けられません。この宛名番号はすでに住民として記録されています。"
        "別の番号を指定してください。" in taken.text
    )
    assert marked(taken.text, "person_no")
    assert 'value="すずき"' in taken.text, "what was typed comes back"
    split = client.post(
        "/registry/persons/1002/household-split", data={"effective_date": "令和8年10月1日", "new_household_no": "9002"}
    )
    assert split.status_code == 422
    assert "新しい世帯番号：「9002」は受け付けられません。住民のいない新しい世帯番号を指定してください。" in split.text
    assert marked(split.text, "new_household_no")
    assert members(site, "9001") == {"1001": HEAD, "1002": "妻"}
    with site.db.app.tenant(A) as s, pytest.raises(NotFound):
        service.household_members(s, actor=CLERK, household_no="9003")


def test_birth_split_and_move_within_number_new_records(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    birth_form = client.get("/registry/households/9001/birth").text
    assert re.search(r'<input id="person_no" name="person_no" value=""', birth_form)
    child = {
        "family_name": "山田",
        "given_name": "一郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "イチロウ",
        "birth_date": "令和8年5月5日",
        "sex": "男",
        "relationship": "子",
    }
    born = client.post("/registry/households/9001/birth", data=child, follow_redirects=False)
    assert born.headers["location"] == "/registry/persons/2002?saved=4", born.text
    split = client.post(
        "/registry/persons/1002/household-split", data={"effective_date": "令和8年10月1日"}, follow_redirects=False
    )
    assert split.status_code == 303, split.text
    assert (state_of(site, "1002").household_no, state_of(site, "1002").relationship) == ("9003", HEAD)
    new_address = {"effective_date": "令和8年10月2日", **CHIYODA, "banchi": "3-3"}
    alone = client.post(
        "/registry/persons/2001/move-within", data={**new_address, "new_household": "1"}, follow_redirects=False
    )
    assert alone.status_code == 303, alone.text
    assert members(site, "9004") == {"2001": HEAD}
    assert members(site, "9002") == {}
    whole = client.post("/registry/persons/1001/move-within", data=new_address, follow_redirects=False)
    assert whole.status_code == 303, whole.text
    assert members(site, "9001") == {"1001": HEAD, "2002": "子"}, "without a new household, the household moves"
    assert state_of(site, "2002").address == state_of(site, "1001").address


def test_numbers_compare_by_value_and_keep_their_width(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "999", "0000000041")
        move_in(s, CLERK, "1000", "0000000041", given_name="花子", given_name_kana="ハナコ", relationship="妻")
        assert numbering.next_free(s, Person.person_no) == "1001", "1000 is larger than 999"
        assert numbering.next_free(s, Household.household_no) == "0000000042"
    with db.app.tenant(B) as s:
        assert numbering.next_free(s, Person.person_no) == "1", "each municipality numbers its own"


@pytest.mark.parametrize("column", [Person.person_no, Household.household_no], ids=["person", "household"])
def test_the_largest_number_is_read_from_its_index(db: TestDatabase, column: InstrumentedAttribute[str]) -> None:
    """The query of ``next_free`` is one the database answers from the end of the number-order index, not by reading
    and sorting every row of the municipality."""
    with db.app.tenant(A) as s:
        dialect = s.get_bind().dialect
        # with the municipality's condition the tenant session adds when it runs the query
        query = numbering.largest_of(column).where(column.class_.lg_code == A)
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "postgresql":
            s.execute(text("SET LOCAL enable_seqscan = off"))  # a table this small is read whole otherwise
            plan = "\n".join(s.scalars(text(f"EXPLAIN {sql}")))
            assert "Sort" not in plan, plan
        else:
            plan = "\n".join(row[-1] for row in s.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "TEMP B-TREE" not in plan, plan
        assert f"ix_{column.class_.__tablename__}_number_order" in plan, plan


def _wait_for_a_lock(tdb: TestDatabase) -> None:
    """Until a transaction of the test's database waits on a lock (a row another one inserted, not yet committed)."""
    assert tdb.admin_url is not None
    deadline = time.monotonic() + 30
    with psycopg.connect(tdb.admin_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second 転入 never waited on the first one's numbers")


@pytest.mark.postgres
def test_concurrent_blank_numbers_retry_with_the_next_ones(pg_db: TestDatabase) -> None:
    """The second of two open transactions takes the same free numbers, waits on the first one's rows, and once
    the first commits, records again with the next numbers."""
    with pg_db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
    recorded: dict[str, str] = {}
    raised: list[BaseException] = []
    first_recorded = threading.Event()
    first_may_commit = threading.Event()

    def first() -> None:
        try:
            with pg_db.app.tenant(A) as s:
                recorded["first"] = forms.record_move_in(s, CLERK, ARRIVAL)[0]
                first_recorded.set()
                first_may_commit.wait(30)
        except BaseException as exc:  # surfaced to the test
            raised.append(exc)
        finally:
            first_recorded.set()

    def second() -> None:
        try:
            with pg_db.app.tenant(A) as s:
                arrival = {**ARRIVAL, "family_name": "田中", "family_name_kana": "タナカ"}
                recorded["second"] = forms.record_move_in(s, CLERK, arrival)[0]
        except BaseException as exc:  # surfaced to the test
            raised.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_recorded.wait(30)
    threads[1].start()
    try:
        _wait_for_a_lock(pg_db)
    finally:
        first_may_commit.set()
        for t in threads:
            t.join(60)
    assert not raised, raised
    assert recorded == {"first": "1002", "second": "1003"}
    with pg_db.app.tenant(A) as s:
        households = {p: service.person_state(s, actor=CLERK, person_no=p) for p in ("1002", "1003")}
    assert {p: state.household_no for p, state in households.items() if state} == {"1002": "9002", "1003": "9003"}
