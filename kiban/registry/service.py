"""Registering 異動 and reading the register (住民記録). Verbs: ``register_move_in``, ``register_birth``,
``register_move_within``, ``register_move_out``, ``register_death``, ``change_head``, ``register_name_change``,
``correct_event``, ``person_state``, ``household_members``, ``residents_on``.

Every function takes the tenant's session first and the acting ``Principal``; writes need ``REGISTRY_WRITE``, reads
``REGISTRY_READ``; each one writes an audit entry (purpose 「住民記録事務」, subject the 宛名番号 or 世帯番号). Input is
normalized (フリガナ become full-width katakana) and checked; on any problem an ``InputError`` names the field and
nothing is written. States are derived from the events (``kiban.registry.events.fold``), re-checked before every
write.

A write or a read about a person or household folds only the closed history of the people and households it
concerns (``_history``); ``residents_on`` folds the whole municipality (population-wide snapshots belong in a
columnar batch, still to come). Two concurrent writes may race for the same event number (one of them then fails
on the primary key and rolls back).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, or_, select

from kiban.core.audit.service import authorize, record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identifiers import validate_postal_code, validate_resident_code
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.jtext import FieldKind, normalize
from kiban.registry.events import HEAD, Address, Event, EventType, PersonState, Status, fold
from kiban.registry.models import Household, Person, RegistryEvent

PURPOSE = "住民記録事務"

SEXES = {"male": "male", "female": "female", "男": "male", "女": "female", "男性": "male", "女性": "female"}
T = TypeVar("T")


class _Checks:
    """Collects every field problem so one ``InputError`` names them all."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def run(self, check: Callable[[], T], default: T) -> T:
        try:
            return check()
        except InputError as e:
            self.errors.extend(e.errors)
            return default

    def add(self, label: str, received: str, fix: str) -> None:
        self.errors.append(FieldError(label, received, fix))

    def done(self) -> None:
        if self.errors:
            raise InputError(*self.errors)

    def number(self, value: str, label: str) -> str:
        result = self.run(lambda: normalize(value, FieldKind.DIGITS, field=label), "")
        if len(result) > 20:
            self.add(label, value, "20桁以内の数字で入力してください。")
        return result

    def text(self, value: str, kind: FieldKind, label: str, max_length: int) -> str:
        result = self.run(lambda: normalize(value, kind, field=label), "")
        if len(result) > max_length:
            self.add(label, value, f"{max_length}文字以内で入力してください。")
        return result

    def date_not_future(self, value: date, label: str, today: date) -> date:
        if value > today:
            self.add(label, value.isoformat(), f"今日（{today.isoformat()}）以前の日付を入力してください。")
        return value

    def address(self, postal_code: str, pref_name: str, city_name: str, town: str, banchi: str) -> Address:
        return Address(
            postal_code=self.run(lambda: validate_postal_code(postal_code), ""),
            pref_name=self.text(pref_name, FieldKind.ADDRESS, "都道府県", 8),
            city_name=self.text(city_name, FieldKind.ADDRESS, "市区町村", 40),
            town=self.text(town, FieldKind.ADDRESS, "町域", 100),
            banchi=self.text(banchi, FieldKind.ADDRESS, "番地", 100),
        )


def _may_write(db_session: TenantSession, actor: Principal) -> str:
    return authorize(
        db_session, actor=actor, permission=Permission.REGISTRY_WRITE, action="registry.write", purpose=PURPOSE
    )


def _may_read(db_session: TenantSession, actor: Principal) -> str:
    return authorize(
        db_session, actor=actor, permission=Permission.REGISTRY_READ, action="registry.read", purpose=PURPOSE
    )


def _event(row: RegistryEvent) -> Event:
    return Event(
        event_no=row.event_no,
        event_type=EventType(row.event_type),
        person_no=row.person_no,
        household_no=row.household_no,
        effective_date=row.effective_date,
        recorded_at=row.recorded_at,
        payload=json.loads(row.payload),
        corrects_event_no=row.corrects_event_no,
    )


def _events(db_session: TenantSession) -> list[Event]:
    """The tenant's whole history (population-wide reads only)."""
    return [_event(r) for r in db_session.scalars(select(RegistryEvent).order_by(RegistryEvent.event_no))]


