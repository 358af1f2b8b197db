"""The registry's change feed: every 異動 in the order it was recorded, for other business systems (tax, benefits,
school, …) to follow the register without reading its tables — the PULL-type linkage of the 地方公共団体情報システム
標準化 (「データ連携機能の標準仕様」: the receiving system asks for the changes since its last position).

The feed is ``registry_event`` itself: event numbers are dense per tenant and become visible in order (see
``kiban.registry.history.next_event_no``), so "everything after position P" never skips or repeats an event. A
consumer's position is kept in ``registry_feed_cursor`` and only moves forward, to a position it has been given,
so a consumer that restarts resumes exactly where it acknowledged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError
from kiban.core.identity.permissions import Principal
from kiban.core.jtext import FieldKind
from kiban.registry.access import PURPOSE, may_read
from kiban.registry.checks import Checks
from kiban.registry.history import event_of
from kiban.registry.models import FeedCursor, RegistryEvent

MAX_BATCH = 1000


@dataclass(frozen=True)
class Change:
    event_no: int
    event_type: str
    label: str
    person_no: str
    household_no: str
    effective_date: date
    recorded_at: date
    corrects_event_no: int | None
    payload: dict[str, Any]


def changes(db_session: TenantSession, *, actor: Principal, after: int, limit: int = MAX_BATCH) -> list[Change]:
    """The events recorded after position ``after`` (an event number; 0 for the beginning), at most ``limit``."""
    may_read(db_session, actor)
    if after < 0 or not 1 <= limit <= MAX_BATCH:
        raise InputError(
            FieldError("位置", f"{after}/{limit}", f"0以上の位置と、1〜{MAX_BATCH}の件数を指定してください。")
        )
    rows = db_session.scalars(
        select(RegistryEvent).where(RegistryEvent.event_no > after).order_by(RegistryEvent.event_no).limit(limit)
    )
    found = [event_of(r) for r in rows]
    record(
        db_session,
        actor=actor,
        action="registry.feed.read",
        purpose=PURPOSE,
        detail={"after": after, "count": len(found)},
    )
    return [
        Change(
            event_no=e.event_no,
            event_type=e.event_type.value,
            label=e.event_type.label,
            person_no=e.person_no,
            household_no=e.household_no,
            effective_date=e.effective_date,
            recorded_at=e.recorded_at,
            corrects_event_no=e.corrects_event_no,
            payload=e.payload,
        )
        for e in found
    ]


def _consumer(checks: Checks, consumer: str) -> str:
    name = checks.text(consumer, FieldKind.ALNUM, "連携先", 40)
    checks.done()
    return name


def position(db_session: TenantSession, *, actor: Principal, consumer: str) -> int:
    """The last event number ``consumer`` acknowledged (0 if it never did)."""
    lg_code = may_read(db_session, actor)
    name = _consumer(Checks(), consumer)
    row = db_session.get(FeedCursor, (lg_code, name))
    return row.position if row else 0


def acknowledge(
    db_session: TenantSession, *, actor: Principal, consumer: str, to: int, today: date | None = None
) -> int:
    """Move ``consumer``'s position to ``to`` once it has processed every event up to it. A position may not go
    back (that would deliver events twice) nor past the last recorded event (that would skip events)."""
    lg_code = may_read(db_session, actor)
    checks = Checks()
    name = _consumer(checks, consumer)
    row = db_session.get(FeedCursor, (lg_code, name), with_for_update=True)
    current = row.position if row else 0
    last = int(db_session.scalar(select(func.coalesce(func.max(RegistryEvent.event_no), 0))) or 0)
    if to < current:
        checks.add("位置", str(to), f"位置は戻せません（現在 {current}）。{current} 以上を指定してください。")
    if to > last:
        checks.add("位置", str(to), f"まだ記録されていない異動です。{last} 以下を指定してください。")
    checks.done()
    if row is None:
        db_session.add(FeedCursor(lg_code=lg_code, consumer=name, position=to, updated_at=today or date.today()))
    else:
        row.position, row.updated_at = to, today or date.today()
    record(
        db_session,
        actor=actor,
        action="registry.feed.acknowledge",
        purpose=PURPOSE,
        subject=name,
        detail={"from": current, "to": to},
    )
    return to
