"""Registering 異動 and reading one person's or household's record (住民記録). Verbs: ``register_move_in`` (also
職権記載), ``register_birth``, ``register_move_within``, ``register_household_split``, ``register_household_merge``,
``register_move_out``, ``register_death``, ``register_official_removal``, ``change_head``, ``register_name_change``,
``correct_event``, ``person_state``, ``household_members``, ``residents_on`` (転出取消 and the 転出証明書 are in
``kiban.registry.transfer``).

Every function takes the tenant's session first and the acting ``Principal``; writes need ``REGISTRY_WRITE``, reads
``REGISTRY_READ``; each one writes an audit entry (purpose 「住民記録事務」, subject the 宛名番号 or 世帯番号). Input is
normalized (フリガナ become full-width katakana) and checked; on any problem an ``InputError`` names the field and
nothing is written. States are derived from the events (``kiban.registry.events.fold``), re-checked before every
write.

A write or a read about a person or household folds only the closed history of the people and households it
concerns (``kiban.registry.history.closed_history``), and a write rewrites their ``person_version`` rows (states by
period), which population-wide questions (``residents_on``, search, snapshots) read. Two concurrent writes may race
for the same event number (one of them then fails on the primary key and rolls back).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from kiban.core.audit.service import record
from kiban.core.crypto import blind_index
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identifiers import validate_my_number, validate_resident_code
from kiban.core.identity.permissions import Principal
from kiban.core.jtext import FieldKind
from kiban.registry.access import PURPOSE, may_read, may_write
from kiban.registry.checks import Checks
from kiban.registry.events import HEAD, Address, Event, EventType, PersonState, Status, effective_events, fold, versions
from kiban.registry.history import closed_history, event_of, next_event_no, rewrite_versions
from kiban.registry.models import Household, Person, PersonVersion, RegistryEvent

SEXES = {"male": "male", "female": "female", "男": "male", "女": "female", "男性": "male", "女性": "female"}
MY_NUMBER_CONTEXT = "person.my_number"


class DuplicateSuspected(InputError):
    """A new record's 基本4情報 match an existing person's: held for a clerk to decide, never linked automatically."""

    def __init__(self, person_nos: list[str]) -> None:
        self.person_nos = person_nos
        super().__init__(
            FieldError(
                "基本4情報",
                "、".join(person_nos),
                "氏名・生年月日・性別・住所が同じ人（宛名番号 "
                + "、".join(person_nos)
                + "）が記録されています。同じ人でないか確かめ、別の人であれば「別人として記録する」を選んで"
                "もう一度登録してください。同じ人であれば、その人の記録に異動を登録してください。",
            )
        )


def append_event(
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
    household row if needed) and rewrite their ``person_version`` rows."""
    related = {person_no, str(payload.get("new_head_person_no") or ""), *payload.get("relationships", {})}
    events = closed_history(
        db_session, persons=related, households={household_no, str(payload.get("new_household_no") or "")}
    )
    event_no = next_event_no(db_session)
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
    rewrite_versions(db_session, lg_code, [*events, candidate])
    detail: dict[str, Any] = {
        "event_no": event_no,
        "event_type": event_type.value,
        "effective_date": effective_date.isoformat(),
    }
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


def household_of(db_session: TenantSession, person_no: str, on: date) -> str:
    """The household the person belongs to on ``on`` ("" when unknown: the rules then refuse the event)."""
    state = fold(closed_history(db_session, persons={person_no}, households=set()), as_of=on).persons.get(person_no)
    return state.household_no if state else ""


NAME_FIELDS = (
    ("family_name", FieldKind.NAME, "氏", 100),
    ("given_name", FieldKind.NAME, "名", 100),
    ("family_name_kana", FieldKind.KANA, "氏（フリガナ）", 200),
    ("given_name_kana", FieldKind.KANA, "名（フリガナ）", 200),
)
"""Name items (key, width rule, label, maximum length): kana become full-width katakana, names keep what was typed."""