def _history(db_session: TenantSession, *, persons: set[str], households: set[str]) -> list[Event]:
    """Every event of the given persons and households and, transitively, of every person and household they
    share an event with. The rules only relate a person to their households' members, so this closed set folds to
    the same states for them as the whole history would, at the cost of a few indexed queries instead of the
    whole municipality."""
    persons, households = {p for p in persons if p}, {h for h in households if h}
    found: dict[int, Event] = {}
    while True:
        query = select(RegistryEvent).where(
            or_(RegistryEvent.person_no.in_(persons), RegistryEvent.household_no.in_(households))
        )
        new = [_event(r) for r in db_session.scalars(query) if r.event_no not in found]
        if not new:
            return sorted(found.values(), key=lambda e: e.event_no)
        found.update((e.event_no, e) for e in new)
        persons |= {e.person_no for e in new}
        households |= {e.household_no for e in new}


def _next_event_no(db_session: TenantSession) -> int:
    return int(db_session.scalar(select(func.coalesce(func.max(RegistryEvent.event_no), 0))) or 0) + 1


def _append(
    db_session: TenantSession,
    *,
    actor: Principal,
    lg_code: str,
    event_type: EventType,
    person_no: str,
    household_no: str,
    effective_date: date,
    payload: dict[str, Any],
    today: date,
    person: Person | None = None,
    corrects_event_no: int | None = None,
) -> int:
    """Check the history of everyone the new event concerns, with the event, then write it (with a new person /
    household row if needed)."""
    related = {person_no, str(payload.get("new_head_person_no") or ""), *payload.get("relationships", {})}
    events = _history(
        db_session, persons=related, households={household_no, str(payload.get("new_household_no") or "")}
    )
    event_no = _next_event_no(db_session)
    candidate = Event(event_no, event_type, person_no, household_no, effective_date, today, payload, corrects_event_no)
    known = db_session.get(Person, (lg_code, person_no))
    if known is not None and effective_date < known.birth_date:
        raise InputError(
            FieldError(
                "異動日",
                effective_date.isoformat(),
                f"生年月日（{known.birth_date.isoformat()}）以降の日付を入力してください。",
            )
        )
    fold([*events, candidate], strict=True)
    if person is not None and known is None:
        db_session.add(person)
    for number in {household_no, str(payload.get("new_household_no") or household_no)}:
        if db_session.get(Household, (lg_code, number)) is None:
            db_session.add(Household(lg_code=lg_code, household_no=number, created=today))
    db_session.flush()
    db_session.add(
        RegistryEvent(
            lg_code=lg_code,
            event_no=event_no,
            event_type=event_type.value,
            person_no=person_no,
            household_no=household_no,
            effective_date=effective_date,
            recorded_at=today,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            corrects_event_no=corrects_event_no,
        )
    )
    db_session.flush()
    detail = {"event_no": event_no, "event_type": event_type.value, "effective_date": effective_date.isoformat()}
    if corrects_event_no is not None:
        detail["corrects_event_no"] = corrects_event_no
    record(
        db_session,
        actor=actor,
        action=f"registry.{event_type.value}",
        purpose=PURPOSE,
        subject=person_no,
        detail=detail,
    )
    return event_no


def _household_of(db_session: TenantSession, person_no: str, on: date) -> str:
    """The household the person belongs to on ``on`` ("" when unknown: the rules then refuse the event)."""
    state = fold(_history(db_session, persons={person_no}, households=set()), as_of=on).persons.get(person_no)
    return state.household_no if state else ""


NAME_FIELDS = (
    ("family_name", FieldKind.NAME, "氏", 100),
    ("given_name", FieldKind.NAME, "名", 100),
    ("family_name_kana", FieldKind.KANA, "氏（フリガナ）", 200),
    ("given_name_kana", FieldKind.KANA, "名（フリガナ）", 200),
)
"""Name items (key, width rule, label, maximum length): kana become full-width katakana, names keep what was typed."""


def _names(checks: _Checks, given: Mapping[str, str | None]) -> dict[str, str]:
    """The name items given (None: not given), normalized and checked."""
    return {
        key: checks.text(value, kind, label, length)
        for key, kind, label, length in NAME_FIELDS
        if (value := given.get(key)) is not None
    }


