"""転出 → 転入 between two municipalities on the platform, and 転出取消.

The municipality of departure A records the 転出 and issues a 転出証明書 (住民基本台帳法第24条, 施行令第23条) addressed
to the municipality of arrival B. B — and only B — can read it (row-level security lets the addressee read, never
write), and registers the 転入 (第22条) from it: the person is created in B with a link to A's certificate, and B's
``transfer_arrival`` row is A's 転入通知 (第9条第1項). A's record of the person stays closed on the 転出 date. Each
municipality otherwise sees only its own register. A certificate is used once; a 転出取消 voids it, and is refused
once it has been used."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identifiers import validate_lg_code
from kiban.core.identity.permissions import Principal
from kiban.core.jtext import FieldKind
from kiban.core.tenants.models import Tenant
from kiban.registry.access import PURPOSE, may_read, may_write
from kiban.registry.checks import Checks
from kiban.registry.events import EventType, Status, fold
from kiban.registry.history import closed_history
from kiban.registry.models import Person, RegistryEvent, TransferArrival, TransferCertificate
from kiban.registry.service import append_event, household_of, register_move_in


@dataclass(frozen=True)
class CertificateView:
    from_lg_code: str
    certificate_no: str
    to_lg_code: str
    planned_date: date
    issued_on: date
    particulars: dict[str, Any]
    cancelled_on: date | None
    arrived_on: date | None


def _error(label: str, received: str, fix: str) -> InputError:
    return InputError(FieldError(label, received, fix))


def _arrival(db_session: TenantSession, from_lg_code: str, certificate_no: str) -> TransferArrival | None:
    query = select(TransferArrival).where(
        TransferArrival.from_lg_code == from_lg_code, TransferArrival.certificate_no == certificate_no
    )
    return db_session.scalars(query.execution_options(kiban_all_tenants=True)).first()


def _view(db_session: TenantSession, row: TransferCertificate) -> CertificateView:
    arrival = _arrival(db_session, row.lg_code, row.certificate_no)
    return CertificateView(
        from_lg_code=row.lg_code,
        certificate_no=row.certificate_no,
        to_lg_code=row.to_lg_code,
        planned_date=row.planned_date,
        issued_on=row.issued_on,
        particulars=json.loads(row.particulars),
        cancelled_on=row.cancelled_on,
        arrived_on=arrival.arrived_on if arrival else None,
    )


def issue_certificate(
    db_session: TenantSession, *, actor: Principal, person_no: str, to_lg_code: str, today: date | None = None
) -> str:
    """Issue the 転出証明書 of the person's recorded 転出, addressed to municipality ``to_lg_code`` (which must use the
    platform). Returns the certificate number."""
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    person_no = checks.number(person_no, "宛名番号")
    to = checks.run(lambda: validate_lg_code(to_lg_code, field="転入先の団体コード"), "")
    checks.done()
    destination = db_session.get(Tenant, to)
    if destination is None or not destination.active or to == lg_code:
        raise _error(
            "転入先の団体コード",
            to,
            "Kibanを利用している他の市区町村の団体コードを指定してください（それ以外は紙で交付）。",
        )
    person = db_session.get(Person, (lg_code, person_no))
    if person is None:
        raise NotFound(f"宛名番号「{person_no}」の住民は記録されていません。")
    world = fold(closed_history(db_session, persons={person_no}, households=set()))
    state = world.persons.get(person_no)
    move_out = db_session.scalars(
        select(RegistryEvent)
        .where(RegistryEvent.person_no == person_no, RegistryEvent.event_type == EventType.MOVE_OUT.value)
        .order_by(RegistryEvent.event_no.desc())
    ).first()
    if state is None or state.status is not Status.MOVED_OUT or move_out is None:
        raise _error("宛名番号", person_no, "転出が記録されている人の宛名番号を指定してください（先に転出を記録）。")
    open_certificates = select(TransferCertificate).where(
        TransferCertificate.person_no == person_no,
        TransferCertificate.move_out_event_no == move_out.event_no,
        TransferCertificate.cancelled_on.is_(None),
    )
    if db_session.scalars(open_certificates).first() is not None:
        raise _error(
            "宛名番号", person_no, "この転出の転出証明書はすでに交付しています（再交付は先の証明書を無効にしてから）。"
        )
    household = world.households.get(state.household_no)
    head = world.persons.get(household.head) if household and household.head else None
    address = state.address
    particulars = {
        "person_no": person_no,
        "family_name": state.family_name,
        "given_name": state.given_name,
        "family_name_kana": state.family_name_kana,
        "given_name_kana": state.given_name_kana,
        "birth_date": state.birth_date.isoformat(),
        "sex": state.sex,
        "nationality": state.nationality,
        "residence_status": state.residence_status,
        "residence_until": state.residence_until.isoformat() if state.residence_until else None,
        "resident_code": person.resident_code,
        "relationship": state.relationship,
        "head_name": f"{head.family_name} {head.given_name}" if head else None,
        "address": address.to_json() if address else None,
        "destination": state.destination,
    }
    number = secrets.token_hex(8).upper()
    db_session.add(
        TransferCertificate(
            lg_code=lg_code,
            certificate_no=number,
            to_lg_code=to,
            person_no=person_no,
            move_out_event_no=move_out.event_no,
            planned_date=move_out.effective_date,
            issued_on=today,
            particulars=json.dumps(particulars, ensure_ascii=False, sort_keys=True),
            my_number=person.my_number,
        )
    )
    db_session.flush()
    record(
        db_session,
        actor=actor,
        action="registry.transfer.issue",
        purpose=PURPOSE,
        subject=person_no,
        detail={"certificate_no": number, "to_lg_code": to},
    )
    return number


def incoming(db_session: TenantSession, *, actor: Principal) -> list[CertificateView]:
    """転出証明書 addressed to this municipality that no 転入 has used and no 転出取消 has voided."""
    lg_code = may_read(db_session, actor)
    query = (
        select(TransferCertificate)
        .where(TransferCertificate.to_lg_code == lg_code, TransferCertificate.cancelled_on.is_(None))
        .order_by(TransferCertificate.issued_on, TransferCertificate.certificate_no)
        .execution_options(kiban_all_tenants=True)
    )
    views = [_view(db_session, row) for row in db_session.scalars(query)]
    return [v for v in views if v.arrived_on is None]


def certificate(
    db_session: TenantSession, *, actor: Principal, from_lg_code: str, certificate_no: str
) -> tuple[CertificateView, str | None]:
    """One certificate this municipality issued or is the addressee of, with its 個人番号 (None if not recorded).
    Reading it is audited in this municipality's chain."""
    lg_code = may_read(db_session, actor)
    query = (
        select(TransferCertificate)
        .where(
            TransferCertificate.lg_code == from_lg_code,
            TransferCertificate.certificate_no == certificate_no.strip().upper(),
        )
        .execution_options(kiban_all_tenants=True)
    )
    row = db_session.scalars(query).first()
    if row is None or lg_code not in (row.lg_code, row.to_lg_code):
        raise NotFound(f"転出証明書「{certificate_no}」は見つかりません。団体コードと証明書番号を確かめてください。")
    record(
        db_session,
        actor=actor,
        action="registry.transfer.read",
        purpose=PURPOSE,
        subject=row.certificate_no,
        detail={"from_lg_code": row.lg_code},
    )
    return _view(db_session, row), row.my_number


