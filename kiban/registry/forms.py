"""The registry's staff forms: which typed values each one keeps and which service verb records them. A person's
forms (``PERSON_FORMS``: 転居, 転出, 死亡, 職権消除, 世帯分離, 氏名変更, 転出取消, 誤記修正) act on the person in
their path; a household's (``HOUSEHOLD_FORMS``: 出生, 世帯主変更, 世帯合併) on the household in theirs, and may ask
each member's 続柄 (inputs ``relationship_<宛名番号>``).

A new person's 宛名番号 and a new household's 世帯番号 (転入, 出生, 世帯分離, 転居 to a new household) may be left
blank: the next free number is taken (``kiban.registry.numbering``).

Values are passed on as typed (full- or half-width): the services normalize and check them. Dates are read here, as
和暦 or 西暦 (``kiban.core.dates.parse_date``); a date that cannot be read stops the form before anything is
recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TypedDict

from kiban.core.dates import parse_date
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.registry import numbering, search, service, transfer
from kiban.registry.checks import Checks
from kiban.registry.events import Address, EventType, PersonState, Status
from kiban.registry.models import RegistryEvent

Form = Mapping[str, str]
ADDRESS_FIELDS = ("postal_code", "pref_name", "city_name", "town", "banchi")
NAME_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana")
SEARCH_FIELDS = ("kana", "name", "birth_date", "address", "resident_code", "include_departed")
MOVE_IN_FIELDS = (
    "person_no",
    "household_no",
    *NAME_FIELDS,
    "birth_date",
    "sex",
    "relationship",
    *ADDRESS_FIELDS,
    "effective_date",
    "resident_code",
    "nationality",
    "residence_status",
    "residence_until",
    "confirmed_distinct",
)
BIRTH_FIELDS = ("person_no", *NAME_FIELDS, "birth_date", "sex", "relationship", "confirmed_distinct")
RELATIONSHIP_PREFIX = "relationship_"
"""A household form's input for one member's 続柄 is ``relationship_<宛名番号>``."""


def kept(form: Form, fields: tuple[str, ...]) -> dict[str, str]:
    """The typed values of ``fields`` ("" for those not sent), to show again with the errors."""
    return {name: form.get(name, "") for name in fields}


def _date(checks: Checks, form: Form, key: str, label: str) -> date:
    return checks.run(partial(parse_date, form.get(key, ""), field=label), date.min)


def _optional_date(checks: Checks, form: Form, key: str, label: str) -> date | None:
    return _date(checks, form, key, label) if form.get(key, "").strip() else None


def _optional(form: Form, key: str) -> str | None:
    return form.get(key, "").strip() or None


def _effective_date(form: Form) -> date:
    """The 異動日 of a form whose other values the service checks (an unreadable date stops it first)."""
    checks = Checks()
    effective_date = _date(checks, form, "effective_date", "異動日")
    checks.done()
    return effective_date


def _relationships(form: Form) -> dict[str, str]:
    """The 続柄 typed for each member (by 宛名番号), blank ones left out."""
    return {
        key.removeprefix(RELATIONSHIP_PREFIX): value
        for key, value in form.items()
        if key.startswith(RELATIONSHIP_PREFIX) and value.strip()
    }


def person_of_event(db_session: TenantSession, actor: Principal, event_no: int) -> str:
    """The (normalized) 宛名番号 of the person whose 異動 ``event_no`` is: the page that shows it once recorded."""
    row = db_session.get(RegistryEvent, (actor.lg_code, event_no))
    assert row is not None
    return row.person_no


class AddressFields(TypedDict):
    postal_code: str
    pref_name: str
    city_name: str
    town: str
    banchi: str


def _address(form: Form) -> AddressFields:
    return AddressFields(
        postal_code=form.get("postal_code", ""),
        pref_name=form.get("pref_name", ""),
        city_name=form.get("city_name", ""),
        town=form.get("town", ""),
        banchi=form.get("banchi", ""),
    )


def is_search(form: Form) -> bool:
    """Whether any search criterion was typed (the page opens with an empty form)."""
    return any(form.get(key, "").strip() for key in SEARCH_FIELDS if key != "include_departed")


def run_search(db_session: TenantSession, actor: Principal, form: Form) -> list[search.Hit]:
    checks = Checks()
    birth_date = _optional_date(checks, form, "birth_date", "生年月日")
    checks.done()
    return search.search(
        db_session,
        actor=actor,
        name=form.get("name", ""),
        kana=form.get("kana", ""),
        birth_date=birth_date,
        address=form.get("address", ""),
        resident_code=form.get("resident_code", ""),
        include_departed=bool(form.get("include_departed")),
    )


def record_move_in(db_session: TenantSession, actor: Principal, form: Form) -> tuple[str, int]:
    """転入 from the form; returns the (normalized) 宛名番号 and the event number."""
    checks = Checks()
    birth_date = _date(checks, form, "birth_date", "生年月日")
    effective_date = _date(checks, form, "effective_date", "異動日")
    residence_until = _optional_date(checks, form, "residence_until", "在留期間")
    checks.done()

    def record(numbers: dict[str, str]) -> int:
        return service.register_move_in(
            db_session,
            actor=actor,
            person_no=numbers["person_no"],
            household_no=numbers["household_no"],
            family_name=form.get("family_name", ""),
            given_name=form.get("given_name", ""),
            family_name_kana=form.get("family_name_kana", ""),
            given_name_kana=form.get("given_name_kana", ""),
            birth_date=birth_date,
            sex=form.get("sex", ""),
            relationship=form.get("relationship", ""),
            **_address(form),
            effective_date=effective_date,
            resident_code=_optional(form, "resident_code"),
            nationality=form.get("nationality", "").strip() or "JPN",
            residence_status=_optional(form, "residence_status"),
            residence_until=residence_until,
            confirmed_distinct=bool(form.get("confirmed_distinct")),
        )

    event_no = numbering.numbered(db_session, kept(form, ("person_no", "household_no")), record)
    return person_of_event(db_session, actor, event_no), event_no


def _move_within(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    """The person alone moves to a new household when one is asked for (``new_household``) or its 世帯番号 typed."""
    effective_date = _effective_date(form)

    def record(numbers: dict[str, str]) -> int:
        return service.register_move_within(
            db_session,
            actor=actor,
            person_no=person_no,
            effective_date=effective_date,
            **_address(form),
            new_household_no=numbers.get("new_household_no"),
            new_head_person_no=_optional(form, "new_head_person_no"),
        )

    alone = bool(form.get("new_household") or _optional(form, "new_household_no"))
    return numbering.numbered(db_session, kept(form, ("new_household_no",)) if alone else {}, record)


def _move_out(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    return service.register_move_out(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=_effective_date(form),
        destination=form.get("destination", ""),
        new_head_person_no=_optional(form, "new_head_person_no"),
    )


def _death(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    return service.register_death(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=_effective_date(form),
        new_head_person_no=_optional(form, "new_head_person_no"),
    )


def _official_removal(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    return service.register_official_removal(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=_effective_date(form),
        reason=form.get("reason", ""),
        new_head_person_no=_optional(form, "new_head_person_no"),
    )


def _household_split(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    effective_date = _effective_date(form)

    def record(numbers: dict[str, str]) -> int:
        return service.register_household_split(
            db_session,
            actor=actor,
            person_no=person_no,
            new_household_no=numbers["new_household_no"],
            effective_date=effective_date,
            new_head_person_no=_optional(form, "new_head_person_no"),
        )

    return numbering.numbered(db_session, kept(form, ("new_household_no",)), record)


def _name_change(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    """Blank name items stay as they are."""
    return service.register_name_change(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=_effective_date(form),
        family_name=_optional(form, "family_name"),
        given_name=_optional(form, "given_name"),
        family_name_kana=_optional(form, "family_name_kana"),
        given_name_kana=_optional(form, "given_name_kana"),
    )


def _move_out_cancel(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    return transfer.cancel_move_out(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=_effective_date(form),
        relationship=_optional(form, "relationship"),
    )


def _correction(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    """誤記修正 of one of the 異動 the person's timeline lists: its 異動日, its address, or both (blank: unchanged).
    Returns that 異動's number: the timeline shows the correction in its place, under its number."""
    checks = Checks()
    effective_date = _optional_date(checks, form, "effective_date", "異動日")
    listed = {e.event_no for e in service.person_events(db_session, actor=actor, person_no=person_no)}
    chosen = form.get("event_no", "").strip()
    event_no = int(chosen) if chosen.isdecimal() else 0
    if event_no not in listed:
        checks.add("異動番号", chosen, "この人の異動の履歴から、修正する異動を選んでください。")
    checks.done()
    typed_address = any(form.get(key, "").strip() for key in ADDRESS_FIELDS)
    service.correct_event(
        db_session,
        actor=actor,
        event_no=event_no,
        effective_date=effective_date,
        address=Address(**_address(form)) if typed_address else None,
    )
    return event_no


