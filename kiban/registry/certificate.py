"""住民票の写し: what a copy of the resident record states, who may issue it, and the PDF.

住民基本台帳法第12条 lets a resident ask the 市町村長 for a 住民票の写し of themself or of their household; 第7条 lists
what a 住民票 records (記載事項): 氏名 (第1号), 出生の年月日 (第2号), 男女の別 (第3号), 世帯主であればその旨、そうで
なければ世帯主の氏名と世帯主との続柄 (第4号), 戸籍の表示 (第5号), 住民となった年月日 (第6号), 住所と住所を定めた年月日
(第7号), 個人番号 (第8号の2), 住民票コード (第13号), among others; 外国人住民 also have 国籍・地域, 在留資格 and
在留期間の満了の日 (第30条の45).

What is printed:

* always: 氏名 with フリガナ, 生年月日 (和暦), 性別, 世帯主 (the head's name), 住所, 住民となった日, 住所を定めた日, and
  for 外国人住民 国籍・地域;
* only when asked (``CopyItem``): 続柄, 住民票コード, 在留資格・在留期間の満了の日. 第12条第5項 lets the 市町村長 omit
  続柄, 戸籍の表示, 個人番号, 住民票コード and the like unless specially requested (特別の請求; compare
  第12条の4第4項, which names 第7条第4号, 第8号の2 and 第13号 for copies issued elsewhere), and the short form is the
  usual practice: a copy handed to a landlord or an employer states no more than needed;
* 個人番号 only when asked and only by staff holding ``MY_NUMBER_READ``: 番号法第19条 limits providing a My Number
  and 第20条 collecting one, so a copy with it is issued only on the person's own request, for a 事務 that needs it.
  A refusal is audited (``authorize``).
* 本籍・筆頭者 (戸籍の表示, 第7条第5号) come from the 戸籍, which this register does not hold: there is no option for
  them rather than a printed guess.

Each issue is audited (subject the 宛名番号; detail the date, the options and the 宛名番号 listed — never a My
Number). The layout is ``kiban.registry.certificate_layout``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kiban.core.audit.service import authorize, record
from kiban.core.dates import to_wareki
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.tenants import service as tenants
from kiban.registry import certificate_layout
from kiban.registry.access import PURPOSE, may_read
from kiban.registry.events import HEAD, PersonState, Status, fold
from kiban.registry.history import closed_history
from kiban.registry.models import Person

SEX_LABELS = {"male": "男", "female": "女"}


class CopyItem(StrEnum):
    """Items printed only when asked for (第12条第5項)."""

    RELATIONSHIP = "relationship"
    RESIDENT_CODE = "resident_code"
    RESIDENCE = "residence"

    @property
    def label(self) -> str:
        return {
            "relationship": "続柄",
            "resident_code": "住民票コード",
            "residence": "在留資格・在留期間の満了の日",
        }[self.value]


def copy_items(values: Iterable[str]) -> frozenset[CopyItem]:
    """The items named (``relationship``, ``resident_code``, ``residence``); ``InputError`` for any other."""
    known = {item.value for item in CopyItem}
    given = {v.strip() for v in values if v.strip()}
    unknown = sorted(given - known)
    if unknown:
        choices = "、".join(f"{item.value}（{item.label}）" for item in CopyItem)
        raise InputError(FieldError("記載事項", "、".join(unknown), f"次の中から選んでください：{choices}。"))
    return frozenset(CopyItem(v) for v in given)


@dataclass(frozen=True)
class CopyPerson:
    """One person's 記載事項 as printed (None: not printed)."""

    person_no: str
    name: str
    name_kana: str
    birth_date: date
    sex: str
    is_head: bool
    relationship: str | None
    resident_since: date
    address_since: date
    nationality: str | None
    """Only for 外国人住民."""
    residence_status: str | None
    residence_until: date | None
    resident_code: str | None
    my_number: str | None


@dataclass(frozen=True)
class ResidentCopy:
    """Everything a 住民票の写し states."""

    municipality: str
    """「東京都千代田区」."""
    issuer: str
    """「東京都千代田区長」: who certifies."""
    address: str
    head_name: str
    persons: tuple[CopyPerson, ...]
    issued_on: date
    omitted: tuple[str, ...]
    """Labels of the items left out, stated on the copy."""


def _full_name(family: str, given: str) -> str:
    return f"{family}\u3000{given}"


def _address(state: PersonState) -> str:
    a = state.address
    return "" if a is None else f"{a.pref_name}{a.city_name}{a.town}{a.banchi}"