def register_transfer_in(
    db_session: TenantSession,
    *,
    actor: Principal,
    from_lg_code: str,
    certificate_no: str,
    person_no: str,
    household_no: str,
    relationship: str,
    postal_code: str,
    pref_name: str,
    city_name: str,
    town: str,
    banchi: str,
    effective_date: date,
    confirmed_distinct: bool = False,
    today: date | None = None,
) -> int:
    """転入 from another municipality on the platform with its 転出証明書: names, birth date, sex, 住民票コード,
    個人番号 and, for foreign residents, 在留資格 come from the certificate; the new address and household from the
    form. The 転入 may not precede the 転出. Returns the event number."""
    lg_code = may_write(db_session, actor)
    view, my_number = certificate(db_session, actor=actor, from_lg_code=from_lg_code, certificate_no=certificate_no)
    if view.to_lg_code != lg_code:
        raise NotFound(f"転出証明書「{certificate_no}」は見つかりません。団体コードと証明書番号を確かめてください。")
    if view.cancelled_on is not None:
        raise _error("証明書番号", certificate_no, "この転出証明書は転出取消により無効です。転出元に確認してください。")
    if view.arrived_on is not None:
        raise _error(
            "証明書番号", certificate_no, f"この転出証明書は{view.arrived_on.isoformat()}の転入に使用済みです。"
        )
    if effective_date < view.planned_date:
        raise _error(
            "異動日",
            effective_date.isoformat(),
            f"転出日（{view.planned_date.isoformat()}）以降の日付を入力してください。",
        )
    p = view.particulars
    residence_until = p.get("residence_until")
    event_no = register_move_in(
        db_session,
        actor=actor,
        person_no=person_no,
        household_no=household_no,
        family_name=str(p["family_name"]),
        given_name=str(p["given_name"]),
        family_name_kana=str(p["family_name_kana"]),
        given_name_kana=str(p["given_name_kana"]),
        birth_date=date.fromisoformat(str(p["birth_date"])),
        sex=str(p["sex"]),
        relationship=relationship,
        postal_code=postal_code,
        pref_name=pref_name,
        city_name=city_name,
        town=town,
        banchi=banchi,
        effective_date=effective_date,
        resident_code=p.get("resident_code"),
        my_number=my_number,
        nationality=str(p.get("nationality") or "JPN"),
        residence_status=p.get("residence_status"),
        residence_until=date.fromisoformat(residence_until) if residence_until else None,
        confirmed_distinct=confirmed_distinct,
        moved_from={"lg_code": view.from_lg_code, "certificate_no": view.certificate_no},
        today=today,
    )
    db_session.add(
        TransferArrival(
            lg_code=lg_code,
            from_lg_code=view.from_lg_code,
            certificate_no=view.certificate_no,
            person_no=person_no,
            event_no=event_no,
            arrived_on=effective_date,
        )
    )
    db_session.flush()
    return event_no


