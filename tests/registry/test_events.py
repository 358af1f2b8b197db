"""The register is a fold of append-only events: every 異動 type, the illegal sequences refused, as-of and
as-recorded (bitemporal) answers, tenant isolation and audit entries — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kiban.core.audit.service import entries
from kiban.core.db import TenantSession
from kiban.core.errors import InputError, NotFound, PermissionDenied
from kiban.core.identity.permissions import Principal, Role, permissions_of
from kiban.registry import service
from kiban.registry.events import EVENT_LABELS, Address, EventType, PersonState, Status, fold
from kiban.registry.history import event_of
from kiban.registry.models import RegistryEvent

from conftest import TestDatabase

A = "131016"
B = "011002"
TODAY = date(2026, 11, 1)


def _principal(user_id: str, role: Role, lg_code: str = A) -> Principal:
    return Principal(user_id, "職員", lg_code, lg_code, frozenset({role}), permissions_of(frozenset({role})))


CLERK = _principal("clerk1", Role.REGISTRY)
CLERK_B = _principal("clerkb", Role.REGISTRY, B)
READER = _principal("school1", Role.SCHOOL)
AUDITOR = _principal("audit1", Role.AUDITOR)


def _move_in(s: TenantSession, person_no: str, household_no: str, **overrides: Any) -> int:
    args: dict[str, Any] = {
        "person_no": person_no,
        "household_no": household_no,
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": date(1980, 5, 1),
        "sex": "male",
        "relationship": "世帯主",
        "postal_code": "100-0001",
        "pref_name": "東京都",
        "city_name": "千代田区",
        "town": "千代田",
        "banchi": "1-1",
        "effective_date": date(2020, 4, 1),
        "today": TODAY,
    }
    args.update(overrides)
    return service.register_move_in(s, actor=CLERK, **args)


def _family(db: TestDatabase) -> None:
    """Household 9001: head 1001 (since 2020-04-01), wife 1002 (same day), child 1003 born 2021-06-10."""
    with db.app.tenant(A) as s:
        _move_in(s, "1001", "9001")
        _move_in(s, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="女", relationship="妻")
        service.register_birth(
            s,
            actor=CLERK,
            person_no="1003",
            household_no="9001",
            family_name="山田",
            given_name="一郎",
            family_name_kana="やまだ",
            given_name_kana="いちろう",
            birth_date=date(2021, 6, 10),
            sex="male",
            today=TODAY,
        )


def _state(db: TestDatabase, person_no: str, **kw: Any) -> PersonState | None:
    with db.app.tenant(A) as s:
        return service.person_state(s, actor=CLERK, person_no=person_no, **kw)


def _event_count(db: TestDatabase, lg_code: str = A) -> int:
    with db.app.tenant(lg_code) as s:
        return int(s.scalar(select(func.count()).select_from(RegistryEvent)) or 0)


def _refused(db: TestDatabase, field: str, call: Any) -> InputError:
    """``call(session)`` is refused naming ``field``, and nothing is written."""
    before = _event_count(db)
    with pytest.raises(InputError) as caught, db.app.tenant(A) as s:
        call(s)
    assert field in [e.field for e in caught.value.errors], caught.value
    assert _event_count(db) == before
    return caught.value


def test_event_types_have_japanese_labels() -> None:
    assert [EVENT_LABELS[t] for t in EventType] == [
        "転入",
        "出生",
        "転居",
        "転出",
        "死亡",
        "世帯主変更",
        "氏名変更",
        "世帯分離",
        "世帯合併",
        "職権記載",
        "職権消除",
        "転出取消",
        "移行",
    ]
    assert EventType.MOVE_OUT.label == "転出"


def test_move_in_founds_a_household_and_normalizes_input(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        _move_in(s, "1001", "9001", family_name_kana="やまだ", given_name_kana="ﾀﾛｳ", postal_code="１００－０００１")
    state = _state(db, "1001")
    assert state is not None
    assert (state.family_name_kana, state.given_name_kana) == ("ヤマダ", "タロウ")
    assert state.status is Status.RESIDENT
    assert state.relationship == "世帯主"
    assert state.address == Address("1000001", "東京都", "千代田区", "千代田", "1-1")
    assert state.resident_since == date(2020, 4, 1)


def test_birth_joins_the_household_at_its_address(db: TestDatabase) -> None:
    _family(db)
    child = _state(db, "1003")
    assert child is not None
    assert (child.relationship, child.household_no, child.family_name_kana) == ("子", "9001", "ヤマダ")
    assert child.address is not None
    assert child.address.postal_code == "1000001"
    with db.app.tenant(A) as s:
        members = service.household_members(s, actor=CLERK, household_no="9001")
    assert [m.person_no for m in members] == ["1001", "1002", "1003"]


def test_birth_needs_an_inhabited_household(db: TestDatabase) -> None:
    def call(s: TenantSession) -> None:
        service.register_birth(
            s,
            actor=CLERK,
            person_no="1005",
            household_no="9999",
            family_name="山田",
            given_name="次郎",
            family_name_kana="ヤマダ",
            given_name_kana="ジロウ",
            birth_date=date(2025, 1, 1),
            sex="male",
            today=TODAY,
        )

    _refused(db, "世帯番号", call)


def test_move_within_moves_the_whole_household(db: TestDatabase) -> None:
    _family(db)
    with db.app.tenant(A) as s:
        service.register_move_within(
            s,
            actor=CLERK,
            person_no="1001",
            effective_date=date(2023, 3, 1),
            postal_code="1020072",
            pref_name="東京都",
            city_name="千代田区",
            town="飯田橋",
            banchi="２－３",
            today=TODAY,
        )
    for person_no in ("1001", "1002", "1003"):
        after = _state(db, person_no)
        before = _state(db, person_no, as_of=date(2023, 2, 28))
        assert after is not None
        assert after.address is not None
        assert after.address.town == "飯田橋"
        assert after.address.banchi == "2-3"
        assert before is not None
        assert before.address is not None
        assert before.address.town == "千代田"


def test_move_within_to_a_new_household_by_the_head_names_a_new_head(db: TestDatabase) -> None:
    _family(db)
    kwargs: dict[str, Any] = {
        "person_no": "1001",
        "effective_date": date(2024, 1, 10),
        "postal_code": "1020072",
        "pref_name": "東京都",
        "city_name": "千代田区",
        "town": "飯田橋",
        "banchi": "1",
        "new_household_no": "9002",
        "today": TODAY,
    }
    _refused(db, "新しい世帯主", lambda s: service.register_move_within(s, actor=CLERK, **kwargs))
    with db.app.tenant(A) as s:
        service.register_move_within(s, actor=CLERK, new_head_person_no="1002", **kwargs)
    moved, wife = _state(db, "1001"), _state(db, "1002")
    assert moved is not None
    assert (moved.household_no, moved.relationship) == ("9002", "世帯主")
    assert wife is not None
    assert (wife.household_no, wife.relationship) == ("9001", "世帯主")


def test_move_out_and_death(db: TestDatabase) -> None:
    _family(db)
    with db.app.tenant(A) as s:
        service.register_move_out(
            s,
            actor=CLERK,
            person_no="1003",
            effective_date=date(2025, 4, 1),
            destination="大阪府大阪市北区1-1",
            today=TODAY,
        )
        service.register_death(s, actor=CLERK, person_no="1002", effective_date=date(2025, 8, 15), today=TODAY)
    child, wife = _state(db, "1003"), _state(db, "1002")
    assert child is not None
    assert child.status is Status.MOVED_OUT
    assert child.left_on == date(2025, 4, 1)
    assert child.destination == "大阪府大阪市北区1-1"
    assert wife is not None
    assert wife.status is Status.DEAD
    with db.app.tenant(A) as s:
        assert service.residents_on(s, actor=CLERK, on=date(2025, 3, 31)) == ["1001", "1002", "1003"]
        assert service.residents_on(s, actor=CLERK, on=date(2025, 4, 1)) == ["1001", "1002"]
        assert service.residents_on(s, actor=CLERK, on=date(2025, 8, 15)) == ["1001"]
        assert service.residents_on(s, actor=CLERK, on=date(2020, 3, 31)) == []


def test_change_head_and_name_change(db: TestDatabase) -> None:
    _family(db)
    _refused(
        db,
        "続柄",
        lambda s: service.change_head(
            s, actor=CLERK, household_no="9001", new_head_person_no="1002", effective_date=date(2024, 1, 1), today=TODAY
        ),
    )
    with db.app.tenant(A) as s:
        service.change_head(
            s,
            actor=CLERK,
            household_no="9001",
            new_head_person_no="1002",
            relationships={"1001": "夫"},
            effective_date=date(2024, 1, 1),
            today=TODAY,
        )
        service.register_name_change(
            s,
            actor=CLERK,
            person_no="1002",
            family_name="佐藤",
            family_name_kana="さとう",
            effective_date=date(2024, 2, 1),
            today=TODAY,
        )
    wife, husband = _state(db, "1002"), _state(db, "1001")
    assert wife is not None
    assert (wife.relationship, wife.family_name, wife.family_name_kana) == (
        "世帯主",
        "佐藤",
        "サトウ",
    )
    assert husband is not None
    assert husband.relationship == "夫"
    old = _state(db, "1002", as_of=date(2024, 1, 31))
    assert old is not None
    assert (old.relationship, old.family_name) == ("世帯主", "山田")


def test_illegal_sequences_are_refused_and_change_nothing(db: TestDatabase) -> None:
    _family(db)
    with db.app.tenant(A) as s:
        service.register_death(s, actor=CLERK, person_no="1003", effective_date=date(2024, 1, 1), today=TODAY)
        service.register_move_out(
            s, actor=CLERK, person_no="1002", effective_date=date(2024, 2, 1), destination="大阪府大阪市", today=TODAY
        )
    address = {
        "postal_code": "1000002",
        "pref_name": "東京都",
        "city_name": "千代田区",
        "town": "皇居外苑",
        "banchi": "1",
    }
    error = _refused(
        db,
        "宛名番号",
        lambda s: service.register_move_within(
            s, actor=CLERK, person_no="1003", effective_date=date(2024, 3, 1), today=TODAY, **address
        ),
    )
    assert "死亡" in str(error)
    _refused(
        db,
        "宛名番号",
        lambda s: service.register_move_out(
            s, actor=CLERK, person_no="1002", effective_date=date(2024, 3, 1), destination="京都府", today=TODAY
        ),
    )
    _refused(
        db,
        "宛名番号",
        lambda s: service.register_name_change(
            s, actor=CLERK, person_no="1003", given_name="二郎", effective_date=date(2024, 3, 1), today=TODAY
        ),
    )
    _refused(
        db,
        "宛名番号",
        lambda s: _move_in(s, "1003", "9005", effective_date=date(2024, 5, 1), birth_date=date(2021, 6, 10)),
    )
    _refused(db, "宛名番号", lambda s: _move_in(s, "1001", "9005"))


def test_a_head_leaving_members_behind_must_name_a_remaining_member(db: TestDatabase) -> None:
    _family(db)
    death: dict[str, Any] = {"person_no": "1001", "effective_date": date(2025, 1, 1), "today": TODAY}
    _refused(db, "新しい世帯主", lambda s: service.register_death(s, actor=CLERK, **death))
    _refused(db, "新しい世帯主", lambda s: service.register_death(s, actor=CLERK, new_head_person_no="1001", **death))
    _refused(db, "新しい世帯主", lambda s: service.register_death(s, actor=CLERK, new_head_person_no="7777", **death))
    _refused(
        db,
        "新しい世帯主",
        lambda s: service.register_death(
            s, actor=CLERK, person_no="1003", effective_date=date(2025, 1, 1), new_head_person_no="1002", today=TODAY
        ),
    )
    with db.app.tenant(A) as s:
        service.register_death(s, actor=CLERK, new_head_person_no="1002", **death)
        members = service.household_members(s, actor=CLERK, household_no="9001")
    assert [(m.person_no, m.relationship) for m in members] == [("1002", "世帯主"), ("1003", "子")]


def test_dates_postal_codes_and_kana_are_checked(db: TestDatabase) -> None:
    error = _refused(db, "異動日", lambda s: _move_in(s, "1001", "9001", effective_date=date(2026, 11, 2)))
    assert "2026-11-02" in str(error)
    _refused(db, "異動日", lambda s: _move_in(s, "1001", "9001", effective_date=date(1979, 1, 1)))
    _refused(db, "郵便番号", lambda s: _move_in(s, "1001", "9001", postal_code="12-34"))
    error = _refused(db, "氏（フリガナ）", lambda s: _move_in(s, "1001", "9001", family_name_kana="山田", sex="?"))
    assert [e.field for e in error.errors] == ["氏（フリガナ）", "性別"]
    _refused(db, "続柄", lambda s: _move_in(s, "1001", "9001", relationship="子"))
    _family(db)
    _refused(
        db,
        "異動日",
        lambda s: service.register_death(
            s, actor=CLERK, person_no="1003", effective_date=date(2021, 6, 9), today=TODAY
        ),
    )


def test_as_of_answers_follow_the_effective_date(db: TestDatabase) -> None:
    _family(db)
    assert _state(db, "1003", as_of=date(2021, 6, 9)) is None
    born = _state(db, "1003", as_of=date(2021, 6, 10))
    assert born is not None
    assert born.status is Status.RESIDENT
    with db.app.tenant(A) as s:
        assert [
            m.person_no for m in service.household_members(s, actor=CLERK, household_no="9001", as_of=date(2021, 1, 1))
        ] == [
            "1001",
            "1002",
        ]
    with pytest.raises(NotFound), db.app.tenant(A) as s:
        service.person_state(s, actor=CLERK, person_no="4040")


def test_a_correction_changes_answers_only_as_recorded_from_its_date(db: TestDatabase) -> None:
    recorded = date(2020, 4, 2)
    with db.app.tenant(A) as s:
        event_no = _move_in(s, "1001", "9001", today=recorded)
    correction_day = date(2026, 10, 1)
    with db.app.tenant(A) as s:
        service.correct_event(
            s,
            actor=CLERK,
            event_no=event_no,
            effective_date=date(2020, 3, 20),
            address=Address("1000001", "東京都", "千代田区", "千代田", "1-2"),
            today=correction_day,
        )
    on = date(2020, 3, 25)
    assert _state(db, "1001", as_of=on, recorded_as_of=date(2026, 9, 30)) is None
    corrected = _state(db, "1001", as_of=on, recorded_as_of=correction_day)
    assert corrected is not None
    assert corrected.address is not None
    assert corrected.address.banchi == "1-2"
    latest = _state(db, "1001")
    assert latest is not None
    assert latest.resident_since == date(2020, 3, 20)
    before = _state(db, "1001", recorded_as_of=date(2026, 9, 30))
    assert before is not None
    assert before.address is not None
    assert before.address.banchi == "1-1"
    assert _event_count(db) == 2


def test_events_are_append_only_in_the_database(db: TestDatabase) -> None:
    _family(db)
    for statement in ("UPDATE registry_event SET event_type = 'death'", "DELETE FROM registry_event"):
        with db.owner.engine.begin() as conn:
            if db.backend == "postgresql":
                conn.execute(text("SELECT set_config('kiban.lg_code', :lg, true)"), {"lg": A})
            with pytest.raises(DBAPIError):
                conn.execute(text(statement))
            conn.rollback()
    assert _event_count(db) == 3


def test_tenants_are_isolated(db: TestDatabase) -> None:
    _family(db)
    with db.app.tenant(B) as s:
        assert service.residents_on(s, actor=CLERK_B, on=TODAY) == []
        with pytest.raises(NotFound):
            service.person_state(s, actor=CLERK_B, person_no="1001")
    assert _event_count(db, B) == 0
    with pytest.raises(PermissionDenied), db.app.tenant(B) as s:
        service.residents_on(s, actor=CLERK, on=TODAY)


def test_permissions_are_checked(db: TestDatabase) -> None:
    with pytest.raises(PermissionDenied), db.app.tenant(A) as s:
        service.register_death(s, actor=READER, person_no="1001", effective_date=date(2025, 1, 1), today=TODAY)
    with pytest.raises(PermissionDenied, match="住民記録担当"), db.app.tenant(A) as s:
        service.residents_on(s, actor=AUDITOR, on=TODAY)
    with pytest.raises(PermissionDenied, match="他の団体"), db.app.tenant(A) as s:
        service.residents_on(s, actor=CLERK_B, on=TODAY)
    with db.app.tenant(A) as s:
        denied = [(e.actor, e.action) for e in entries(s, lg_code=A) if e.outcome == "denied"]
        assert denied == [("clerkb", "registry.read"), ("audit1", "registry.read"), ("school1", "registry.write")]
        assert service.residents_on(s, actor=READER, on=TODAY) == []


def test_reads_and_writes_are_audited(db: TestDatabase) -> None:
    _family(db)
    _state(db, "1003")
    with db.app.tenant(A) as s:
        service.residents_on(s, actor=READER, on=TODAY)
        log = entries(s, lg_code=A)
    assert [(e.action, e.subject, e.purpose) for e in reversed(log)] == [
        ("registry.move_in", "1001", "住民記録事務"),
        ("registry.move_in", "1002", "住民記録事務"),
        ("registry.birth", "1003", "住民記録事務"),
        ("registry.person.read", "1003", "住民記録事務"),
        ("registry.residents.list", None, "住民記録事務"),
    ]
    assert log[0].actor == "school1"


def test_a_persons_closed_history_folds_like_the_whole_register(db: TestDatabase) -> None:
    """Reads and writes fold only the people and households an event concerns; the answers must equal a fold of
    the whole register, also for someone who moved between households and for unrelated households."""
    _family(db)
    with db.app.tenant(A) as s:
        _move_in(s, "2001", "9002", family_name="佐藤", family_name_kana="サトウ")
        service.register_move_within(
            s,
            actor=CLERK,
            person_no="1003",
            effective_date=date(2025, 4, 1),
            new_household_no="9003",
            postal_code="100-0002",
            pref_name="東京都",
            city_name="千代田区",
            town="皇居外苑",
            banchi="2-2",
            today=TODAY,
        )
        service.register_death(
            s, actor=CLERK, person_no="1001", effective_date=date(2026, 1, 5), new_head_person_no="1002", today=TODAY
        )
    with db.app.tenant(A) as s:
        everything = fold(event_of(r) for r in s.scalars(select(RegistryEvent)))
        for person_no in ("1001", "1002", "1003", "2001"):
            assert service.person_state(s, actor=CLERK, person_no=person_no) == everything.persons[person_no]
        for household_no in ("9001", "9002", "9003"):
            members = service.household_members(s, actor=CLERK, household_no=household_no)
            assert members == everything.members(household_no)
    assert [m.person_no for m in everything.members("9001")] == ["1002"]
    assert everything.persons["1003"].household_no == "9003"
