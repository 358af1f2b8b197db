"""転出 → 転入 between two municipalities on the platform: the certificate, its one use, 転出取消, and each side's
isolation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kiban.core.errors import InputError, NotFound
from kiban.core.identity.permissions import Role
from kiban.core.tenants import service as tenants
from kiban.registry import service, transfer
from kiban.registry.events import Status
from kiban.registry.models import Person, PersonVersion, TransferCertificate
from kiban.registry.search import search

from conftest import TestDatabase
from residents import SAPPORO, TODAY, A, B, move_in, staff

CLERK_A = staff("clerk-a", Role.REGISTRY, A)
CLERK_B = staff("clerk-b", Role.REGISTRY, B)
OTHER = "271004"  # 大阪市
CLERK_C = staff("clerk-c", Role.REGISTRY, OTHER)
MY_NUMBER = "123456789018"
OUT = date(2024, 3, 31)


def _departure(db: TestDatabase) -> str:
    with db.app.tenant(None) as s:
        for code in (A, B, OTHER):
            tenants.activate(db_session=s, lg_code=code)
    with db.app.tenant(A) as s:
        move_in(s, CLERK_A, "1001", "9001", my_number=MY_NUMBER, resident_code="12345678903")
        service.register_move_out(
            s, actor=CLERK_A, person_no="1001", effective_date=OUT, destination="北海道札幌市中央区", today=TODAY
        )
        return transfer.issue_certificate(s, actor=CLERK_A, person_no="1001", to_lg_code=B, today=TODAY)


def _transfer_in(s: object, number: str, **overrides: object) -> int:
    args: dict[str, object] = {
        "from_lg_code": A,
        "certificate_no": number,
        "person_no": "5001",
        "household_no": "8001",
        "relationship": "世帯主",
        **SAPPORO,
        "effective_date": date(2024, 4, 2),
        "today": TODAY,
    }
    args.update(overrides)
    return transfer.register_transfer_in(s, actor=CLERK_B, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_move_out_certificate_move_in(db: TestDatabase) -> None:
    number = _departure(db)
    with db.app.tenant(B) as s:
        assert [c.certificate_no for c in transfer.incoming(s, actor=CLERK_B)] == [number]
        with pytest.raises(InputError, match="転出日"):
            _transfer_in(s, number, effective_date=date(2024, 3, 30))
    with db.app.tenant(B) as s:
        _transfer_in(s, number)
        arrived = service.person_state(s, actor=CLERK_B, person_no="5001")
        assert arrived is not None
        assert (arrived.family_name, arrived.given_name, arrived.birth_date) == ("山田", "太郎", date(1980, 5, 1))
        assert arrived.address is not None
        assert arrived.address.city_name == "札幌市中央区"
        person = s.get(Person, (B, "5001"))
        assert person is not None
        assert (person.my_number, person.resident_code) == (MY_NUMBER, "12345678903")
        assert [h.person_no for h in search(s, actor=CLERK_B, my_number=MY_NUMBER)] == ["5001"]
        assert transfer.incoming(s, actor=CLERK_B) == []
        with pytest.raises(InputError, match="使用済み"):
            _transfer_in(s, number, person_no="5002", household_no="8002")
    with db.app.tenant(A) as s:
        left = service.person_state(s, actor=CLERK_A, person_no="1001")
        assert left is not None
        assert (left.status, left.left_on) == (Status.MOVED_OUT, OUT)
        assert [v.arrived_on for v in transfer.arrivals_reported(s, actor=CLERK_A)] == [date(2024, 4, 2)]
        with pytest.raises(InputError, match="転出取消はできません"):
            transfer.cancel_move_out(s, actor=CLERK_A, person_no="1001", effective_date=date(2024, 4, 3), today=TODAY)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_each_side_sees_only_its_own_register(db: TestDatabase) -> None:
    number = _departure(db)
    with db.app.tenant(B) as s:
        _transfer_in(s, number)
        assert s.get(Person, (A, "1001")) is None
        assert {r.lg_code for r in s.scalars(select(PersonVersion))} == {B}
        with pytest.raises(NotFound):
            service.person_state(s, actor=CLERK_B, person_no="1001")
    with db.app.tenant(A) as s:
        assert s.get(Person, (B, "5001")) is None
        assert search(s, actor=CLERK_A, kana="ヤマダ", include_departed=True)[0].person_no == "1001"
    with db.app.tenant(OTHER) as s:
        assert transfer.incoming(s, actor=CLERK_C) == []
        with pytest.raises(NotFound):
            transfer.certificate(s, actor=CLERK_C, from_lg_code=A, certificate_no=number)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_cancelled_move_out_voids_the_certificate(db: TestDatabase) -> None:
    number = _departure(db)
    with db.app.tenant(A) as s:
        with pytest.raises(InputError, match="すでに交付"):
            transfer.issue_certificate(s, actor=CLERK_A, person_no="1001", to_lg_code=B, today=TODAY)
        transfer.cancel_move_out(s, actor=CLERK_A, person_no="1001", effective_date=date(2024, 4, 1), today=TODAY)
        assert s.scalars(select(TransferCertificate)).one().cancelled_on == TODAY
        assert service.residents_on(s, actor=CLERK_A, on=date(2024, 4, 1)) == ["1001"]
    with db.app.tenant(B) as s:
        assert transfer.incoming(s, actor=CLERK_B) == []
        with pytest.raises(InputError, match="無効"):
            _transfer_in(s, number)


def test_row_level_security_lets_the_addressee_read_only(pg_db: TestDatabase) -> None:
    number = _departure(pg_db)
    with pg_db.app.tenant(B) as s:
        row = s.scalars(select(TransferCertificate).execution_options(kiban_all_tenants=True)).one()
        assert row.certificate_no == number
    with pg_db.app.tenant(OTHER) as s:
        assert s.scalars(select(TransferCertificate).execution_options(kiban_all_tenants=True)).all() == []
    with pg_db.app.tenant(B) as s:
        changed = s.execute(text("UPDATE transfer_certificate SET cancelled_on = CURRENT_DATE"))
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        with pytest.raises(DBAPIError, match="row-level security"):
            s.execute(
                text(
                    "INSERT INTO transfer_certificate (lg_code, certificate_no, to_lg_code, person_no, "
                    "move_out_event_no, planned_date, issued_on, particulars) "
                    "VALUES (:a, 'FORGED', :b, '1', 1, CURRENT_DATE, CURRENT_DATE, '{}')"
                ),
                {"a": A, "b": B},
            )