def _new_person_fields(
    checks: _Checks, names: Mapping[str, str], *, birth_date: date, sex: str, today: date
) -> dict[str, str]:
    fields = {
        **_names(checks, names),
        "birth_date": checks.date_not_future(birth_date, "生年月日", today).isoformat(),
        "sex": SEXES.get(sex.strip(), ""),
    }
    if not fields["sex"]:
        checks.add("性別", sex, "「男」または「女」を選んでください。")
    return fields


def _person_row(lg_code: str, person_no: str, fields: dict[str, str], resident_code: str | None) -> Person:
    return Person(
        lg_code=lg_code,
        person_no=person_no,
        resident_code=resident_code,
        family_name=fields["family_name"],
        given_name=fields["given_name"],
        family_name_kana=fields["family_name_kana"],
        given_name_kana=fields["given_name_kana"],
        birth_date=date.fromisoformat(fields["birth_date"]),
        sex=fields["sex"],
    )


# --- writes ---------------------------------------------------------------------------------------------------------


def register_move_in(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    household_no: str,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    birth_date: date,
    sex: str,
    relationship: str,
    postal_code: str,
    pref_name: str,
    city_name: str,
    town: str,
    banchi: str,
    effective_date: date,
    resident_code: str | None = None,
    today: date | None = None,
) -> int:
    """転入: a person arrives, founding a household (続柄 「世帯主」) or joining one at its address. Returns the
    event number."""
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    checks = _Checks()
    person_no = checks.number(person_no, "宛名番号")
    household_no = checks.number(household_no, "世帯番号")
    names = {
        "family_name": family_name,
        "given_name": given_name,
        "family_name_kana": family_name_kana,
        "given_name_kana": given_name_kana,
    }
    fields = _new_person_fields(checks, names, birth_date=birth_date, sex=sex, today=today)
    code = checks.run(lambda: validate_resident_code(resident_code), None) if resident_code else None
    address = checks.address(postal_code, pref_name, city_name, town, banchi)
    rel = checks.text(relationship, FieldKind.NAME, "続柄", 20)
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    payload: dict[str, Any] = {
        **fields,
        "relationship": rel,
        "address": address.to_json(),
        "status": Status.RESIDENT.value,
    }
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.MOVE_IN,
        person_no=person_no,
        household_no=household_no,
        effective_date=effective_date,
        payload=payload,
        today=today,
        person=_person_row(lg_code, person_no, fields, code),
    )


def register_birth(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    household_no: str,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    birth_date: date,
    sex: str,
    relationship: str = "子",
    resident_code: str | None = None,
    today: date | None = None,
) -> int:
    """出生: a child is recorded in an existing household, on its birth date, at the household's address."""
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    checks = _Checks()
    person_no = checks.number(person_no, "宛名番号")
    household_no = checks.number(household_no, "世帯番号")
    names = {
        "family_name": family_name,
        "given_name": given_name,
        "family_name_kana": family_name_kana,
        "given_name_kana": given_name_kana,
    }
    fields = _new_person_fields(checks, names, birth_date=birth_date, sex=sex, today=today)
    code = checks.run(lambda: validate_resident_code(resident_code), None) if resident_code else None
    rel = checks.text(relationship, FieldKind.NAME, "続柄", 20)
    if rel == HEAD:
        checks.add("続柄", rel, "出生した子は世帯主にできません。世帯主との続柄を入力してください。")
    checks.done()
    payload: dict[str, Any] = {**fields, "relationship": rel, "status": Status.RESIDENT.value}
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.BIRTH,
        person_no=person_no,
        household_no=household_no,
        effective_date=birth_date,
        payload=payload,
        today=today,
        person=_person_row(lg_code, person_no, fields, code),
    )


