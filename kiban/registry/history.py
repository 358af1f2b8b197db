"""Reading events back from ``registry_event`` and keeping ``person_version`` (states by period) in step with them."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, or_, select

from kiban.core.db import TenantSession
from kiban.registry.events import Event, EventType, Version, versions
from kiban.registry.models import PersonVersion, RegistryEvent


def event_of(row: RegistryEvent) -> Event:
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


def closed_history(db_session: TenantSession, *, persons: set[str], households: set[str]) -> list[Event]:
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
        new = [event_of(r) for r in db_session.scalars(query) if r.event_no not in found]
        if not new:
            return sorted(found.values(), key=lambda e: e.event_no)
        found.update((e.event_no, e) for e in new)
        persons |= {e.person_no for e in new}
        households |= {e.household_no for e in new}


def next_event_no(db_session: TenantSession) -> int:
    """Event numbers are dense per tenant: two transactions taking the same number conflict on the primary key
    and one rolls back, so numbers become visible in order (what the change feed relies on)."""
    return int(db_session.scalar(select(func.coalesce(func.max(RegistryEvent.event_no), 0))) or 0) + 1


def version_rows(lg_code: str, person_no: str, history: list[Version]) -> list[PersonVersion]:
    """``person_version`` rows for one person's successive states."""
    rows = []
    for i, version in enumerate(history):
        s = version.state
        address = s.address
        rows.append(
            PersonVersion(
                lg_code=lg_code,
                person_no=person_no,
                valid_from=version.valid_from,
                valid_to=history[i + 1].valid_from if i + 1 < len(history) else None,
                event_no=version.event_no,
                status=s.status.value,
                household_no=s.household_no,
                relationship=s.relationship,
                family_name=s.family_name,
                given_name=s.given_name,
                family_name_kana=s.family_name_kana,
                given_name_kana=s.given_name_kana,
                name=s.family_name + s.given_name,
                name_kana=s.family_name_kana + s.given_name_kana,
                birth_date=s.birth_date,
                sex=s.sex,
                nationality=s.nationality,
                residence_status=s.residence_status,
                residence_until=s.residence_until,
                resident_since=s.resident_since,
                address_since=s.address_since,
                left_on=s.left_on,
                destination=s.destination,
                postal_code=address.postal_code if address else "",
                pref_name=address.pref_name if address else "",
                city_name=address.city_name if address else "",
                town=address.town if address else "",
                banchi=address.banchi if address else "",
                address_key=(address.town + address.banchi) if address else "",
            )
        )
    return rows


def rewrite_versions(db_session: TenantSession, lg_code: str, events: list[Event]) -> None:
    """Replace the ``person_version`` rows of everyone in ``events`` (a closed history) by a fresh fold of it."""
    by_person = versions(events)
    db_session.execute(
        delete(PersonVersion)
        .where(PersonVersion.lg_code == lg_code, PersonVersion.person_no.in_(sorted(by_person)))
        .execution_options(synchronize_session=False)
    )
    for person_no, history in by_person.items():
        db_session.add_all(version_rows(lg_code, person_no, history))
    db_session.flush()