def _names(checks: Checks, given: Mapping[str, str | None]) -> dict[str, str]:
    """The name items given (None: not given), normalized and checked."""
    return {
        key: checks.text(value, kind, label, length)
        for key, kind, label, length in NAME_FIELDS
        if (value := given.get(key)) is not None
    }


def _new_person_fields(
    checks: Checks, names: Mapping[str, str], *, birth_date: date, sex: str, today: date
) -> dict[str, str]:
    fields = {
        **_names(checks, names),
        "birth_date": checks.date_not_future(birth_date, "生年月日", today).isoformat(),
        "sex": SEXES.get(sex.strip(), ""),
    }
    if not fields["sex"]:
        checks.add("性別", sex, "「男」または「女」を選んでください。")
    return fields


def _identifiers(checks: Checks, resident_code: str | None, my_number: str | None) -> tuple[str | None, str | None]:
    code = checks.run(lambda: validate_resident_code(resident_code), None) if resident_code else None
    number = checks.run(lambda: validate_my_number(my_number), None) if my_number else None
    return code, number


def _foreigner(
    checks: Checks, nationality: str, residence_status: str | None, residence_until: date | None
) -> dict[str, str]:
    """国籍 and, for 外国人住民 (住民基本台帳法第30条の45), 在留資格 and 在留期間の満了日, which they must have."""
    code = checks.text(nationality or "JPN", FieldKind.ALNUM, "国籍", 3).upper()
    if len(code) != 3 or not code.isalpha():
        checks.add("国籍", nationality, "ISO 3166 の3文字の国名コード（日本は JPN）を入力してください。")
    fields = {"nationality": code}
    if code == "JPN":
        if residence_status or residence_until:
            checks.add("在留資格", residence_status or "", "日本国籍の人には在留資格・在留期間を入力しません。")
        return fields
    status = ""
    if (residence_status or "").strip():
        status = checks.text(residence_status or "", FieldKind.NAME, "在留資格", 40)
        fields["residence_status"] = status
    else:
        checks.add("在留資格", "", "外国人住民の在留資格（例：永住者、技術・人文知識・国際業務）を入力してください。")
    if residence_until is not None:
        fields["residence_until"] = residence_until.isoformat()
    elif status not in ("永住者", "特別永住者"):
        checks.add("在留期間", "", "在留カードに記載の在留期間の満了日を入力してください。")
    return fields


def _same_four_items(
    db_session: TenantSession, fields: Mapping[str, str], address: Address | None, household_no: str
) -> list[str]:
    """宛名番号 of recorded persons (any status) whose 基本4情報 equal these: 氏名, 生年月日, 性別 and 住所."""
    query = select(PersonVersion.person_no).where(
        PersonVersion.valid_to.is_(None),
        PersonVersion.name == fields["family_name"] + fields["given_name"],
        PersonVersion.birth_date == date.fromisoformat(fields["birth_date"]),
        PersonVersion.sex == fields["sex"],
    )
    if address is not None:
        query = query.where(
            PersonVersion.postal_code == address.postal_code, PersonVersion.address_key == address.town + address.banchi
        )
    else:
        query = query.where(PersonVersion.household_no == household_no)
    return sorted(db_session.scalars(query))


