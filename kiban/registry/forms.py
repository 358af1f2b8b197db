"""The registry's staff forms: which typed values each one keeps and which service verb records them.

Values are passed on as typed (full- or half-width): the services normalize and check them. Dates are read here, as
和暦 or 西暦 (``kiban.core.dates.parse_date``); a date that cannot be read stops the form before anything is
recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TypedDict

from kiban.core.dates import parse_date
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.registry import search, service
from kiban.registry.checks import Checks
from kiban.registry.events import EventType
from kiban.registry.models import RegistryEvent

Form = Mapping[str, str]
ADDRESS_FIELDS = ("postal_code", "pref_name", "city_name", "town", "banchi")
SEARCH_FIELDS = ("kana", "name", "birth_date", "address", "resident_code", "include_departed")
MOVE_IN_FIELDS = (
    "person_no",
    "household_no",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
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


def kept(form: Form, fields: tuple[str, ...]) -> dict[str, str]:
    """The typed values of ``fields`` ("" for those not sent), to show again with the errors."""
    return {name: form.get(name, "") for name in fields}


def _date(checks: Checks, form: Form, key: str, label: str) -> date:
    return checks.run(partial(parse_date, form.get(key, ""), field=label), date.min)


def _optional_date(checks: Checks, form: Form, key: str, label: str) -> date | None:
    return _date(checks, form, key, label) if form.get(key, "").strip() else None


def _optional(form: Form, key: str) -> str | None:
    return form.get(key, "").strip() or None


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
    event_no = service.register_move_in(
        db_session,
        actor=actor,
        person_no=form.get("person_no", ""),
        household_no=form.get("household_no", ""),
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
    row = db_session.get(RegistryEvent, (actor.lg_code, event_no))
    assert row is not None
    return row.person_no, event_no


def _move_within(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    checks = Checks()
    effective_date = _date(checks, form, "effective_date", "異動日")
    checks.done()
    return service.register_move_within(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=effective_date,
        **_address(form),
        new_household_no=_optional(form, "new_household_no"),
        new_head_person_no=_optional(form, "new_head_person_no"),
    )


def _move_out(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    checks = Checks()
    effective_date = _date(checks, form, "effective_date", "異動日")
    checks.done()
    return service.register_move_out(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=effective_date,
        destination=form.get("destination", ""),
        new_head_person_no=_optional(form, "new_head_person_no"),
    )


def _death(db_session: TenantSession, actor: Principal, person_no: str, form: Form) -> int:
    checks = Checks()
    effective_date = _date(checks, form, "effective_date", "異動日")
    checks.done()
    return service.register_death(
        db_session,
        actor=actor,
        person_no=person_no,
        effective_date=effective_date,
        new_head_person_no=_optional(form, "new_head_person_no"),
    )


@dataclass(frozen=True)
class PersonEventForm:
    """A form recording a 異動 of one recorded person (its page is ``registry/<event type>.html``)."""

    event_type: EventType
    fields: tuple[str, ...]
    record: Callable[[TenantSession, Principal, str, Form], int]

    @property
    def template(self) -> str:
        return f"registry/{self.event_type.value}.html"


PERSON_FORMS: dict[str, PersonEventForm] = {
    "move-within": PersonEventForm(
        EventType.MOVE_WITHIN,
        ("effective_date", *ADDRESS_FIELDS, "new_household_no", "new_head_person_no"),
        _move_within,
    ),
    "move-out": PersonEventForm(EventType.MOVE_OUT, ("effective_date", "destination", "new_head_person_no"), _move_out),
    "death": PersonEventForm(EventType.DEATH, ("effective_date", "new_head_person_no"), _death),
}
"""By the last part of the form's path (``/registry/persons/<宛名番号>/<kind>``)."""
