"""Parameter values for the rules engine, and municipalities' own values.

Verbs: ``value`` (one parameter, one tenant, one date), ``values_on`` (all of them at once — what the rules engine
loads once per run), ``set_municipal_value``, ``history``, ``describe``, ``catalogue``.

Resolution of parameter P for tenant T on date D: among T's own values of P with ``effective_from <= D``, the one
with the latest ``effective_from`` (highest ``revision`` among equals) applies, unless it ended (``effective_until``
before D) or is null ("back to the national value"); otherwise the national value declared for D (for the 級地 of
T when it depends on it). A municipal value stays in force until the municipality replaces it, even if the national
value changes meanwhile: that is how a 条例 works. Values of parameters whose scope is national never read the
database.

Cache: resolved values are kept in process, keyed by (tenant, name, date), for at most ``CACHE_TTL_SECONDS``.
When ``set_municipal_value`` runs, the tenant's entries are dropped at once and again when the transaction commits,
and a session with an uncommitted change of a tenant neither reads nor fills that tenant's entries. So within one
process a committed change is seen immediately; another process (a second web worker) sees it within the TTL.
That bound is the trade-off for not asking the database on every call; the rules engine should load ``values_on``
once per run anyway, so one run uses one consistent set of values.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from kiban.core.audit.service import authorize, record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound, PermissionDenied
from kiban.core.identifiers import find_my_number_candidates
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.params.catalogue import (
    Catalogue,
    Parameter,
    ParamValue,
    coerce,
    default_catalogue,
    from_json,
    to_json,
)
from kiban.core.params.models import ParameterOverride
from kiban.core.tenants.models import Tenant

log = logging.getLogger(__name__)

ACTION_SET = "parameters.set"
PURPOSE = "パラメータ管理"
CACHE_TTL_SECONDS = 60.0
MAX_RATE_DECIMALS = 6
MAX_REASON_LENGTH = 1000
_PENDING = "kiban_params_pending"
"""``session.info`` key: tenants whose values the session changed and has not committed yet."""


# --- cache ----------------------------------------------------------------------------------------------------------


class _Cache:
    """Thread-safe, time-bounded, invalidated per tenant (the first element of every key)."""

    MAX_ENTRIES = 50_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[Hashable, ...], tuple[float, object]] = {}

    def get(self, key: tuple[Hashable, ...]) -> tuple[bool, object]:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return False, None
            if time.monotonic() - hit[0] > self.ttl:
                del self._entries[key]
                return False, None
            return True, hit[1]

    def put(self, key: tuple[Hashable, ...], value: object) -> None:
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), value)

    def invalidate(self, lg_code: str | None) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == lg_code]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache(CACHE_TTL_SECONDS)


def clear_cache() -> None:
    """Drop every cached value (operations, tests)."""
    _cache.clear()


def _cacheable(db_session: Session, lg_code: str | None) -> bool:
    return lg_code not in db_session.info.get(_PENDING, ())


@event.listens_for(TenantSession, "after_commit")
def _invalidate_committed(session: Session) -> None:
    for lg_code in session.info.pop(_PENDING, set()):
        _cache.invalidate(lg_code)


@event.listens_for(TenantSession, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


# --- declarations ---------------------------------------------------------------------------------------------------


def catalogue() -> Catalogue:
    """Every declared parameter, by name, in declaration order."""
    return default_catalogue()


def describe(name: str) -> Parameter:
    """The declaration of ``name``; :class:`NotFound` if it is not declared."""
    parameter = default_catalogue().get(name)
    if parameter is None:
        raise NotFound(f"パラメータ「{name}」は定義されていません。パラメータ一覧にある名前を指定してください。")
    return parameter


# --- reading --------------------------------------------------------------------------------------------------------


def _tenant(db_session: TenantSession, lg_code: str | None) -> str | None:
    if lg_code is None or lg_code == db_session.lg_code:
        return db_session.lg_code
    raise PermissionDenied(f"団体（{lg_code}）のパラメータは、その団体として開いたセッションでのみ参照できます。")


def _kyuchi(db_session: TenantSession, lg_code: str | None) -> int | None:
    if lg_code is None:
        return None
    key = (lg_code, "kyuchi")
    cacheable = _cacheable(db_session, lg_code)
    if cacheable:
        hit, cached = _cache.get(key)
        if hit:
            return cached if isinstance(cached, int) else None
    kyuchi = db_session.scalar(select(Tenant.kyuchi).where(Tenant.lg_code == lg_code))
    if cacheable:
        _cache.put(key, kyuchi)
    return kyuchi


def _applies(parameter: Parameter, on: date, kyuchi: int | None, own: ParameterOverride | None) -> ParamValue | None:
    if own is not None and (own.effective_until is None or on <= own.effective_until):
        raw = json.loads(own.value)
        if raw is not None:
            return from_json(parameter.type, raw)
    return parameter.national_value(on, kyuchi)


def _own_value(db_session: TenantSession, lg_code: str, name: str, on: date) -> ParameterOverride | None:
    stmt = (
        select(ParameterOverride)
        .where(
            ParameterOverride.lg_code == lg_code,
            ParameterOverride.name == name,
            ParameterOverride.effective_from <= on,
        )
        .order_by(ParameterOverride.effective_from.desc(), ParameterOverride.revision.desc())
        .limit(1)
    )
    return db_session.scalars(stmt).first()


def _missing(parameter: Parameter, on: date, lg_code: str | None, kyuchi: int | None) -> NotFound:
    entry = parameter.national_entry(on)
    if entry is not None and entry.by_kyuchi is not None and kyuchi is None:
        why = f"団体（{lg_code}）の級地が登録されていません" if lg_code else "団体が指定されていません"
        return NotFound(
            f"パラメータ「{parameter.label}」（{parameter.name}）は団体の生活保護 級地によって決まりますが、"
            f"{why}。市区町村の団体として参照してください。"
        )
    periods = "、".join(f"{n.start.isoformat()}〜{n.end.isoformat() if n.end else ''}" for n in parameter.national)
    return NotFound(
        f"パラメータ「{parameter.label}」（{parameter.name}）には{on.isoformat()}時点の値がありません。"
        f"値がある期間：{periods}"
    )


def value(db_session: TenantSession, name: str, on: date, *, lg_code: str | None = None) -> ParamValue:
    """The value of ``name`` for the tenant on ``on``: the municipality's own value if it set one, else the
    national value. ``lg_code`` defaults to (and must equal) the session's tenant; a session without a tenant
    gets national values. :class:`NotFound` for an undeclared name or when no value applies on ``on``."""
    parameter = describe(name)
    lg = _tenant(db_session, lg_code)
    key = (lg, "value", name, on)
    cacheable = _cacheable(db_session, lg)
    if cacheable:
        hit, cached = _cache.get(key)
        if hit:
            return cached  # type: ignore[return-value]  # only ParamValue is ever stored under this key
    kyuchi = _kyuchi(db_session, lg) if parameter.depends_on_kyuchi else None
    own = _own_value(db_session, lg, name, on) if lg is not None and parameter.municipal else None
    result = _applies(parameter, on, kyuchi, own)
    if result is None:
        raise _missing(parameter, on, lg, kyuchi)
    if cacheable:
        _cache.put(key, result)
    return result


def values_on(db_session: TenantSession, on: date, *, lg_code: str | None = None) -> dict[str, ParamValue]:
    """Every parameter that has a value on ``on`` for the tenant, by name (one query; what the rules engine loads
    once per run). Parameters without a value on that date are absent."""
    lg = _tenant(db_session, lg_code)
    key = (lg, "all", on)
    cacheable = _cacheable(db_session, lg)
    if cacheable:
        hit, cached = _cache.get(key)
        if hit and isinstance(cached, dict):
            return dict(cached)
    declared = default_catalogue()
    latest: dict[str, ParameterOverride] = {}
    if lg is not None:
        stmt = (
            select(ParameterOverride)
            .where(ParameterOverride.lg_code == lg, ParameterOverride.effective_from <= on)
            .order_by(ParameterOverride.effective_from.desc(), ParameterOverride.revision.desc())
        )
        for row in db_session.scalars(stmt):
            latest.setdefault(row.name, row)
    kyuchi = _kyuchi(db_session, lg) if any(p.depends_on_kyuchi for p in declared.values()) else None
    result: dict[str, ParamValue] = {}
    for name, parameter in declared.items():
        own = latest.get(name) if parameter.municipal else None
        resolved = _applies(parameter, on, kyuchi, own)
        if resolved is not None:
            result[name] = resolved
    if cacheable:
        _cache.put(key, dict(result))
    return result


@dataclass(frozen=True)
class HistoryEntry:
    """One value a municipality set, for the parameters screen."""

    name: str
    effective_from: date
    effective_until: date | None
    revision: int
    value: ParamValue | None
    """``None``: back to the national value from ``effective_from``."""
    set_by: str
    set_at: datetime
    reason: str
    superseded: bool
    """A later revision from the same date replaced it."""


def history(db_session: TenantSession, name: str, *, lg_code: str | None = None) -> list[HistoryEntry]:
    """Every value the tenant set for ``name``, oldest ``effective_from`` first (revisions in order)."""
    parameter = describe(name)
    lg = _tenant(db_session, lg_code)
    if lg is None:
        return []
    rows = list(
        db_session.scalars(
            select(ParameterOverride)
            .where(ParameterOverride.lg_code == lg, ParameterOverride.name == name)
            .order_by(ParameterOverride.effective_from, ParameterOverride.revision)
        )
    )
    last_revision: dict[date, int] = {}
    for row in rows:
        last_revision[row.effective_from] = max(row.revision, last_revision.get(row.effective_from, 0))
    entries: list[HistoryEntry] = []
    for row in rows:
        raw = json.loads(row.value)
        entries.append(
            HistoryEntry(
                name=row.name,
                effective_from=row.effective_from,
                effective_until=row.effective_until,
                revision=row.revision,
                value=None if raw is None else from_json(parameter.type, raw),
                set_by=row.set_by,
                set_at=row.set_at,
                reason=row.reason,
                superseded=row.revision < last_revision[row.effective_from],
            )
        )
    return entries


# --- writing --------------------------------------------------------------------------------------------------------


def _value_fix(parameter: Parameter) -> str:
    if parameter.type == "yen":
        return "円単位の整数で入力してください（例：3000）。"
    if parameter.type == "rate":
        return f"小数第{MAX_RATE_DECIMALS}位までの小数で入力してください（例：6%は 0.06）。"
    return "はい（true）かいいえ（false）で指定してください。"


def _bounds_fix(parameter: Parameter) -> str:
    assert parameter.bounds is not None
    low, high = parameter.bounds.minimum, parameter.bounds.maximum
    if parameter.type == "rate":
        return f"{low}（{parameter.format(low)}）以上{high}（{parameter.format(high)}）以下の小数で入力してください。"
    return f"{parameter.format(low)}以上{parameter.format(high)}以下で入力してください。"


def _checked_value(parameter: Parameter, raw: object) -> tuple[ParamValue | None, FieldError | None]:
    if raw is None:
        return None, None
    shown = str(raw)
    if isinstance(raw, float):
        return None, FieldError(
            parameter.label, shown, '小数は誤差が出ないよう文字列で指定してください（例："0.06"）。'
        )
    typed = coerce(parameter.type, raw)
    if typed is None:
        return None, FieldError(parameter.label, shown, _value_fix(parameter))
    if isinstance(typed, Decimal):
        exponent = typed.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_RATE_DECIMALS:
            return None, FieldError(parameter.label, shown, _value_fix(parameter))
    bounds = parameter.bounds
    if bounds is not None and not bounds.minimum <= typed <= bounds.maximum:
        return None, FieldError(parameter.label, shown, _bounds_fix(parameter))
    return typed, None


def _validate(
    parameter: Parameter | None,
    name: str,
    raw_value: object,
    effective_from: date,
    effective_until: date | None,
    reason: str,
) -> tuple[ParamValue | None, list[FieldError]]:
    errors: list[FieldError] = []
    typed: ParamValue | None = None
    if parameter is None:
        errors.append(
            FieldError("パラメータ名", name, "定義済みのパラメータ名を指定してください（パラメータ一覧を参照）。")
        )
    elif not parameter.municipal:
        errors.append(
            FieldError(
                "パラメータ名",
                name,
                f"「{parameter.label}」は法令で全国一律に定められているため、団体では設定できません。",
            )
        )
    else:
        typed, error = _checked_value(parameter, raw_value)
        if error is not None:
            errors.append(error)
        if parameter.national_entry(effective_from) is None:
            first = parameter.national[0].start.isoformat()
            errors.append(
                FieldError(
                    "適用開始日",
                    effective_from.isoformat(),
                    f"「{parameter.label}」はこの日には施行されていません。{first}以降の施行期間内の日付を指定してください。",
                )
            )
    if effective_until is not None and effective_until < effective_from:
        errors.append(
            FieldError(
                "適用終了日", effective_until.isoformat(), "適用開始日以降の日付を指定するか、空欄にしてください。"
            )
        )
    if not reason.strip():
        errors.append(FieldError("変更理由", reason, "変更の理由（根拠となる条例とその条項など）を入力してください。"))
    elif len(reason) > MAX_REASON_LENGTH:
        errors.append(FieldError("変更理由", reason[:40] + "…", f"{MAX_REASON_LENGTH}文字以内で入力してください。"))
    elif find_my_number_candidates(reason):
        # The reason goes to the audit log, which never holds a My Number (番号法第19条); the value is not echoed.
        errors.append(
            FieldError("変更理由", "（個人番号と思われる数字を含む入力）", "個人番号を含めずに入力してください。")
        )
    return typed, errors


def set_municipal_value(
    db_session: TenantSession,
    *,
    actor: Principal,
    name: str,
    value: object,
    effective_from: date,
    reason: str,
    effective_until: date | None = None,
) -> ParameterOverride:
    """Set the session tenant's own value of a municipal parameter from ``effective_from`` (``value=None``: back to
    the national value from that date). Refusals change nothing:

    * :class:`PermissionDenied` without ``parameters.write`` (団体管理者) or for another tenant — the refusal is
      audited in a transaction of its own;
    * :class:`InputError` for an undeclared or national parameter, a value of the wrong type or out of bounds, a
      date outside the parameter's period, or an empty reason.

    On success the row and an audit record (``parameters.set``) are written in the caller's transaction."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.PARAMETERS_WRITE, action=ACTION_SET, purpose=PURPOSE
    )

    parameter = default_catalogue().get(name)
    typed, errors = _validate(parameter, name, value, effective_from, effective_until, reason)
    if errors:
        raise InputError(*errors)
    assert parameter is not None

    previous = _applies(
        parameter,
        effective_from,
        _kyuchi(db_session, lg_code) if parameter.depends_on_kyuchi else None,
        _own_value(db_session, lg_code, name, effective_from),
    )
    latest_revision = db_session.scalar(
        select(func.max(ParameterOverride.revision)).where(
            ParameterOverride.lg_code == lg_code,
            ParameterOverride.name == name,
            ParameterOverride.effective_from == effective_from,
        )
    )
    stored = None if typed is None else to_json(parameter.type, typed)
    row = ParameterOverride(
        lg_code=lg_code,
        name=name,
        effective_from=effective_from,
        revision=(latest_revision or 0) + 1,
        value=json.dumps(stored),
        effective_until=effective_until,
        set_by=actor.user_id,
        reason=reason.strip(),
        set_at=datetime.now(UTC),
    )
    db_session.add(row)
    db_session.flush()
    record(
        db_session,
        actor=actor,
        action=ACTION_SET,
        purpose=PURPOSE,
        detail={
            "name": name,
            "value": stored,
            "previous": None if previous is None else to_json(parameter.type, previous),
            "effective_from": effective_from.isoformat(),
            "effective_until": None if effective_until is None else effective_until.isoformat(),
            "revision": row.revision,
            "reason": row.reason,
        },
        lg_code=lg_code,
    )
    db_session.info.setdefault(_PENDING, set()).add(lg_code)
    _cache.invalidate(lg_code)
    return row