def _new_person(
    db_session: TenantSession,
    *,
    checks: Checks,
    lg_code: str,
    person_no: str,
    household_no: str,
    fields: dict[str, str],
    address: Address | None,
    resident_code: str | None,
    my_number: str | None,
    confirmed_distinct: bool,
) -> Person:
    """The ``person`` row of a new record, after the 基本4情報 and 個人番号 checks."""
    index = blind_index(my_number, context=MY_NUMBER_CONTEXT) if my_number else None
    if index is not None:
        holder = db_session.scalar(
            select(Person.person_no).where(Person.my_number_index == index, Person.person_no != person_no)
        )
        if holder is not None:
            checks.add("個人番号", "（表示しません）", f"この個人番号は宛名番号 {holder} の人に記録されています。")
    checks.done()
    if db_session.get(Person, (lg_code, person_no)) is None and not confirmed_distinct:
        same = _same_four_items(db_session, fields, address, household_no)
        if same:
            raise DuplicateSuspected(same)
    row = Person(
        lg_code=lg_code,
        person_no=person_no,
        resident_code=resident_code,
        family_name=fields["family_name"],
        given_name=fields["given_name"],
        family_name_kana=fields["family_name_kana"],
        given_name_kana=fields["given_name_kana"],
        birth_date=date.fromisoformat(fields["birth_date"]),
        sex=fields["sex"],
        my_number=my_number,
        my_number_index=index,
    )
    return row


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
    my_number: str | None = None,
    nationality: str = "JPN",
    residence_status: str | None = None,
    residence_until: date | None = None,
    official_reason: str | None = None,
    confirmed_distinct: bool = False,
    moved_from: Mapping[str, str] | None = None,
    today: date | None = None,
) -> int:
    """転入 (住民基本台帳法第22条), or with ``official_reason`` 職権記載 (施行令第12条): a person arrives, founding a
    household (続柄 「世帯主」) or joining one at its address. A person whose 基本4情報 match a recorded one is held
    (``DuplicateSuspected``) unless ``confirmed_distinct``. ``moved_from`` links a 転入 to the 転出証明書 it used
    (see ``kiban.registry.transfer``). Returns the event number."""
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    person_no = checks.number(person_no, "宛名番号")
    household_no = checks.number(household_no, "世帯番号")
    names = {
        "family_name": family_name,
        "given_name": given_name,
        "family_name_kana": family_name_kana,
        "given_name_kana": given_name_kana,
    }
    fields = _new_person_fields(checks, names, birth_date=birth_date, sex=sex, today=today)
    code, number = _identifiers(checks, resident_code, my_number)
    foreign = _foreigner(checks, nationality, residence_status, residence_until)
    address = checks.address(postal_code, pref_name, city_name, town, banchi)
    rel = checks.text(relationship, FieldKind.NAME, "続柄", 20)
    checks.date_not_future(effective_date, "異動日", today)
    payload: dict[str, Any] = {
        **fields,
        **foreign,
        "relationship": rel,
        "address": address.to_json(),
        "status": Status.RESIDENT.value,
    }
    event_type = EventType.MOVE_IN
    if official_reason is not None:
        event_type = EventType.OFFICIAL_ENTRY
        if official_reason.strip():
            payload["reason"] = checks.text(official_reason, FieldKind.NAME, "職権記載の理由", 200)
        else:
            checks.add("職権記載の理由", "", "職権で記載する理由（例：実態調査により居住を確認）を入力してください。")
    if moved_from:
        payload["moved_from"] = dict(moved_from)
    row = _new_person(
        db_session,
        checks=checks,
        lg_code=lg_code,
        person_no=person_no,
        household_no=household_no,
        fields=fields,
        address=address,
        resident_code=code,
        my_number=number,
        confirmed_distinct=confirmed_distinct,
    )
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=event_type,
        person_no=person_no,
        household_no=household_no,
        effective_date=effective_date,
        payload=payload,
        today=today,
        person=row,
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
    my_number: str | None = None,
    confirmed_distinct: bool = False,
    today: date | None = None,
) -> int:
    """出生: a child is recorded in an existing household, on its birth date, at the household's address."""
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    person_no = checks.number(person_no, "宛名番号")
    household_no = checks.number(household_no, "世帯番号")
    names = {
        "family_name": family_name,
        "given_name": given_name,
        "family_name_kana": family_name_kana,
        "given_name_kana": given_name_kana,
    }
    fields = _new_person_fields(checks, names, birth_date=birth_date, sex=sex, today=today)
    code, number = _identifiers(checks, resident_code, my_number)
    rel = checks.text(relationship, FieldKind.NAME, "続柄", 20)
    if rel == HEAD:
        checks.add("続柄", rel, "出生した子は世帯主にできません。世帯主との続柄を入力してください。")
    payload: dict[str, Any] = {**fields, "relationship": rel, "status": Status.RESIDENT.value}
    row = _new_person(
        db_session,
        checks=checks,
        lg_code=lg_code,
        person_no=person_no,
        household_no=household_no,
        fields=fields,
        address=None,
        resident_code=code,
        my_number=number,
        confirmed_distinct=confirmed_distinct,
    )
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.BIRTH,
        person_no=person_no,
        household_no=household_no,
        effective_date=birth_date,
        payload=payload,
        today=today,
        person=row,
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
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
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
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.MOVE_WITHIN,
        person_no=person_no,
        household_no=target or household_of(db_session, person_no, effective_date),
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
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    person_no = checks.number(person_no, "宛名番号")
    new_head = checks.number(new_head_person_no, "新しい世帯主") if new_head_person_no else None
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    status = Status.DEAD if event_type is EventType.DEATH else Status.MOVED_OUT
    payload: dict[str, Any] = {**extra, "status": status.value}
    if new_head is not None:
        payload["new_head_person_no"] = new_head
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=event_type,
        person_no=person_no,
        household_no=household_of(db_session, person_no, effective_date),
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
    checks = Checks()
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


