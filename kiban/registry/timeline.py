"""A person's history as staff read it: every 異動 in 異動日 order with what it changed, in Japanese, and the
versions a 誤記修正 replaced (shown, never hidden). The registry's pages and API both read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from kiban.core.dates import to_wareki
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.registry import service
from kiban.registry.events import Address, Event, EventType
from kiban.registry.history import event_of
from kiban.registry.models import RegistryEvent

SEX_LABELS = {"male": "男", "female": "女"}


def sex_label(sex: str) -> str:
    return SEX_LABELS.get(sex, sex)


def address_text(address: Address | None) -> str:
    """「〒100-0001 東京都千代田区千代田1-1」 ("" when there is none)."""
    if address is None:
        return ""
    code = address.postal_code
    return f"〒{code[:3]}-{code[3:]} {address.pref_name}{address.city_name}{address.town}{address.banchi}"


def _names(payload: dict[str, Any]) -> list[str]:
    keys = ("family_name", "given_name", "family_name_kana", "given_name_kana")
    if all(k in payload for k in keys):
        name = f"{payload['family_name']}　{payload['given_name']}"
        return [f"氏名：{name}（{payload['family_name_kana']}　{payload['given_name_kana']}）"]
    return [f"{label}：{payload[key]}" for key, _, label, _ in service.NAME_FIELDS if key in payload]


def _day(payload: dict[str, Any], key: str) -> str:
    return to_wareki(date.fromisoformat(str(payload[key])))


def describe(event: Event) -> list[str]:
    """What the event recorded, one Japanese line per item (the 異動事由 itself is the event's label)."""
    p = event.payload
    lines = _names(p)
    if "birth_date" in p:
        lines.append(f"生年月日：{_day(p, 'birth_date')}")
    if "sex" in p:
        lines.append(f"性別：{sex_label(str(p['sex']))}")
    if str(p.get("nationality") or "JPN") != "JPN":
        lines.append(f"国籍：{p['nationality']}")
    if p.get("residence_status"):
        lines.append(f"在留資格：{p['residence_status']}")
    if p.get("residence_until"):
        lines.append(f"在留期間の満了日：{_day(p, 'residence_until')}")
    if "relationship" in p:
        lines.append(f"世帯番号：{event.household_no}（続柄：{p['relationship']}）")
    if "address" in p:
        lines.append(f"住所：{address_text(Address.from_json(p['address']))}")
    if p.get("new_household_no"):
        lines.append(f"新しい世帯番号：{p['new_household_no']}")
    if p.get("new_head_person_no"):
        lines.append(f"新しい世帯主：宛名番号 {p['new_head_person_no']}")
    for person_no, relationship in sorted((p.get("relationships") or {}).items()):
        lines.append(f"続柄：宛名番号 {person_no} は{relationship}")
    if event.event_type in (EventType.CHANGE_HEAD, EventType.HOUSEHOLD_MERGE):
        lines.append(f"世帯番号：{event.household_no}")
    if p.get("destination"):
        lines.append(f"転出先：{p['destination']}")
    if p.get("reason"):
        lines.append(f"理由：{p['reason']}")
    if p.get("moved_from"):
        moved = p["moved_from"]
        lines.append(f"転出証明書：団体コード {moved.get('lg_code', '')} 第{moved.get('certificate_no', '')}号")
    for key, label in (("resident_since", "住民となった日"), ("address_since", "住所を定めた日")):
        if p.get(key):
            lines.append(f"{label}：{_day(p, key)}")
    return lines


@dataclass(frozen=True)
class Superseded:
    """A version of an event that a later 誤記修正 replaced."""

    recorded_at: date
    effective_date: date
    changes: list[str]


@dataclass(frozen=True)
class Entry:
    """One 異動 of a person's timeline, as known now (corrections applied)."""

    event_no: int
    event_type: EventType
    effective_date: date
    """異動日."""
    recorded_at: date
    """記録日 of the original 届出 (or 職権)."""
    changes: list[str]
    person_no: str
    """Whose 異動 it is: another member's for a 転居 of the whole household or a 世帯主変更."""
    corrected_on: date | None = None
    """記録日 of the 誤記修正 in force, if any."""
    superseded: tuple[Superseded, ...] = ()
    """Earlier versions, oldest first (the original 届出 first)."""

    @property
    def label(self) -> str:
        return self.event_type.label


def person_timeline(db_session: TenantSession, *, actor: Principal, person_no: str) -> list[Entry]:
    """The person's 異動 in 異動日 order (``service.person_events``, audited), each with what it changed and, for a
    corrected one, the versions it replaced."""
    events = service.person_events(db_session, actor=actor, person_no=person_no)
    roots = [e.event_no for e in events if e.corrects_event_no is not None]
    versions: dict[int, list[Event]] = {}
    if roots:
        query = select(RegistryEvent).where(
            or_(RegistryEvent.event_no.in_(roots), RegistryEvent.corrects_event_no.in_(roots))
        )
        for row in db_session.scalars(query.order_by(RegistryEvent.event_no)):
            versions.setdefault(row.corrects_event_no or row.event_no, []).append(event_of(row))
    entries = []
    for event in events:
        history = versions.get(event.event_no, [])
        entries.append(
            Entry(
                event_no=event.event_no,
                event_type=event.event_type,
                effective_date=event.effective_date,
                recorded_at=history[0].recorded_at if history else event.recorded_at,
                changes=describe(event),
                person_no=event.person_no,
                corrected_on=event.recorded_at if history else None,
                superseded=tuple(Superseded(v.recorded_at, v.effective_date, describe(v)) for v in history[:-1]),
            )
        )
    return entries
