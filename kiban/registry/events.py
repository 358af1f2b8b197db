"""Registry event types (異動事由) and their rules, and the fold that derives states from events.

A state is never stored: ``fold`` replays a tenant's events in 異動日 order and returns every person's and household's
state on a date. Two time axes (bitemporal): ``as_of`` keeps events whose 異動日 is on or before it; ``recorded_as_of``
keeps events recorded (記録日) on or before it, so "what did the register say on 記録日 X about 異動日 Y" can be
answered after corrections. A correction (``corrects_event_no``) replaces the event it names from its own 記録日 on.

The rules (``strict=True``, used before every write) refuse illegal sequences with an ``InputError`` naming the field:
events on a dead or departed person, a 転出 of someone already gone, a household head leaving while members remain
without naming the new head, a 異動日 before the person's birth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from kiban.core.errors import FieldError, InputError

HEAD = "世帯主"


class EventType(StrEnum):
    MOVE_IN = "move_in"
    BIRTH = "birth"
    MOVE_WITHIN = "move_within"
    MOVE_OUT = "move_out"
    DEATH = "death"
    CHANGE_HEAD = "change_head"
    NAME_CHANGE = "name_change"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS: dict[EventType, str] = {
    EventType.MOVE_IN: "転入",
    EventType.BIRTH: "出生",
    EventType.MOVE_WITHIN: "転居",
    EventType.MOVE_OUT: "転出",
    EventType.DEATH: "死亡",
    EventType.CHANGE_HEAD: "世帯主変更",
    EventType.NAME_CHANGE: "氏名変更",
}


class Status(StrEnum):
    RESIDENT = "resident"
    MOVED_OUT = "moved_out"
    DEAD = "dead"

    @property
    def label(self) -> str:
        return {"resident": "住民", "moved_out": "転出", "dead": "死亡"}[self.value]


@dataclass(frozen=True)
class Address:
    postal_code: str
    """7 digits."""
    pref_name: str
    city_name: str
    town: str
    banchi: str

    def to_json(self) -> dict[str, str]:
        return {
            "postal_code": self.postal_code,
            "pref_name": self.pref_name,
            "city_name": self.city_name,
            "town": self.town,
            "banchi": self.banchi,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Address:
        return cls(
            str(data["postal_code"]),
            str(data["pref_name"]),
            str(data["city_name"]),
            str(data["town"]),
            str(data["banchi"]),
        )


@dataclass(frozen=True)
class Event:
    """One stored event, detached from the database."""

    event_no: int
    event_type: EventType
    person_no: str
    household_no: str
    effective_date: date
    recorded_at: date
    payload: dict[str, Any]
    corrects_event_no: int | None = None


@dataclass
class PersonState:
    person_no: str
    status: Status
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
    address: Address | None
    """住所 (for someone who left: the last one in this municipality)."""
    left_on: date | None = None
    """異動日 of the 転出 or 死亡."""
    destination: str | None = None
    """転出先 (for a 転出)."""


@dataclass
class HouseholdState:
    household_no: str
    head: str | None
    address: Address | None


@dataclass
class World:
    """Every person's and household's state after a fold."""

    persons: dict[str, PersonState] = field(default_factory=dict)
    households: dict[str, HouseholdState] = field(default_factory=dict)
    residents_by_household: dict[str, set[str]] = field(default_factory=dict)
    """Index kept by ``settle`` / ``unsettle``, so a fold stays linear in the number of events."""

    def members(self, household_no: str) -> list[PersonState]:
        """Residents of the household, head first, then by 宛名番号."""
        found = [self.persons[n] for n in self.residents_by_household.get(household_no, ())]
        return sorted(found, key=lambda p: (p.relationship != HEAD, p.person_no))

    def settle(self, person: PersonState, household_no: str) -> None:
        """``person`` now lives in ``household_no`` (as a resident)."""
        self.unsettle(person)
        person.household_no = household_no
        self.persons[person.person_no] = person
        self.residents_by_household.setdefault(household_no, set()).add(person.person_no)

    def unsettle(self, person: PersonState) -> None:
        """``person`` no longer lives in their household (moved, moved out or died)."""
        self.residents_by_household.get(person.household_no, set()).discard(person.person_no)


def _error(label: str, received: str, fix: str) -> InputError:
    return InputError(FieldError(label, received, fix))


def effective_events(events: Iterable[Event], *, recorded_as_of: date | None = None) -> list[Event]:
    """The events as known on ``recorded_as_of`` (all when None), corrections applied, in 異動日 order.

    A correction takes the place of the event it corrects (keeping its position among same-day events); the latest
    correction recorded wins."""
    known = [e for e in events if recorded_as_of is None or e.recorded_at <= recorded_as_of]
    by_no = {e.event_no: e for e in known if e.corrects_event_no is None}
    for correction in sorted((e for e in known if e.corrects_event_no is not None), key=lambda e: e.event_no):
        target = correction.corrects_event_no
        if target in by_no:
            by_no[target] = replace(correction, event_no=target)
    return sorted(by_no.values(), key=lambda e: (e.effective_date, e.event_no))


def fold(
    events: Iterable[Event],
    *,
    as_of: date | None = None,
    recorded_as_of: date | None = None,
    strict: bool = False,
) -> World:
    """Replay ``events`` into a ``World``. ``strict``: raise ``InputError`` at the first event breaking a rule
    (used before a write); otherwise such an event is skipped."""
    world = World()
    for event in effective_events(events, recorded_as_of=recorded_as_of):
        if as_of is not None and event.effective_date > as_of:
            break
        try:
            apply(world, event)
        except InputError:
            if strict:
                raise
    return world


# --- rules ----------------------------------------------------------------------------------------------------------


def apply(world: World, event: Event) -> None:
    """Apply one event to ``world`` (in place), or raise ``InputError`` leaving it unchanged."""
    person = world.persons.get(event.person_no)
    if event.event_type in (EventType.MOVE_IN, EventType.BIRTH):
        _check_new_person(person, event)
    else:
        person = _resident(person, event)
        if event.effective_date < person.birth_date:
            raise _error(
                "異動日",
                event.effective_date.isoformat(),
                f"生年月日（{person.birth_date.isoformat()}）以降の日付を入力してください。",
            )
    match event.event_type:
        case EventType.MOVE_IN | EventType.BIRTH:
            _arrive(world, event)
        case EventType.MOVE_WITHIN:
            assert person is not None
            _move_within(world, person, event)
        case EventType.MOVE_OUT | EventType.DEATH:
            assert person is not None
            _leave(world, person, event)
        case EventType.CHANGE_HEAD:
            _change_head(world, event)
        case EventType.NAME_CHANGE:
            assert person is not None
            for key in ("family_name", "given_name", "family_name_kana", "given_name_kana"):
                if key in event.payload:
                    setattr(person, key, str(event.payload[key]))


def _gone(person: PersonState) -> str:
    when = person.left_on.isoformat() if person.left_on else "不明"
    return f"この人は{when}に{person.status.label}しています。"


def _check_new_person(person: PersonState | None, event: Event) -> None:
    birth = date.fromisoformat(str(event.payload["birth_date"]))
    if event.effective_date < birth:
        raise _error(
            "異動日", event.effective_date.isoformat(), f"生年月日（{birth.isoformat()}）以降の日付を入力してください。"
        )
    if event.event_type is EventType.BIRTH and event.effective_date != birth:
        raise _error("異動日", event.effective_date.isoformat(), "出生の異動日は生年月日と同じ日にしてください。")
    if person is None:
        return
    if person.status is Status.DEAD:
        raise _error("宛名番号", event.person_no, _gone(person) + "死亡した人は記録できません。")
    if event.event_type is EventType.BIRTH or person.status is Status.RESIDENT:
        raise _error(
            "宛名番号", event.person_no, "この宛名番号はすでに住民として記録されています。別の番号を指定してください。"
        )


def _resident(person: PersonState | None, event: Event) -> PersonState:
    if person is None:
        raise _error("宛名番号", event.person_no, "この日に記録のある住民の宛名番号を指定してください。")
    if person.status is not Status.RESIDENT:
        label = EventType(event.event_type).label
        raise _error("宛名番号", event.person_no, _gone(person) + f"{label}は記録できません。")
    return person


def _arrive(world: World, event: Event) -> None:
    p = event.payload
    household = world.households.get(event.household_no)
    members = world.members(event.household_no)
    relationship = str(p["relationship"])
    address: Address | None
    if event.event_type is EventType.BIRTH:
        if not members or household is None:
            raise _error(
                "世帯番号", event.household_no, "出生した子が入る、住民のいる世帯の世帯番号を指定してください。"
            )
        address = household.address
    else:
        address = Address.from_json(p["address"])
        if members and relationship == HEAD:
            raise _error("続柄", relationship, "この世帯にはすでに世帯主がいます。世帯主との続柄を入力してください。")
        if not members and relationship != HEAD:
            raise _error("続柄", relationship, "新しい世帯の最初の人は「世帯主」にしてください。")
        if members and household is not None and household.address != address:
            raise _error("住所", _address_text(address), "世帯の住所と同じ住所を入力してください。")
    if household is None or not members:
        world.households[event.household_no] = HouseholdState(event.household_no, None, address)
    if relationship == HEAD:
        world.households[event.household_no].head = event.person_no
    arrived = PersonState(
        person_no=event.person_no,
        status=Status.RESIDENT,
        household_no=event.household_no,
        relationship=relationship,
        family_name=str(p["family_name"]),
        given_name=str(p["given_name"]),
        family_name_kana=str(p["family_name_kana"]),
        given_name_kana=str(p["given_name_kana"]),
        birth_date=date.fromisoformat(str(p["birth_date"])),
        sex=str(p["sex"]),
        resident_since=event.effective_date,
        address_since=event.effective_date,
        address=address,
    )
    world.settle(arrived, event.household_no)


def _address_text(address: Address) -> str:
    return f"〒{address.postal_code} {address.pref_name}{address.city_name}{address.town}{address.banchi}"


def _hand_over(world: World, person: PersonState, new_head: str | None) -> None:
    """``person`` leaves their household: a head leaving others behind must name one of them as the new head."""
    household = world.households[person.household_no]
    others = [m for m in world.members(person.household_no) if m.person_no != person.person_no]
    if household.head != person.person_no:
        if new_head is not None:
            raise _error(
                "新しい世帯主", new_head, "世帯主以外の人の異動では新しい世帯主は指定できません。空欄にしてください。"
            )
        return
    if not others:
        if new_head is not None:
            raise _error("新しい世帯主", new_head, "世帯に残る人がいないため指定できません。空欄にしてください。")
        household.head = None
        return
    candidates = [m.person_no for m in others]
    if new_head not in candidates:
        raise _error(
            "新しい世帯主",
            new_head or "",
            f"世帯主が抜けると世帯員が残るため、残る人から新しい世帯主の宛名番号を指定してください（{'、'.join(candidates)}）。",
        )
    household.head = new_head
    world.persons[new_head].relationship = HEAD


def _optional_str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return None if value is None else str(value)


def _move_within(world: World, person: PersonState, event: Event) -> None:
    address = Address.from_json(event.payload["address"])
    target = _optional_str(event.payload, "new_household_no")
    if target is None or target == person.household_no:
        household = world.households[person.household_no]
        household.address = address
        for member in world.members(person.household_no):
            member.address_since = event.effective_date
            member.address = address
        return
    if world.members(target):
        raise _error(
            "新しい世帯番号", target, "住民のいない新しい世帯番号を指定してください（世帯合併はまだ扱えません）。"
        )
    _hand_over(world, person, _optional_str(event.payload, "new_head_person_no"))
    world.households[target] = HouseholdState(target, person.person_no, address)
    world.settle(person, target)
    person.relationship = HEAD
    person.address_since = event.effective_date
    person.address = address


def _leave(world: World, person: PersonState, event: Event) -> None:
    _hand_over(world, person, _optional_str(event.payload, "new_head_person_no"))
    world.unsettle(person)
    person.status = Status.DEAD if event.event_type is EventType.DEATH else Status.MOVED_OUT
    person.left_on = event.effective_date
    person.destination = _optional_str(event.payload, "destination")


def _change_head(world: World, event: Event) -> None:
    household = world.households.get(event.household_no)
    members = {m.person_no: m for m in world.members(event.household_no)}
    if household is None or event.person_no not in members:
        raise _error("新しい世帯主", event.person_no, "この世帯の住民の宛名番号を指定してください。")
    if household.head == event.person_no:
        raise _error("新しい世帯主", event.person_no, "この人はすでに世帯主です。別の世帯員を指定してください。")
    relationships: dict[str, Any] = event.payload.get("relationships", {})
    old_head = household.head
    if old_head is not None and old_head in members and not relationships.get(old_head):
        raise _error("続柄", "", f"これまでの世帯主（{old_head}）の新しい世帯主との続柄を入力してください。")
    for person_no, relationship in relationships.items():
        if person_no not in members or person_no == event.person_no:
            raise _error("続柄", str(person_no), "新しい世帯主以外の、この世帯の世帯員の続柄だけを指定してください。")
        if relationship == HEAD:
            raise _error("続柄", str(relationship), "世帯主は一人です。世帯主との続柄を入力してください。")
    for person_no, relationship in relationships.items():
        members[person_no].relationship = str(relationship)
    members[event.person_no].relationship = HEAD
    household.head = event.person_no