def register_official_removal(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    effective_date: date,
    reason: str,
    new_head_person_no: str | None = None,
    today: date | None = None,
) -> int:
    """職権消除 (住民基本台帳法施行令第8条・第12条): the person is found not to live here and is removed."""
    checks = Checks()
    why = checks.text(reason, FieldKind.NAME, "職権消除の理由", 200) if reason.strip() else ""
    if not why:
        checks.add("職権消除の理由", "", "職権で消除する理由（例：実態調査により居住の事実なし）を入力してください。")
    checks.done()
    return _leave(
        db_session,
        actor=actor,
        event_type=EventType.OFFICIAL_REMOVAL,
        person_no=person_no,
        effective_date=effective_date,
        new_head_person_no=new_head_person_no,
        today=today,
        extra={"reason": why},
    )


def register_household_split(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    new_household_no: str,
    effective_date: date,
    new_head_person_no: str | None = None,
    today: date | None = None,
) -> int:
    """世帯分離 (住民基本台帳法第25条 世帯変更届): the person leaves their household to head a new one at the same
    address (a head leaving members behind names the new head)."""
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    person_no = checks.number(person_no, "宛名番号")
    target = checks.number(new_household_no, "新しい世帯番号")
    new_head = checks.number(new_head_person_no, "新しい世帯主") if new_head_person_no else None
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    payload: dict[str, Any] = {"new_household_no": target}
    if new_head is not None:
        payload["new_head_person_no"] = new_head
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.HOUSEHOLD_SPLIT,
        person_no=person_no,
        household_no=target,
        effective_date=effective_date,
        payload=payload,
        today=today,
    )


