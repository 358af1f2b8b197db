"""Writing and verifying the audit log. Verbs: ``record``, ``record_denied``, ``verify_chain``, ``verify_all``,
``export_head``, ``verify_against_anchor``, ``entries``.

What is recorded follows 個人情報の保護に関する法律第66条 (安全管理措置) and 総務省「地方公共団体における情報
セキュリティポリシーに関するガイドライン」(アクセス記録の取得・保管): who, for which tenant and 事務, did what to whom,
when, under which request. Subjects are pseudonymous ids; a My Number is refused outright (番号法第19条 limits its
provision, so it never enters a log).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine, RowMapping, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from kiban.core.audit.chain import GENESIS, HASHED_FIELDS, canonical_json, entry_hash
from kiban.core.audit.models import AuditEntry, AuditHead
from kiban.core.context import request_id
from kiban.core.db import Database, TenantSession
from kiban.core.errors import PermissionDenied
from kiban.core.identifiers import find_my_number_candidates
from kiban.core.identity.permissions import PLATFORM, Permission, Principal, missing_permission_message
from kiban.core.tenants.models import Tenant

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "system"
OUTCOMES = frozenset({"ok", "denied", "error"})
_DIGIT_GROUP_SEPARATORS = re.compile(r"(?<=[0-9０-９])[\s\-‐－ー−]+(?=[0-9０-９])")


def _refuse_my_number(text: str) -> None:
    """Raise if ``text`` holds a number passing the My Number check digit, also when written in groups
    (「6214-9832-0257」). 番号法第19条 limits providing a My Number, so it must never reach the audit log."""
    if find_my_number_candidates(text) or find_my_number_candidates(_DIGIT_GROUP_SEPARATORS.sub("", text)):
        raise ValueError("an audit entry must not contain a My Number: use a pseudonymous id")


def _insert_head_if_missing(db_session: TenantSession, lg_code: str) -> None:
    values = {"lg_code": lg_code, "seq": 0, "hash": GENESIS}
    dialect = db_session.get_bind().dialect.name
    if dialect == "postgresql":
        db_session.execute(pg_insert(AuditHead).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        db_session.execute(sqlite_insert(AuditHead).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover (only SQLite and PostgreSQL are supported)
        raise NotImplementedError(dialect)


def record(
    db_session: TenantSession,
    *,
    actor: Principal | None,
    action: str,
    purpose: str,
    subject: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    lg_code: str | None = None,
) -> AuditEntry:
    """Append one entry to the tenant's chain in the caller's transaction (it commits or rolls back with the
    business change it records). The head row is locked, so concurrent appends queue and never fork the chain."""
    tenant = lg_code or db_session.lg_code
    if tenant is None or tenant != db_session.lg_code:
        raise PermissionDenied("監査記録は操作する団体のセッションで書き込みます。")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, not {outcome!r}")
    detail_json = canonical_json(detail) if detail is not None else None
    _refuse_my_number(f"{subject or ''}\n{detail_json or ''}")
    _insert_head_if_missing(db_session, tenant)
    # populate_existing: sessions keep objects across commits (expire_on_commit=False), so a head loaded in an
    # earlier transaction must be re-read under the lock, or the chain would fork.
    locked = select(AuditHead).where(AuditHead.lg_code == tenant).with_for_update()
    head = db_session.execute(locked.execution_options(populate_existing=True)).scalar_one()
    fields: dict[str, Any] = {
        "lg_code": tenant,
        "seq": head.seq + 1,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor": actor.user_id if actor else SYSTEM_ACTOR,
        "actor_lg_code": actor.home_lg_code if actor else tenant,
        "roles": ",".join(sorted(r.value for r in actor.roles)) if actor else "",
        "action": action,
        "purpose": purpose,
        "subject": subject,
        "outcome": outcome,
        "request_id": request_id(),
        "detail": detail_json,
        "prev_hash": head.hash,
    }
    fields["hash"] = entry_hash(fields)
    entry = AuditEntry(**fields)
    db_session.add(entry)
    head.seq, head.hash = fields["seq"], fields["hash"]
    db_session.flush()
    db_session.info[_HOLDS_HEAD] = True
    return entry


_HOLDS_HEAD = "kiban.audit.holds_head"
_DEFERRED = "kiban.audit.deferred_denials"


@event.listens_for(TenantSession, "after_transaction_end")
def _record_deferred_denials(session: Session, transaction: SessionTransaction) -> None:
    """When the outermost transaction ends (commit or rollback), the head lock is released: write the refusals that
    had to wait for it."""
    if transaction.parent is not None:
        return
    session.info.pop(_HOLDS_HEAD, None)
    for denial in session.info.pop(_DEFERRED, []):
        denial()


def record_denied(
    engine: Engine,
    *,
    actor: Principal | None,
    action: str,
    purpose: str,
    lg_code: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a refused permission check in a transaction of its own: it stays recorded even when the request
    that was refused rolls back. A transaction that has already appended to the chain holds its head, so
    ``authorize`` defers the call until that transaction ends. A failure to record is logged rather than raised (the
    refusal itself must still reach the caller)."""
    try:
        with TenantSession(bind=engine, info={"lg_code": lg_code}) as s, s.begin():
            record(s, actor=actor, action=action, purpose=purpose, subject=subject, outcome="denied", detail=detail)
    except SQLAlchemyError:
        log.exception("could not record a refused access", extra={"lg_code": lg_code, "action": action})


