"""Registry API (住民記録): search, a person's record with their 異動, a household on a date, and recording a 転居.

Always the caller's own municipality (the tenant comes from the credentials); a 宛名番号 or 世帯番号 of another
municipality is simply not found. Errors use the platform's JSON shape (``kiban.core.http.responses``). My Numbers
are never returned."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from kiban.core.http.auth import require, tenant_session
from kiban.core.identity.permissions import Permission, Principal
from kiban.registry import search, service
from kiban.registry.events import HEAD, Address, PersonState
from kiban.registry.timeline import Entry, address_text, person_timeline

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])
Reader = Annotated[Principal, Depends(require(Permission.REGISTRY_READ))]
Writer = Annotated[Principal, Depends(require(Permission.REGISTRY_WRITE))]


class AddressOut(BaseModel):
    postal_code: str
    pref_name: str
    city_name: str
    town: str
    banchi: str
    text: str
    """As printed: 「〒100-0001 東京都千代田区千代田1-1」."""

    @classmethod
    def of(cls, address: Address | None) -> AddressOut | None:
        if address is None:
            return None
        return cls(**address.to_json(), text=address_text(address))


class PersonOut(BaseModel):
    person_no: str
    status: str
    status_label: str
    household_no: str
    relationship: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    resident_since: date
    address_since: date
    address: AddressOut | None
    left_on: date | None
    destination: str | None
    nationality: str
    residence_status: str | None
    residence_until: date | None

    @classmethod
    def of(cls, state: PersonState) -> PersonOut:
        return cls(
            person_no=state.person_no,
            status=state.status.value,
            status_label=state.status.label,
            household_no=state.household_no,
            relationship=state.relationship,
            family_name=state.family_name,
            given_name=state.given_name,
            family_name_kana=state.family_name_kana,
            given_name_kana=state.given_name_kana,
            birth_date=state.birth_date,
            sex=state.sex,
            resident_since=state.resident_since,
            address_since=state.address_since,
            address=AddressOut.of(state.address),
            left_on=state.left_on,
            destination=state.destination,
            nationality=state.nationality,
            residence_status=state.residence_status,
            residence_until=state.residence_until,
        )


class SupersededOut(BaseModel):
    recorded_at: date
    effective_date: date
    changes: list[str]


class EventOut(BaseModel):
    event_no: int
    event_type: str
    label: str
    effective_date: date
    recorded_at: date
    corrected_on: date | None
    person_no: str
    """Whose 異動 it is (another member's for a 転居 of the whole household)."""
    changes: list[str]
    """What it recorded, in Japanese."""
    superseded: list[SupersededOut]
    """Versions replaced by 誤記修正, oldest first."""

    @classmethod
    def of(cls, entry: Entry) -> EventOut:
        return cls(
            event_no=entry.event_no,
            event_type=entry.event_type.value,
            label=entry.label,
            effective_date=entry.effective_date,
            recorded_at=entry.recorded_at,
            corrected_on=entry.corrected_on,
            person_no=entry.person_no,
            changes=entry.changes,
            superseded=[SupersededOut(**vars(s)) for s in entry.superseded],
        )


class PersonRecord(BaseModel):
    as_of: date | None
    person: PersonOut | None
    """None when the person was not yet recorded on ``as_of``."""
    events: list[EventOut]


class PersonHit(BaseModel):
    person_no: str
    household_no: str
    status: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    relationship: str
    address: str


class HouseholdOut(BaseModel):
    household_no: str
    as_of: date | None
    head_person_no: str | None
    address: AddressOut | None
    members: list[PersonOut]
    """Head first."""


class MoveWithin(BaseModel):
    """転居: without ``new_household_no`` the whole household moves; with it the person alone moves and heads it."""

    effective_date: date
    postal_code: str
    pref_name: str
    city_name: str
    town: str
    banchi: str
    new_household_no: str | None = None
    new_head_person_no: str | None = None


class Recorded(BaseModel):
    event_no: int
    person: PersonOut


@router.get("/persons")
def find_persons(
    request: Request,
    principal: Reader,
    kana: str = "",
    name: str = "",
    birth_date: date | None = None,
    address: str = "",
    resident_code: str = "",
    include_departed: bool = False,
) -> list[PersonHit]:
    """People matching every criterion given (at least one), by フリガナ; at most 50."""
    with tenant_session(request, principal) as s:
        hits = search.search(
            s,
            actor=principal,
            kana=kana,
            name=name,
            birth_date=birth_date,
            address=address,
            resident_code=resident_code,
            include_departed=include_departed,
        )
    return [PersonHit(**{**vars(h), "status": h.status.value}) for h in hits]


@router.get("/persons/{person_no}")
def get_person(request: Request, principal: Reader, person_no: str, as_of: date | None = None) -> PersonRecord:
    """The person's state on ``as_of`` (latest when omitted) and every 異動 as known now."""
    with tenant_session(request, principal) as s:
        state = service.person_state(s, actor=principal, person_no=person_no, as_of=as_of)
        entries = person_timeline(s, actor=principal, person_no=person_no)
    return PersonRecord(
        as_of=as_of, person=PersonOut.of(state) if state else None, events=[EventOut.of(e) for e in entries]
    )


@router.get("/households/{household_no}")
def get_household(request: Request, principal: Reader, household_no: str, as_of: date | None = None) -> HouseholdOut:
    """The household's residents on ``as_of`` (latest when omitted), head first."""
    with tenant_session(request, principal) as s:
        members = service.household_members(s, actor=principal, household_no=household_no, as_of=as_of)
    head = next((m.person_no for m in members if m.relationship == HEAD), None)
    return HouseholdOut(
        household_no=household_no,
        as_of=as_of,
        head_person_no=head,
        address=AddressOut.of(members[0].address) if members else None,
        members=[PersonOut.of(m) for m in members],
    )


@router.post("/persons/{person_no}/move-within", status_code=201)
def move_within(request: Request, principal: Writer, person_no: str, body: MoveWithin) -> Recorded:
    """Record a 転居 (住民基本台帳法第23条); returns the event number and the person's state after it."""
    with tenant_session(request, principal) as s:
        service.known_person(s, principal.lg_code, person_no)
        event_no = service.register_move_within(s, actor=principal, person_no=person_no, **body.model_dump())
        state = service.person_state(s, actor=principal, person_no=person_no)
    assert state is not None
    return Recorded(event_no=event_no, person=PersonOut.of(state))