def _on_record(
    db_session: TenantSession, lg_code: str, person_no: str, on: date
) -> tuple[PersonState, list[PersonState]]:
    """The person on ``on`` and their household's residents then (head first); refused unless they were resident."""
    if db_session.get(Person, (lg_code, person_no)) is None:
        raise NotFound(f"宛名番号「{person_no}」の住民は記録されていません。")
    # The closed history of the person holds their households' too, so one fold gives the members as well.
    world = fold(closed_history(db_session, persons={person_no}, households=set()), as_of=on)
    person = world.persons.get(person_no)
    if person is None or person.status is not Status.RESIDENT:
        why = "まだ記録されていません"
        if person is not None:
            why = f"{person.status.label}しています（除票の写しは未対応です）"
        raise InputError(FieldError("宛名番号", person_no, f"この人は{to_wareki(on)}の時点で{why}。"))
    return person, world.members(person.household_no)


def resident_copy(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    household: bool,
    items: Iterable[str],
    my_number: bool,
    today: date,
) -> ResidentCopy:
    """What the 住民票の写し of ``person_no`` (or their whole household) on ``today`` states; audited as an issue.
    ``NotFound`` for a 宛名番号 unknown in this tenant; ``PermissionDenied`` (audited) for 個人番号 without
    ``MY_NUMBER_READ``; ``InputError`` for an unknown item or a person not resident on ``today``."""
    lg_code = may_read(db_session, actor)
    wanted = copy_items(items)
    if my_number:
        authorize(
            db_session,
            actor=actor,
            permission=Permission.MY_NUMBER_READ,
            action="registry.certificate.my_number",
            purpose=PURPOSE,
        )
    person, members = _on_record(db_session, lg_code, person_no, today)
    head = next((p for p in members if p.relationship == HEAD), None)
    listed = members if household else [person]
    persons = tuple(_person(db_session, lg_code, p, wanted, my_number) for p in listed)
    tenant = tenants.get(db_session=db_session, lg_code=lg_code)
    municipality = f"{tenant.pref_name}{tenant.gun or ''}{tenant.name}"
    foreign = any(p.nationality != "JPN" for p in listed)
    omitted = [item.label for item in CopyItem if item not in wanted and (foreign or item is not CopyItem.RESIDENCE)]
    if not my_number:
        omitted.append("個人番号")
    record(
        db_session,
        actor=actor,
        action="registry.certificate.issue",
        purpose=PURPOSE,
        subject=person_no,
        detail={
            "on": today.isoformat(),
            "household": household,
            "items": sorted(item.value for item in wanted),
            "my_number": my_number,
            "persons": [p.person_no for p in persons],
        },
    )
    return ResidentCopy(
        municipality=municipality,
        issuer=f"{municipality}長",
        address=_address(listed[0]),
        head_name=_full_name(head.family_name, head.given_name) if head else "",
        persons=persons,
        issued_on=today,
        omitted=tuple(omitted),
    )


def _person(
    db_session: TenantSession, lg_code: str, state: PersonState, wanted: frozenset[CopyItem], my_number: bool
) -> CopyPerson:
    row = db_session.get(Person, (lg_code, state.person_no))
    foreign = state.nationality != "JPN"
    residence = foreign and CopyItem.RESIDENCE in wanted
    return CopyPerson(
        person_no=state.person_no,
        name=_full_name(state.family_name, state.given_name),
        name_kana=_full_name(state.family_name_kana, state.given_name_kana),
        birth_date=state.birth_date,
        sex=SEX_LABELS.get(state.sex, state.sex),
        is_head=state.relationship == HEAD,
        relationship=state.relationship if CopyItem.RELATIONSHIP in wanted else None,
        resident_since=state.resident_since,
        address_since=state.address_since,
        nationality=state.nationality if foreign else None,
        residence_status=state.residence_status if residence else None,
        residence_until=state.residence_until if residence else None,
        resident_code=(row.resident_code or "") if row is not None and CopyItem.RESIDENT_CODE in wanted else None,
        my_number=(row.my_number or "") if row is not None and my_number else None,
    )


def resident_copy_pdf(
    db_session: TenantSession,
    *,
    actor: Principal,
    person_no: str,
    household: bool = False,
    items: Iterable[str] = (),
    my_number: bool = False,
    today: date,
) -> bytes:
    """The 住民票の写し as a PDF (A4, Japanese font embedded); see ``resident_copy`` for the checks."""
    copy = resident_copy(
        db_session,
        actor=actor,
        person_no=person_no,
        household=household,
        items=items,
        my_number=my_number,
        today=today,
    )
    return certificate_layout.render_pdf(copy)