def arrivals_reported(db_session: TenantSession, *, actor: Principal) -> list[CertificateView]:
    """This municipality's certificates that a 転入 elsewhere has used (the 転入通知 received)."""
    may_read(db_session, actor)
    issued = db_session.scalars(select(TransferCertificate).order_by(TransferCertificate.issued_on))
    return [v for v in (_view(db_session, row) for row in issued) if v.arrived_on is not None]


def cancel_move_out(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    effective_date: date,
    relationship: str | None = None,
    today: date | None = None,
) -> int:
    """転出取消: a person whose 転出 was recorded did not leave after all; they are a resident again in the household
    and at the address they left (``relationship``: their 続柄 if the household's head changed meanwhile). Their open
    転出証明書 is voided; refused once a 転入 elsewhere has used it."""
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    person_no = checks.number(person_no, "宛名番号")
    rel = checks.text(relationship, FieldKind.NAME, "続柄", 20) if relationship else None
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    open_certificates = list(
        db_session.scalars(
            select(TransferCertificate).where(
                TransferCertificate.person_no == person_no, TransferCertificate.cancelled_on.is_(None)
            )
        )
    )
    for row in open_certificates:
        arrival = _arrival(db_session, lg_code, row.certificate_no)
        if arrival is not None:
            raise _error(
                "宛名番号",
                person_no,
                f"転出証明書 {row.certificate_no} により{arrival.arrived_on.isoformat()}に転入先で転入が"
                "記録されています。転出取消はできません。",
            )
    payload: dict[str, Any] = {"status": Status.RESIDENT.value}
    if rel:
        payload["relationship"] = rel
    event_no = append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.MOVE_OUT_CANCEL,
        person_no=person_no,
        household_no=household_of(db_session, person_no, effective_date),
        effective_date=effective_date,
        payload=payload,
        today=today,
    )
    for row in open_certificates:
        row.cancelled_on = today
    db_session.flush()
    return event_no