def register_move_within(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    effective_date: date,
    postal_code: str,
    pref_name: str,
    city_name: str,
    town: str,
    banchi: str,
    new_household_no: str | None = None,
    new_head_person_no: str | None = None,
    today: date | None = None,
) -> int:
    """転居: without ``new_household_no`` the person's whole household moves to the new address; with it the person
    alone moves and heads that new household (a head leaving members behind names the new head)."""
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    checks = _Checks()
    person_no = checks.number(person_no, "宛名番号")
    address = checks.address(postal_code, pref_name, city_name, town, banchi)
    target = checks.number(new_household_no, "新しい世帯番号") if new_household_no else None
    new_head = checks.number(new_head_person_no, "新しい世帯主") if new_head_person_no else None
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    payload: dict[str, Any] = {"address": address.to_json(), "status": Status.RESIDENT.value}
    if target is not None:
        payload["new_household_no"] = target
    if new_head is not None:
        payload["new_head_person_no"] = new_head
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.MOVE_WITHIN,
        person_no=person_no,
        household_no=target or _household_of(db_session, person_no, effective_date),
        effective_date=effective_date,
        payload=payload,
        today=today,
    )


def _leave(
    db_session: TenantSession,
    *,
    actor: Principal,
    event_type: EventType,
    person_no: str,
    effective_date: date,
    new_head_person_no: str | None,
    today: date | None,
    extra: dict[str, Any],
) -> int:
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    checks = _Checks()
    person_no = checks.number(person_no, "宛名番号")
    new_head = checks.number(new_head_person_no, "新しい世帯主") if new_head_person_no else None
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    status = Status.DEAD if event_type is EventType.DEATH else Status.MOVED_OUT
    payload: dict[str, Any] = {**extra, "status": status.value}
    if new_head is not None:
        payload["new_head_person_no"] = new_head
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=event_type,
        person_no=person_no,
        household_no=_household_of(db_session, person_no, effective_date),
        effective_date=effective_date,
        payload=payload,
        today=today,
    )


def register_move_out(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    effective_date: date,
    destination: str,
    new_head_person_no: str | None = None,
    today: date | None = None,
) -> int:
    """転出: the person leaves the municipality for ``destination`` (転出先住所)."""
    checks = _Checks()
    dest = checks.text(destination, FieldKind.ADDRESS, "転出先", 200)
    checks.done()
    return _leave(
        db_session,
        actor=actor,
        event_type=EventType.MOVE_OUT,
        person_no=person_no,
        effective_date=effective_date,
        new_head_person_no=new_head_person_no,
        today=today,
        extra={"destination": dest},
    )


def register_death(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    effective_date: date,
    new_head_person_no: str | None = None,
    today: date | None = None,
) -> int:
    """死亡: the person is removed (消除) on the date of death."""
    return _leave(
        db_session,
        actor=actor,
        event_type=EventType.DEATH,
        person_no=person_no,
        effective_date=effective_date,
        new_head_person_no=new_head_person_no,
        today=today,
        extra={},
    )


def change_head(
    db_session: TenantSession,
    *,
    actor: Principal,
    household_no: str,
    new_head_person_no: str,
    effective_date: date,
    relationships: Mapping[str, str] | None = None,
    today: date | None = None,
) -> int:
    """世帯主変更: ``new_head_person_no`` becomes 世帯主; ``relationships`` gives other members' new 続柄 (required
    for the former head)."""
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    checks = _Checks()
    household_no = checks.number(household_no, "世帯番号")
    new_head = checks.number(new_head_person_no, "新しい世帯主")
    rels = {
        checks.number(k, "宛名番号"): checks.text(v, FieldKind.NAME, "続柄", 20)
        for k, v in (relationships or {}).items()
    }
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.CHANGE_HEAD,
        person_no=new_head,
        household_no=household_no,
        effective_date=effective_date,
        payload={"relationships": rels},
        today=today,
    )


def register_name_change(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    effective_date: date,
    family_name: str | None = None,
    given_name: str | None = None,
    family_name_kana: str | None = None,
    given_name_kana: str | None = None,
    today: date | None = None,
) -> int:
    """氏名変更: the names (and their フリガナ) given replace the current ones."""
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    checks = _Checks()
    person_no = checks.number(person_no, "宛名番号")
    payload: dict[str, Any] = _names(
        checks,
        {
            "family_name": family_name,
            "given_name": given_name,
            "family_name_kana": family_name_kana,
            "given_name_kana": given_name_kana,
        },
    )
    if not payload:
        checks.add("氏名", "", "変更後の氏・名またはフリガナを入力してください。")
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.NAME_CHANGE,
        person_no=person_no,
        household_no=_household_of(db_session, person_no, effective_date),
        effective_date=effective_date,
        payload=payload,
        today=today,
    )