def authorize(db_session: TenantSession, *, actor: Principal, permission: Permission, action: str, purpose: str) -> str:
    """The one permission check of services: the session's tenant must be the actor's and the actor must hold
    ``permission``; a refusal is audited (in its own transaction) and raised as ``PermissionDenied``. Returns the
    tenant's ``lg_code``."""
    lg_code = db_session.lg_code
    if lg_code is None:
        raise PermissionDenied("団体が指定されていません。団体を選んでから操作してください。")
    why = None
    if actor.lg_code != lg_code:
        why = f"他の団体（{actor.lg_code}）の職員は、この団体（{lg_code}）のデータを扱えません。"
    elif not actor.can(permission):
        why = missing_permission_message(permission)
    if why is not None:
        detail = {"permission": permission.value, "actor_tenant": actor.lg_code}
        record_refusal(db_session, actor=actor, action=action, purpose=purpose, detail=detail)
        raise PermissionDenied(why)
    return lg_code


def record_refusal(
    db_session: TenantSession,
    *,
    actor: Principal,
    action: str,
    purpose: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a refusal (``outcome="denied"``) so that it stays recorded when the caller's transaction rolls back: in
    a transaction of its own, or, when this one already holds the chain head, as soon as this one ends. Services call
    it for refusals of their own (e.g. a 起票者 approving their own batch) before raising."""
    lg_code = db_session.lg_code
    if lg_code is None:
        raise PermissionDenied("団体が指定されていません。団体を選んでから操作してください。")
    denial = partial(
        record_denied,
        db_session.engine,
        actor=actor,
        action=action,
        purpose=purpose,
        lg_code=lg_code,
        subject=subject,
        detail=detail,
    )
    if db_session.info.get(_HOLDS_HEAD):
        # This transaction has appended to the chain and holds its head until it ends: a second transaction
        # would wait for it forever, so the refusal is written as soon as this one commits or rolls back.
        db_session.info.setdefault(_DEFERRED, []).append(denial)
    else:
        denial()


# --- verification ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of verifying one tenant's chain; ``reason`` is Japanese and names what is wrong."""

    lg_code: str
    ok: bool
    entries: int
    """Entries found valid before the first bad one (all of them when ``ok``)."""
    first_bad_seq: int | None
    reason: str
    head_hash: str
    """Hash of the last valid entry (GENESIS for an empty chain)."""


_COLUMNS = [AuditEntry.__table__.c[name] for name in (*HASHED_FIELDS, "hash")]


def _rows(db_session: TenantSession, lg_code: str) -> Result[Any]:
    """Every entry of the chain as plain rows in seq order, streamed in batches (no ORM objects: chains run
    into millions of entries)."""
    query = select(*_COLUMNS).where(AuditEntry.lg_code == lg_code).order_by(AuditEntry.seq)
    return db_session.execute(query.execution_options(yield_per=5000))


def _broken_link(db_session: TenantSession, row: RowMapping) -> str:
    """Why ``row`` does not follow the previous entry: it was moved (its prev_hash is another entry's hash), or the
    link itself was altered."""
    seq = row["seq"]
    points_to = db_session.scalar(
        select(AuditEntry.seq).where(AuditEntry.lg_code == row["lg_code"], AuditEntry.hash == row["prev_hash"])
    )
    if points_to is not None:
        return f"seq {seq} で順序が入れ替わっています（本来は seq {points_to} の次の記録です）。"
    if entry_hash(dict(row)) != row["hash"]:
        return f"seq {seq} の内容が改ざんされています（ハッシュ不一致）。"
    return f"seq {seq} の直前の記録が書き換えられています（連鎖が切れています）。"


def verify_chain(db_session: TenantSession, lg_code: str) -> VerifyResult:
    """Walk the tenant's chain from seq 1; name the first entry that is missing, altered or out of place, then
    compare the end with the head (catches entries removed from the end, or all of them)."""
    expected_seq, prev = 1, GENESIS

    def bad(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(lg_code, False, expected_seq - 1, seq, reason, prev)

    with _rows(db_session, lg_code) as rows:
        for row in rows.mappings():
            seq = row["seq"]
            if seq > expected_seq:
                return bad(expected_seq, f"seq {expected_seq} が欠落しています（次の記録は seq {seq}）。")
            if seq < expected_seq:
                return bad(seq, f"seq {seq} は連番の範囲外です（seq {expected_seq} が来るはずです）。")
            if row["prev_hash"] != prev:
                return bad(seq, _broken_link(db_session, row))
            if entry_hash(dict(row)) != row["hash"]:
                return bad(seq, f"seq {seq} の内容が改ざんされています（ハッシュ不一致）。")
            prev, expected_seq = row["hash"], expected_seq + 1
    count = expected_seq - 1
    head = db_session.get(AuditHead, lg_code)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq > count:
        return bad(count + 1, f"末尾が切り詰められています（先頭記録は seq {head_seq}、実際は {count} まで）。")
    if head_seq < count:
        return bad(head_seq + 1, f"先頭記録（seq {head_seq}）より後に記録があります（実際は {count} まで）。")
    if head_hash != prev:
        return bad(head_seq, f"先頭記録のハッシュが seq {head_seq} と一致しません。")
    return VerifyResult(lg_code, True, count, None, "正常です。", prev)


def verify_all(database: Database) -> list[VerifyResult]:
    """Verify every tenant's chain (each inside its own tenant scope, so this works under RLS as the app role).
    Tenants with no entries and no head are left out."""
    with database.tenant(None) as s:
        codes = [PLATFORM, *s.scalars(select(Tenant.lg_code).order_by(Tenant.lg_code))]
    results: list[VerifyResult] = []
    for code in codes:
        with database.tenant(code) as s:
            if s.get(AuditHead, code) is None and s.scalar(select(AuditEntry.seq).limit(1)) is None:
                continue
            results.append(verify_chain(s, code))
    return results


def export_head(db_session: TenantSession, lg_code: str) -> dict[str, Any]:
    """The chain head as JSON-able data, to anchor elsewhere (another system, a signed mail, a notary)."""
    head = db_session.get(AuditHead, lg_code)
    return {
        "lg_code": lg_code,
        "seq": head.seq if head else 0,
        "hash": head.hash if head else GENESIS,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def verify_against_anchor(db_session: TenantSession, anchor: dict[str, Any]) -> VerifyResult:
    """The chain is valid and still holds the anchored entry unchanged: catches a chain rewritten and re-hashed
    from the start, or emptied entirely, which the chain alone cannot show."""
    lg_code, seq, anchored = str(anchor["lg_code"]), int(anchor["seq"]), str(anchor["hash"])
    result = verify_chain(db_session, lg_code)
    if not result.ok or seq == 0:
        return result
    entry = db_session.get(AuditEntry, (lg_code, seq))
    if entry is None:
        reason = f"固定した seq {seq} の記録がありません（記録が削除されています）。"
        return VerifyResult(lg_code, False, result.entries, seq, reason, result.head_hash)
    if entry.hash != anchored:
        reason = f"seq {seq} のハッシュが固定した値と異なります（記録全体が書き換えられています）。"
        return VerifyResult(lg_code, False, result.entries, seq, reason, entry.hash)
    return result


def entries(
    db_session: TenantSession, *, lg_code: str, limit: int = 100, before_seq: int | None = None
) -> list[AuditEntry]:
    """The newest entries first, for the audit screen."""
    query = select(AuditEntry).where(AuditEntry.lg_code == lg_code)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(db_session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))