def register_household_merge(
    db_session: TenantSession,
    *,
    actor: Principal,
    household_no: str,
    into_household_no: str,
    effective_date: date,
    relationships: Mapping[str, str],
    today: date | None = None,
) -> int:
    """世帯合併 (住民基本台帳法第25条 世帯変更届): every member of ``household_no`` joins ``into_household_no`` at the
    same address; ``relationships`` gives each one's 続柄 to that household's head."""
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    source = checks.number(household_no, "世帯番号")
    target = checks.number(into_household_no, "合併先の世帯番号")
    rels = {checks.number(k, "宛名番号"): checks.text(v, FieldKind.NAME, "続柄", 20) for k, v in relationships.items()}
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    members = fold(closed_history(db_session, persons=set(), households={source}), as_of=effective_date).members(source)
    if not members:
        checks.add("世帯番号", source, "この日に住民のいる世帯の世帯番号を指定してください。")
        checks.done()
    representative = next((m.person_no for m in members if m.relationship == HEAD), members[0].person_no)
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.HOUSEHOLD_MERGE,
        person_no=representative,
        household_no=target,
        effective_date=effective_date,
        payload={"relationships": rels},
        today=today,
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
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
    household_no = checks.number(household_no, "世帯番号")
    new_head = checks.number(new_head_person_no, "新しい世帯主")
    rels = {
        checks.number(k, "宛名番号"): checks.text(v, FieldKind.NAME, "続柄", 20)
        for k, v in (relationships or {}).items()
    }
    checks.date_not_future(effective_date, "異動日", today)
    checks.done()
    return append_event(
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
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    checks = Checks()
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
    return append_event(
        db_session,
        actor=actor,
        lg_code=lg_code,
        event_type=EventType.NAME_CHANGE,
        person_no=person_no,
        household_no=household_of(db_session, person_no, effective_date),
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
    lg_code = may_write(db_session, actor)
    today = today or date.today()
    row = db_session.get(RegistryEvent, (lg_code, event_no))
    checks = Checks()
    if row is None:
        checks.add("異動番号", str(event_no), "記録されている異動の番号を指定してください。")
        checks.done()
    assert row is not None
    root = row.corrects_event_no or row.event_no
    versions = select(RegistryEvent).where(or_(RegistryEvent.event_no == root, RegistryEvent.corrects_event_no == root))
    current = event_of(db_session.scalars(versions.order_by(RegistryEvent.event_no.desc()).limit(1)).one())
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
    return append_event(
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


def known_person(db_session: TenantSession, lg_code: str, person_no: str) -> None:
    """``NotFound`` unless the 宛名番号 is recorded in the municipality."""
    if db_session.get(Person, (lg_code, person_no)) is None:
        raise NotFound(f"宛名番号「{person_no}」の住民は記録されていません。")


def known_household(db_session: TenantSession, lg_code: str, household_no: str) -> None:
    """``NotFound`` unless the 世帯番号 is recorded in the municipality."""
    if db_session.get(Household, (lg_code, household_no)) is None:
        raise NotFound(f"世帯番号「{household_no}」の世帯は記録されていません。")


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
    known_person(db_session, may_read(db_session, actor), person_no)
    history = closed_history(db_session, persons={person_no}, households=set())
    state = fold(history, as_of=as_of, recorded_as_of=recorded_as_of).persons.get(person_no)
    detail: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None}
    if recorded_as_of is not None:
        detail["recorded_as_of"] = recorded_as_of.isoformat()
    record(db_session, actor=actor, action="registry.person.read", purpose=PURPOSE, subject=person_no, detail=detail)
    return state


def person_events(db_session: TenantSession, *, actor: Principal, person_no: str) -> list[Event]:
    """The person's history as known now (corrections applied), in 異動日 order: what a timeline shows. Events of
    their household that changed them (a 転居 of the whole household, a 世帯主変更) are included."""
    known_person(db_session, may_read(db_session, actor), person_no)
    events = closed_history(db_session, persons={person_no}, households=set())
    shaping = {v.event_no for v in versions(events).get(person_no, [])}
    mine = [e for e in effective_events(events) if e.person_no == person_no or e.event_no in shaping]
    record(db_session, actor=actor, action="registry.person.history", purpose=PURPOSE, subject=person_no)
    return mine


def household_members(
    db_session: TenantSession, *, actor: Principal, household_no: str, as_of: date | None = None
) -> list[PersonState]:
    """Residents of the household on ``as_of`` (latest when None), head first."""
    known_household(db_session, may_read(db_session, actor), household_no)
    history = closed_history(db_session, persons=set(), households={household_no})
    members = fold(history, as_of=as_of).members(household_no)
    detail = {"as_of": as_of.isoformat() if as_of else None, "members": len(members)}
    record(
        db_session, actor=actor, action="registry.household.read", purpose=PURPOSE, subject=household_no, detail=detail
    )
    return members


def residents_on(db_session: TenantSession, *, actor: Principal, on: date) -> list[str]:
    """宛名番号 of everyone living in the municipality on ``on``, sorted."""
    may_read(db_session, actor)
    query = select(PersonVersion.person_no).where(
        PersonVersion.valid_from <= on,
        or_(PersonVersion.valid_to.is_(None), PersonVersion.valid_to > on),
        PersonVersion.status == Status.RESIDENT.value,
    )
    found = sorted(db_session.scalars(query))
    record(
        db_session,
        actor=actor,
        action="registry.residents.list",
        purpose=PURPOSE,
        detail={"on": on.isoformat(), "count": len(found)},
    )
    return found
