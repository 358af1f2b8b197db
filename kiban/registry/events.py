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
    HOUSEHOLD_SPLIT = "household_split"
    HOUSEHOLD_MERGE = "household_merge"
    OFFICIAL_ENTRY = "official_entry"
    OFFICIAL_REMOVAL = "official_removal"
    MOVE_OUT_CANCEL = "move_out_cancel"
    MIGRATION = "migration"

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
    EventType.HOUSEHOLD_SPLIT: "世帯分離",
    EventType.HOUSEHOLD_MERGE: "世帯合併",
    EventType.OFFICIAL_ENTRY: "職権記載",
    EventType.OFFICIAL_REMOVAL: "職権消除",
    EventType.MOVE_OUT_CANCEL: "転出取消",
    EventType.MIGRATION: "移行",
}
"""異動事由 as printed. ``MIGRATION`` (移行) records a person as the legacy system held them when a municipality is
onboarded (or a synthetic population is seeded): state taken as given, dates included."""

ARRIVALS = frozenset({EventType.MOVE_IN, EventType.BIRTH, EventType.OFFICIAL_ENTRY, EventType.MIGRATION})
"""Events that create a person's record in the municipality."""


class Status(StrEnum):
    RESIDENT = "resident"
    MOVED_OUT = "moved_out"
    DEAD = "dead"
    REMOVED = "removed"

    @property
    def label(self) -> str:
        return {"resident": "住民", "moved_out": "転出", "dead": "死亡", "removed": "消除"}[self.value]


LEAVING_STATUS = {
    EventType.MOVE_OUT: Status.MOVED_OUT,
    EventType.DEATH: Status.DEAD,
    EventType.OFFICIAL_REMOVAL: Status.REMOVED,
}


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
    nationality: str = "JPN"
    """ISO 3166-1 alpha-3; 外国人住民 (住民基本台帳法第30条の45) have another."""
    residence_status: str | None = None
    """在留資格 (foreign residents)."""
    residence_until: date | None = None
    """在留期間の満了日 (foreign residents)."""


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
        _apply_or_skip(world, event, strict=strict)
    return world


def _apply_or_skip(world: World, event: Event, *, strict: bool) -> None:
    try:
        apply(world, event)
    except InputError:
        if strict:
            raise


@dataclass(frozen=True)
class Version:
    """A person's state from ``valid_from`` (異動日) until the next version's."""

    valid_from: date
    event_no: int
    state: PersonState


def versions(events: Iterable[Event]) -> dict[str, list[Version]]:
    """Every person's successive states (as known now): what the ``person_version`` table holds. Several events on
    one 異動日 give one version (the state at the end of that day)."""
    world = World()
    found: dict[str, list[Version]] = {}
    for event in effective_events(events):
        concerned = _concerned(world, event)
        _apply_or_skip(world, event, strict=False)
        for person_no in concerned:
            state = world.persons.get(person_no)
            if state is None:
                continue
            history = found.setdefault(person_no, [])
            if history and history[-1].state == state:
                continue
            version = Version(event.effective_date, event.event_no, replace(state))
            if history and history[-1].valid_from == event.effective_date:
                history[-1] = version
            else:
                history.append(version)
    return found


def _concerned(world: World, event: Event) -> set[str]:
    """Everyone whose state ``event`` may change: the person, and the residents of every household it touches."""
    households = {event.household_no, str(event.payload.get("new_household_no") or "")}
    person = world.persons.get(event.person_no)
    if person is not None:
        households.add(person.household_no)
    concerned = {event.person_no}
    for household_no in households:
        concerned |= world.residents_by_household.get(household_no, set())
    return concerned


# --- rules ----------------------------------------------------------------------------------------------------------


def apply(world: World, event: Event) -> None:
    """Apply one event to ``world`` (in place), or raise ``InputError`` leaving it unchanged."""
    person = world.persons.get(event.person_no)
    if event.event_type in ARRIVALS:
        _check_new_person(person, event)
        _arrive(world, event)
        return
    if event.event_type is EventType.MOVE_OUT_CANCEL:
        _cancel_move_out(world, _moved_out(person, event), event)
        return
    person = _resident(person, event)
    if event.effective_date < person.birth_date:
        raise _error(
            "異動日",
            event.effective_date.isoformat(),
            f"生年月日（{person.birth_date.isoformat()}）以降の日付を入力してください。",
        )
    match event.event_type:
        case EventType.MOVE_WITHIN:
            _move_within(world, person, event)
        case EventType.HOUSEHOLD_SPLIT:
            _split(world, person, event)
        case EventType.HOUSEHOLD_MERGE:
            _merge(world, person, event)
        case EventType.MOVE_OUT | EventType.DEATH | EventType.OFFICIAL_REMOVAL:
            _leave(world, person, event)
        case EventType.CHANGE_HEAD:
            _change_head(world, event)
        case EventType.NAME_CHANGE:
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
    returning = event.event_type in (EventType.MOVE_IN, EventType.OFFICIAL_ENTRY)
    if not returning or person.status is Status.RESIDENT:
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
    if event.event_type is EventType.MIGRATION:
        address = Address.from_json(p["address"])
        if relationship == HEAD and household is not None and household.head is not None and members:
            raise _error("続柄", relationship, "この世帯にはすでに世帯主がいます。世帯主との続柄を入力してください。")
    elif event.event_type is EventType.BIRTH:
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
    elif event.event_type is EventType.MIGRATION:
        world.households[event.household_no].address = address
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
        resident_since=_date(p, "resident_since") or event.effective_date,
        address_since=_date(p, "address_since") or event.effective_date,
        address=address,
        nationality=str(p.get("nationality") or "JPN"),
        residence_status=_optional_str(p, "residence_status"),
        residence_until=_date(p, "residence_until"),
    )
    world.settle(arrived, event.household_no)