def _birth(db_session: TenantSession, actor: Principal, household_no: str, form: Form) -> int:
    checks = Checks()
    birth_date = _date(checks, form, "birth_date", "生年月日")
    checks.done()

    def record(numbers: dict[str, str]) -> int:
        return service.register_birth(
            db_session,
            actor=actor,
            person_no=numbers["person_no"],
            household_no=household_no,
            family_name=form.get("family_name", ""),
            given_name=form.get("given_name", ""),
            family_name_kana=form.get("family_name_kana", ""),
            given_name_kana=form.get("given_name_kana", ""),
            birth_date=birth_date,
            sex=form.get("sex", ""),
            relationship=form.get("relationship", ""),
            confirmed_distinct=bool(form.get("confirmed_distinct")),
        )

    return numbering.numbered(db_session, kept(form, ("person_no",)), record)


def _change_head(db_session: TenantSession, actor: Principal, household_no: str, form: Form) -> int:
    return service.change_head(
        db_session,
        actor=actor,
        household_no=household_no,
        new_head_person_no=form.get("new_head_person_no", ""),
        effective_date=_effective_date(form),
        relationships=_relationships(form),
    )


def _household_merge(db_session: TenantSession, actor: Principal, household_no: str, form: Form) -> int:
    return service.register_household_merge(
        db_session,
        actor=actor,
        household_no=household_no,
        into_household_no=form.get("into_household_no", ""),
        effective_date=_effective_date(form),
        relationships=_relationships(form),
    )


