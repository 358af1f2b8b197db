"""世帯分離, 世帯合併, 職権記載, 職権消除, 転出取消 and the checks on new records (基本4情報, 個人番号, 郵便番号, 外国人
住民), on SQLite and PostgreSQL; and ``person_version`` always equal to a fold of the events."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from kiban.core.errors import InputError
from kiban.core.identity.permissions import Role
from kiban.registry import service
from kiban.registry.events import HEAD, EventType, Status, fold
from kiban.registry.history import event_of
from kiban.registry.models import Person, PersonVersion, RegistryEvent
from kiban.registry.service import DuplicateSuspected
from kiban.registry.transfer import cancel_move_out

from conftest import TestDatabase
from residents import TODAY, A, move_in, staff

CLERK = staff("clerk1", Role.REGISTRY)
MY_NUMBER = "123456789018"


def _fields(e: InputError) -> list[str]:
    return [f.field for f in e.errors]


def _two_households(db: TestDatabase) -> None:
    """9001: 1001 (head) + 1002 (妻); 9002: 2001 (head), all at the same address."""
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="女", relationship="妻")
        move_in(s, CLERK, "2001", "9002", family_name="佐藤", family_name_kana="サトウ", birth_date=date(1950, 1, 1))


def _check_versions(db: TestDatabase) -> None:
    """The stored states by period equal a fold of every event on every date they change."""
    with db.app.tenant(A) as s:
        events = [event_of(r) for r in s.scalars(select(RegistryEvent))]
        rows = list(s.scalars(select(PersonVersion)))
    days = sorted({r.valid_from for r in rows} | {r.valid_to for r in rows if r.valid_to})
    for day in days:
        world = fold(events, as_of=day)
        stored = {r.person_no: r for r in rows if r.valid_from <= day and (r.valid_to is None or r.valid_to > day)}
        assert set(stored) == set(world.persons), day
        for person_no, state in world.persons.items():
            row = stored[person_no]
            assert (row.status, row.household_no, row.relationship) == (
                state.status.value,
                state.household_no,
                state.relationship,
            ), (day, person_no)
            assert state.address is not None
            assert row.address_key == state.address.town + state.address.banchi


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_split_then_merge_back(db: TestDatabase) -> None:
    _two_households(db)
    with db.app.tenant(A) as s:
        service.register_household_split(
            s, actor=CLERK, person_no="1002", new_household_no="9003", effective_date=date(2022, 1, 1), today=TODAY
        )
        split = service.person_state(s, actor=CLERK, person_no="1002")
        assert split is not None
        assert (split.household_no, split.relationship) == ("9003", HEAD)
        assert split.address_since == date(2020, 4, 1), "世帯分離 keeps 住所を定めた日"
        service.register_household_merge(
            s,
            actor=CLERK,
            household_no="9003",
            into_household_no="9002",
            effective_date=date(2023, 1, 1),
            relationships={"1002": "同居人"},
            today=TODAY,
        )
        members = service.household_members(s, actor=CLERK, household_no="9002")
        assert [(m.person_no, m.relationship) for m in members] == [("2001", HEAD), ("1002", "同居人")]
        before = service.household_members(s, actor=CLERK, household_no="9003", as_of=date(2022, 6, 1))
        assert [m.person_no for m in before] == ["1002"]
    _check_versions(db)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_merge_refusals(db: TestDatabase) -> None:
    _two_households(db)
    with db.app.tenant(A) as s:
        with pytest.raises(InputError) as missing:
            service.register_household_merge(
                s,
                actor=CLERK,
                household_no="9001",
                into_household_no="9002",
                effective_date=date(2023, 1, 1),
                relationships={"1001": "同居人"},
                today=TODAY,
            )
        assert "1002" in missing.value.errors[0].received
        service.register_move_within(
            s, actor=CLERK, person_no="2001", effective_date=date(2022, 1, 1), **_elsewhere(), today=TODAY
        )
        with pytest.raises(InputError, match="同じ住所"):
            service.register_household_merge(
                s,
                actor=CLERK,
                household_no="9001",
                into_household_no="9002",
                effective_date=date(2023, 1, 1),
                relationships={"1001": "同居人", "1002": "同居人"},
                today=TODAY,
            )


def _elsewhere() -> dict[str, str]:
    return {
        "postal_code": "1000005",
        "pref_name": "東京都",
        "city_name": "千代田区",
        "town": "丸の内二丁目",
        "banchi": "7",
    }


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_official_entry_and_removal(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        with pytest.raises(InputError) as no_reason:
            move_in(s, CLERK, "3001", "9301", official_reason="")
        assert "職権記載の理由" in _fields(no_reason.value)
        move_in(s, CLERK, "3001", "9301", official_reason="実態調査により居住を確認")
        move_in(s, CLERK, "3002", "9301", given_name="次郎", relationship="子")
    with db.app.tenant(A) as s:
        with pytest.raises(InputError) as head_left:
            service.register_official_removal(
                s, actor=CLERK, person_no="3001", effective_date=date(2024, 1, 1), reason="居住の事実なし", today=TODAY
            )
        assert "新しい世帯主" in _fields(head_left.value)
    with db.app.tenant(A) as s:
        service.register_official_removal(
            s,
            actor=CLERK,
            person_no="3001",
            effective_date=date(2024, 1, 1),
            reason="居住の事実なし",
            new_head_person_no="3002",
            today=TODAY,
        )
        state = service.person_state(s, actor=CLERK, person_no="3001")
        assert state is not None
        assert state.status is Status.REMOVED
        before = service.person_state(s, actor=CLERK, person_no="3001", as_of=date(2023, 12, 31))
        assert before is not None
        assert before.status is Status.RESIDENT
        types = [e.event_type for e in service.person_events(s, actor=CLERK, person_no="3001")]
        assert types == [EventType.OFFICIAL_ENTRY, EventType.OFFICIAL_REMOVAL]
        with pytest.raises(InputError, match="消除"):
            service.register_move_within(
                s, actor=CLERK, person_no="3001", effective_date=date(2024, 2, 1), **_elsewhere(), today=TODAY
            )
        move_in(s, CLERK, "3001", "9302", official_reason="居住を再確認", effective_date=date(2024, 3, 1))
        assert service.residents_on(s, actor=CLERK, on=date(2024, 3, 1)) == ["3001", "3002"]
    _check_versions(db)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_cancel_move_out(db: TestDatabase) -> None:
    _two_households(db)
    with db.app.tenant(A) as s:
        service.register_move_out(
            s,
            actor=CLERK,
            person_no="1001",
            effective_date=date(2024, 4, 1),
            destination="大阪府大阪市北区",
            new_head_person_no="1002",
            today=TODAY,
        )
        with pytest.raises(InputError) as head_changed:
            cancel_move_out(s, actor=CLERK, person_no="1001", effective_date=date(2024, 4, 5), today=TODAY)
        assert _fields(head_changed.value) == ["続柄"]
    with db.app.tenant(A) as s:
        cancel_move_out(
            s, actor=CLERK, person_no="1001", effective_date=date(2024, 4, 5), relationship="夫", today=TODAY
        )
        state = service.person_state(s, actor=CLERK, person_no="1001")
        assert state is not None
        assert (state.status, state.household_no, state.relationship) == (
            Status.RESIDENT,
            "9001",
            "夫",
        )
        with pytest.raises(InputError, match="転出が記録されている人"):
            cancel_move_out(s, actor=CLERK, person_no="1001", effective_date=date(2024, 4, 6), today=TODAY)
        assert service.residents_on(s, actor=CLERK, on=date(2024, 4, 2)) == ["1002", "2001"]
    _check_versions(db)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_same_four_items_are_held_not_linked(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
    with db.app.tenant(A) as s, pytest.raises(DuplicateSuspected) as held:
        move_in(s, CLERK, "1005", "9005", given_name="太郎", effective_date=date(2021, 1, 1))
    assert held.value.person_nos == ["1001"]
    assert "別人として記録する" in held.value.errors[0].fix
    with db.app.tenant(A) as s:
        assert s.get(Person, (A, "1005")) is None, "a held record writes nothing"
        move_in(s, CLERK, "1005", "9005", effective_date=date(2021, 1, 1), confirmed_distinct=True)
        move_in(s, CLERK, "1006", "9006", banchi="2-2", effective_date=date(2021, 1, 1))  # another address: not held


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_my_number_is_encrypted_and_unique(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        with pytest.raises(InputError) as bad:
            move_in(s, CLERK, "1001", "9001", my_number="123456789012")
        assert _fields(bad.value) == ["個人番号"]
    with db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001", my_number=MY_NUMBER)
        raw = s.execute(text("SELECT my_number FROM person")).scalar_one()
        assert MY_NUMBER not in raw
        assert raw.startswith("v1:")
        assert s.get(Person, (A, "1001")).my_number == MY_NUMBER  # type: ignore[union-attr]
        with pytest.raises(InputError, match="1001"):
            move_in(s, CLERK, "1002", "9002", given_name="次郎", my_number=MY_NUMBER)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_address_must_agree_with_japan_post(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        with pytest.raises(InputError) as town:
            move_in(s, CLERK, "1001", "9001", town="大手町")
        assert _fields(town.value) == ["町域"]
        assert "千代田" in town.value.errors[0].fix
        with pytest.raises(InputError) as city:
            move_in(s, CLERK, "1001", "9001", city_name="港区")
        assert _fields(city.value) == ["市区町村"]
        with pytest.raises(InputError) as unknown:
            move_in(s, CLERK, "1001", "9001", postal_code="999-9999")
        assert _fields(unknown.value) == ["郵便番号"]
        move_in(s, CLERK, "1001", "9001", postal_code="1000005", town="丸の内一丁目", banchi="1")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_foreign_residents_need_status_of_residence(db: TestDatabase) -> None:
    with db.app.tenant(A) as s:
        with pytest.raises(InputError) as missing:
            move_in(s, CLERK, "1001", "9001", nationality="VNM")
        assert set(_fields(missing.value)) == {"在留資格", "在留期間"}
        move_in(
            s,
            CLERK,
            "1001",
            "9001",
            family_name="NGUYEN",
            given_name="VAN AN",
            family_name_kana="グエン",
            given_name_kana="ヴァンアン",
            nationality="vnm",
            residence_status="技能実習",
            residence_until=date(2027, 3, 31),
        )
        state = service.person_state(s, actor=CLERK, person_no="1001")
        assert state is not None
        assert (state.nationality, state.residence_status, state.residence_until) == (
            "VNM",
            "技能実習",
            date(2027, 3, 31),
        )
        move_in(s, CLERK, "1002", "9002", nationality="KOR", residence_status="特別永住者", given_name="花子")