def _date(payload: dict[str, Any], key: str) -> date | None:
    value = payload.get(key)
    return None if value is None else date.fromisoformat(str(value))


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
    person.status = LEAVING_STATUS[event.event_type]
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


def _split(world: World, person: PersonState, event: Event) -> None:
    """世帯分離: the person founds a new household at the same address (住所を定めた日 unchanged)."""
    target = str(event.payload.get("new_household_no") or "")
    if not target or target == person.household_no or world.members(target):
        raise _error("新しい世帯番号", target, "住民のいない新しい世帯番号を指定してください。")
    _hand_over(world, person, _optional_str(event.payload, "new_head_person_no"))
    world.households[target] = HouseholdState(target, person.person_no, person.address)
    world.settle(person, target)
    person.relationship = HEAD


def _merge(world: World, person: PersonState, event: Event) -> None:
    """世帯合併: the person's whole household joins household ``event.household_no`` at the same address;
    ``relationships`` gives every joining member's 続柄 to that household's head."""
    source = world.households[person.household_no]
    target = world.households.get(event.household_no)
    if target is None or event.household_no == person.household_no or not world.members(event.household_no):
        raise _error("合併先の世帯番号", event.household_no, "住民のいる別の世帯の世帯番号を指定してください。")
    if target.address != source.address:
        raise _error(
            "合併先の世帯番号",
            event.household_no,
            "世帯合併は同じ住所の世帯どうしで行います。住所が違う場合は先に転居を記録してください。",
        )
    joining = world.members(person.household_no)
    relationships: dict[str, Any] = event.payload.get("relationships", {})
    missing = [m.person_no for m in joining if not str(relationships.get(m.person_no) or "")]
    if missing or set(relationships) - {m.person_no for m in joining}:
        raise _error(
            "続柄",
            "、".join(missing) or "、".join(sorted(set(relationships) - {m.person_no for m in joining})),
            "合併する世帯の全員について、合併先の世帯主との続柄を入力してください（それ以外の人は指定できません）。",
        )
    if HEAD in relationships.values():
        raise _error("続柄", HEAD, "合併先の世帯にはすでに世帯主がいます。世帯主との続柄を入力してください。")
    source.head = None
    for member in joining:
        world.settle(member, event.household_no)
        member.relationship = str(relationships[member.person_no])


def _moved_out(person: PersonState | None, event: Event) -> PersonState:
    if person is None or person.status is not Status.MOVED_OUT:
        raise _error("宛名番号", event.person_no, "転出が記録されている人の宛名番号を指定してください。")
    if person.left_on is not None and event.effective_date < person.left_on:
        raise _error("異動日", event.effective_date.isoformat(), "転出日以降の日付を入力してください。")
    return person


def _cancel_move_out(world: World, person: PersonState, event: Event) -> None:
    """転出取消: the person did not leave after all and is a resident again, in the household and at the address
    they left (住民基本台帳法施行令第13条: the 転出 is undone). If that household has residents at another address the
    cancellation is refused; if its head changed, ``relationship`` gives the person's 続柄 to the new head."""
    household = world.households[person.household_no]
    members = world.members(person.household_no)
    relationship = _optional_str(event.payload, "relationship")
    if not members:
        household.head, household.address = person.person_no, person.address
        person.relationship = HEAD
    else:
        if household.address != person.address:
            raise _error(
                "宛名番号", event.person_no, "元の世帯はその後転居しています。転出取消ではなく転入を記録してください。"
            )
        if person.relationship == HEAD or relationship is not None:
            if relationship is None or relationship == HEAD:
                fix = "世帯主が替わっています。新しい世帯主との続柄を入力してください。"
                raise _error("続柄", relationship or "", fix)
            person.relationship = relationship
    person.status = Status.RESIDENT
    person.left_on = None
    person.destination = None
    world.settle(person, person.household_no)