Record = Callable[[TenantSession, Principal, str, Form], int]
"""Records a form's values for the 宛名番号 or 世帯番号 in its path; returns the 異動番号 the timeline shows."""


def _nothing(state: PersonState) -> dict[str, str]:
    return {}


def _current_city(state: PersonState) -> dict[str, str]:
    """転居 is within the municipality: its 都道府県 and 市区町村 start as the current ones."""
    address = state.address
    return {"pref_name": address.pref_name, "city_name": address.city_name} if address else {}


@dataclass(frozen=True)
class PersonEventForm:
    """A form recording a 異動 of one recorded person, or correcting one (its page is ``registry/<page>.html``)."""

    label: str
    """What it records, as its heading and buttons say."""
    page: str
    fields: tuple[str, ...]
    record: Record
    statuses: frozenset[Status] = frozenset({Status.RESIDENT})
    """Whose page offers it (by the person's status)."""
    prefill: Callable[[PersonState], dict[str, str]] = _nothing
    """The values an empty form starts with."""
    shows_history: bool = False
    """Whether its page lists the person's 異動 (to choose one)."""

    @property
    def template(self) -> str:
        return f"registry/{self.page}.html"


PERSON_FORMS: dict[str, PersonEventForm] = {
    "move-within": PersonEventForm(
        EventType.MOVE_WITHIN.label,
        "move_within",
        ("effective_date", *ADDRESS_FIELDS, "new_household", "new_household_no", "new_head_person_no"),
        _move_within,
        prefill=_current_city,
    ),
    "move-out": PersonEventForm(
        EventType.MOVE_OUT.label, "move_out", ("effective_date", "destination", "new_head_person_no"), _move_out
    ),
    "death": PersonEventForm(EventType.DEATH.label, "death", ("effective_date", "new_head_person_no"), _death),
    "official-removal": PersonEventForm(
        EventType.OFFICIAL_REMOVAL.label,
        "official_removal",
        ("effective_date", "reason", "new_head_person_no"),
        _official_removal,
    ),
    "household-split": PersonEventForm(
        EventType.HOUSEHOLD_SPLIT.label,
        "household_split",
        ("effective_date", "new_household_no", "new_head_person_no"),
        _household_split,
    ),
    "name-change": PersonEventForm(
        EventType.NAME_CHANGE.label, "name_change", ("effective_date", *NAME_FIELDS), _name_change
    ),
    "move-out-cancel": PersonEventForm(
        EventType.MOVE_OUT_CANCEL.label,
        "move_out_cancel",
        ("effective_date", "relationship"),
        _move_out_cancel,
        statuses=frozenset({Status.MOVED_OUT}),
    ),
    "correction": PersonEventForm(
        "誤記修正",
        "correction",
        ("event_no", "effective_date", *ADDRESS_FIELDS),
        _correction,
        statuses=frozenset(Status),
        shows_history=True,
    ),
}
"""By the last part of the form's path (``/registry/persons/<宛名番号>/<kind>``)."""


def offered(state: PersonState) -> dict[str, PersonEventForm]:
    """The person forms the person's page offers, by their status (転出取消 only after a 転出)."""
    return {kind: spec for kind, spec in PERSON_FORMS.items() if state.status in spec.statuses}


@dataclass(frozen=True)
class HouseholdEventForm:
    """A form recording a 異動 of a household (its page is ``registry/<page>.html``)."""

    label: str
    page: str
    fields: tuple[str, ...]
    """Its fixed inputs; each member's 続柄 (``relationship_<宛名番号>``) comes on top."""
    record: Record
    starts_with: Mapping[str, str] = field(default_factory=dict)
    """The values an empty form starts with."""

    @property
    def template(self) -> str:
        return f"registry/{self.page}.html"

    def kept(self, form: Form) -> dict[str, str]:
        """The typed values, members' 続柄 included, to show again with the errors."""
        members = {key: value for key, value in form.items() if key.startswith(RELATIONSHIP_PREFIX)}
        return {**kept(form, self.fields), **members}


HOUSEHOLD_FORMS: dict[str, HouseholdEventForm] = {
    "birth": HouseholdEventForm(EventType.BIRTH.label, "birth", BIRTH_FIELDS, _birth, {"relationship": "子"}),
    "change-head": HouseholdEventForm(
        EventType.CHANGE_HEAD.label, "change_head", ("effective_date", "new_head_person_no"), _change_head
    ),
    "merge": HouseholdEventForm(
        EventType.HOUSEHOLD_MERGE.label, "household_merge", ("effective_date", "into_household_no"), _household_merge
    ),
}
"""By the last part of the form's path (``/registry/households/<世帯番号>/<kind>``)."""
