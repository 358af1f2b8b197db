"""Writing and verifying the audit log. Verbs: ``record``, ``record_denied``, ``verify_chain``, ``verify_all``,
``export_head``, ``verify_against_anchor``, ``entries``.

What is recorded follows 個人情報の保護に関する法律第66条 (安全管理措置) and 総務省「地方公共団体における情報
セキュリティポリシーに関するガイドライン」(アクセス記録の取得・保管): who, for which tenant and 事務, did what to whom,
when, under which request. Subjects are pseudonymous ids; a My Number is refused outright (番号法第19条 limits its
provision, so it never enters a log).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from kiban.core.audit.chain import GENESIS, canonical_json, entry_hash
from kiban.core.audit.models import AuditEntry, AuditHead
from kiban.core.context import request_id
from kiban.core.db import Database, TenantSession
from kiban.core.errors import PermissionDenied
from kiban.core.identifiers import find_my_number_candidates
from kiban.core.identity.permissions import PLATFORM, Principal
from kiban.core.tenants.models import Tenant

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "system"


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
    detail_json = canonical_json(detail) if detail is not None else None
    if find_my_number_candidates(f"{subject or ''} {detail_json or ''}"):
        raise ValueError("an audit entry must not contain a My Number: use a pseudonymous id")
    _insert_head_if_missing(db_session, tenant)
    head = db_session.execute(select(AuditHead).where(AuditHead.lg_code == tenant).with_for_update()).scalar_one()
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
    return entry


def record_denied(
    database: Database,
    *,
    actor: Principal | None,
    action: str,
    purpose: str,
    lg_code: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a refused permission check in a transaction of its own: it stays recorded even when the request
    that was refused rolls back."""
    try:
        with database.tenant(lg_code) as s:
            record(s, actor=actor, action=action, purpose=purpose, subject=subject, outcome="denied", detail=detail)
    except SQLAlchemyError:
        log.exception("could not record a refused access", extra={"lg_code": lg_code, "action": action})


# --- verification ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    lg_code: str
    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str
    head_hash: str


def _entries(db_session: TenantSession, lg_code: str) -> Iterator[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.lg_code == lg_code).order_by(AuditEntry.seq)
    yield from db_session.scalars(query.execution_options(yield_per=5000))


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {c: getattr(entry, c) for c in AuditEntry.__table__.columns.keys()}  # noqa: SIM118


def verify_chain(db_session: TenantSession, lg_code: str) -> VerifyResult:
    """Walk the tenant's chain from the start; name the first entry that is missing, altered or out of place,
    and compare the end with the head."""
    expected_seq, prev, count = 1, GENESIS, 0

    def bad(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(lg_code, False, count, seq, reason, prev)

    for entry in _entries(db_session, lg_code):
        if entry.seq > expected_seq:
            return bad(expected_seq, f"seq {expected_seq} が欠落しています（次は seq {entry.seq}）。")
        if entry.prev_hash != prev:
            return bad(entry.seq, f"seq {entry.seq} の前の記録が削除・入替されています（連鎖が切れています）。")
        if entry_hash(_fields(entry)) != entry.hash:
            return bad(entry.seq, f"seq {entry.seq} の内容が改ざんされています（ハッシュ不一致）。")
        prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    head = db_session.get(AuditHead, lg_code)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq > count:
        return bad(count + 1, f"末尾が切り詰められています（先頭記録は seq {head_seq}、実際は seq {count} まで）。")
    if head_seq < count or head_hash != prev:
        return bad(head_seq, "先頭記録（audit_head）が記録と一致しません。")
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
        return VerifyResult(lg_code, False, result.entries, seq, f"固定した seq {seq} の記録がありません。", "")
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