def correct_event(
    db_session: TenantSession,
    *,
    actor: Principal,
    event_no: int,
    effective_date: date | None = None,
    address: Address | None = None,
    today: date | None = None,
) -> int:
    """誤記修正: record a corrected version of event ``event_no`` (its 異動日 and/or its address). The original stays;
    the correction replaces it in every answer for ``recorded_as_of`` on or after today."""
    lg_code = _may_write(db_session, actor)
    today = today or date.today()
    row = db_session.get(RegistryEvent, (lg_code, event_no))
    checks = _Checks()
    if row is None:
        checks.add("異動番号", str(event_no), "記録されている異動の番号を指定してください。")
        checks.done()
    assert row is not None
    root = row.corrects_event_no or row.event_no
    versions = select(RegistryEvent).where(or_(RegistryEvent.event_no == root, RegistryEvent.corrects_event_no == root))
    current = _event(db_session.scalars(versions.order_by(RegistryEvent.event_no.desc()).limit(1)).one())
    payload = dict(current.payload)
    if address is not None:
        if "address" not in payload:
            checks.add("住所", "", "この異動には住所がありません。空欄にしてください。")
        fixed = checks.address(address.postal_code, address.pref_name, address.city_name, address.town, address.banchi)
        payload["address"] = fixed.to_json()
    if effective_date is not None:
        checks.date_not_future(effective_date, "異動日", today)
    if effective_date is None and address is None:
        checks.add("修正内容", "", "修正する異動日または住所を入力してください。")
    checks.done()
    new_date = effective_date or current.effective_date
    if current.event_type is EventType.BIRTH and new_date != current.effective_date:
        payload["birth_date"] = new_date.isoformat()
    return _append(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=current.event_type,
        person_no=current.person_no,
        household_no=current.household_no,
        effective_date=new_date,
        payload=payload,
        today=today,
        corrects_event_no=root,
    )


# --- reads ----------------------------------------------------------------------------------------------------------


def person_state(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    as_of: date | None = None,
    recorded_as_of: date | None = None,
) -> PersonState | None:
    """The person's state on 異動日 ``as_of`` (latest when None) as recorded by ``recorded_as_of`` (everything when
    None); None if the person was not yet recorded then. ``NotFound`` if the 宛名番号 is unknown in this tenant."""
    lg_code = _may_read(db_session, actor)
    if db_session.get(Person, (lg_code, person_no)) is None:
        raise NotFound(f"宛名番号「{person_no}」の住民は記録されていません。")
    history = _history(db_session, persons={person_no}, households=set())
    state = fold(history, as_of=as_of, recorded_as_of=recorded_as_of).persons.get(person_no)
    detail: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None}
    if recorded_as_of is not None:
        detail["recorded_as_of"] = recorded_as_of.isoformat()
    record(db_session, actor=actor, action="registry.person.read", purpose=PURPOSE, subject=person_no, detail=detail)
    return state


def household_members(
    db_session: TenantSession, *, actor: Principal, household_no: str, as_of: date | None = None
) -> list[PersonState]:
    """Residents of the household on ``as_of`` (latest when None), head first."""
    lg_code = _may_read(db_session, actor)
    if db_session.get(Household, (lg_code, household_no)) is None:
        raise NotFound(f"世帯番号「{household_no}」の世帯は記録されていません。")
    history = _history(db_session, persons=set(), households={household_no})
    members = fold(history, as_of=as_of).members(household_no)
    detail = {"as_of": as_of.isoformat() if as_of else None, "members": len(members)}
    record(
        db_session, actor=actor, action="registry.household.read", purpose=PURPOSE, subject=household_no, detail=detail
    )
    return members


def residents_on(db_session: TenantSession, *, actor: Principal, on: date) -> list[str]:
    """宛名番号 of everyone living in the municipality on ``on``, sorted."""
    _may_read(db_session, actor)
    world = fold(_events(db_session), as_of=on)
    found = sorted(p.person_no for p in world.persons.values() if p.status is Status.RESIDENT)
    record(
        db_session,
        actor=actor,
        action="registry.residents.list",
        purpose=PURPOSE,
        detail={"on": on.isoformat(), "count": len(found)},
    )
    return found
