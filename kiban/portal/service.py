"""What a signed-in resident may do: link their sign-in to an entitlement with its 確認番号, read the entitlements
linked to them, and confirm the account to pay (typed, or their 公金受取口座).

A resident acts as a ``Principal`` of their own (``resident``): a pseudonymous id derived from the provider's
subject, no staff role, and only the permission ``benefits.service.confirm`` checks; every verb here first checks
that the entitlement is linked to this resident. Every action is audited in the municipality's chain. Changing an
account already given needs a recent sign-in (``FreshSignInNeeded``): a session left open on a shared phone must
not redirect the benefit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from kiban.benefits import service as benefits
from kiban.benefits.models import CONFIRMATION_CODE_ALPHABET, CONFIRMATION_CODE_LENGTH, Entitlement
from kiban.benefits.service import BankAccount
from kiban.core.audit.service import record, record_refusal
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, KibanError, NotFound
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.jtext import to_halfwidth_ascii
from kiban.portal.models import PortalLink

PURPOSE = "給付金の受給手続（住民ポータル）"
CODE_FIELD = "確認番号"
_SEPARATORS = re.compile(r"[\s\u3000\-－‐‑‒–—―−ー]")


class FreshSignInNeeded(KibanError):
    """Changing the account needs a sign-in more recent than the portal allows: sign in again first."""


@dataclass(frozen=True)
class Resident:
    lg_code: str
    issuer: str
    subject: str

    @property
    def principal(self) -> Principal:
        """The resident as an actor: a pseudonym (16 hex digits of a SHA-256 of issuer and subject), never the
        subject itself."""
        digest = hashlib.sha256(f"{self.issuer}\n{self.subject}".encode()).hexdigest()
        return Principal(
            user_id=f"resident:{digest[:16]}",
            display_name="住民",
            home_lg_code=self.lg_code,
            lg_code=self.lg_code,
            roles=frozenset(),
            permissions=frozenset({Permission.WELFARE_WRITE}),
            via="portal",
        )


def normalize_code(value: str) -> str:
    """The 確認番号 as stored: full-width letters and digits made half-width, lower case made upper, hyphens and
    spaces removed; ``InputError`` saying what to fix when it cannot be one."""
    code = _SEPARATORS.sub("", to_halfwidth_ascii(value)).upper()
    if code == "":
        raise InputError(FieldError(CODE_FIELD, value, "確認書に印字された確認番号を入力してください。"))
    if len(code) != CONFIRMATION_CODE_LENGTH or not set(code) <= set(CONFIRMATION_CODE_ALPHABET):
        fix = (
            f"確認番号は英字と数字の{CONFIRMATION_CODE_LENGTH}文字です（例：ABCD-EFGH-JKLM）。0（ゼロ）・1（いち）・"
            "O（オー）・I（アイ）は使われていません。確認書の印字を確かめてください。"
        )
        raise InputError(FieldError(CODE_FIELD, value, fix))
    return code


def link(db_session: TenantSession, *, resident: Resident, code: str) -> Entitlement:
    """Link the resident to the entitlement whose 確認書 carries ``code``. Linking the same one again changes
    nothing; an entitlement already linked to someone else is refused (the notice went to its 受給権者). Audited,
    refusals included: a run of wrong codes is visible in the log (guessing is hopeless at 60 bits)."""
    actor = resident.principal
    wanted = normalize_code(code)
    query = select(Entitlement).where(Entitlement.confirmation_code == wanted).with_for_update()
    entitlement = db_session.scalar(query.execution_options(populate_existing=True))
    if entitlement is None:
        record_refusal(db_session, actor=actor, action="portal.link", purpose=PURPOSE, detail={"reason": "unknown"})
        fix = "この確認番号は見つかりません。確認書の「確認番号」欄の12文字をもう一度確かめて入力してください。"
        raise InputError(FieldError(CODE_FIELD, code, fix))
    existing = db_session.scalar(
        select(PortalLink).where(
            PortalLink.program == entitlement.program, PortalLink.household_no == entitlement.household_no
        )
    )
    if existing is not None and (existing.issuer, existing.subject) != (resident.issuer, resident.subject):
        record_refusal(
            db_session,
            actor=actor,
            action="portal.link",
            purpose=PURPOSE,
            subject=entitlement.household_no,
            detail={"reason": "linked_to_another"},
        )
        fix = "この確認番号は既に別の方のログインに紐付けられています。お心当たりがない場合は担当窓口にご連絡ください。"
        raise InputError(FieldError(CODE_FIELD, code, fix))
    if existing is None:
        db_session.add(
            PortalLink(
                lg_code=resident.lg_code,
                subject=resident.subject,
                program=entitlement.program,
                household_no=entitlement.household_no,
                issuer=resident.issuer,
                linked_at=datetime.now(UTC),
            )
        )
    record(
        db_session,
        actor=actor,
        action="portal.link",
        purpose=PURPOSE,
        subject=entitlement.household_no,
        detail={"program": entitlement.program, "changed": existing is None},
    )
    db_session.flush()
    return entitlement


def linked_entitlements(db_session: TenantSession, *, resident: Resident) -> list[Entitlement]:
    """The entitlements linked to the resident, by program and 世帯番号. Audited."""
    query = (
        select(Entitlement)
        .join(
            PortalLink,
            (PortalLink.program == Entitlement.program) & (PortalLink.household_no == Entitlement.household_no),
        )
        .where(PortalLink.subject == resident.subject, PortalLink.issuer == resident.issuer)
        .order_by(Entitlement.program, Entitlement.household_no)
    )
    found = list(db_session.scalars(query))
    record(
        db_session,
        actor=resident.principal,
        action="portal.read",
        purpose=PURPOSE,
        detail={"count": len(found)},
    )
    return found


def linked_entitlement(
    db_session: TenantSession, *, resident: Resident, program: str, household_no: str
) -> Entitlement:
    """One entitlement linked to the resident; ``NotFound`` otherwise (also when it exists but is someone else's)."""
    query = (
        select(Entitlement)
        .join(
            PortalLink,
            (PortalLink.program == Entitlement.program) & (PortalLink.household_no == Entitlement.household_no),
        )
        .where(
            PortalLink.subject == resident.subject,
            PortalLink.issuer == resident.issuer,
            Entitlement.program == program,
            Entitlement.household_no == household_no,
        )
    )
    found = db_session.scalar(query)
    if found is None:
        raise NotFound("この給付はあなたのログインに紐付けられていません。確認番号で紐付けてから開いてください。")
    return found


def changes_account(entitlement: Entitlement, account: BankAccount) -> bool:
    """The entitlement already has an account and ``account`` is another one."""
    current = benefits.account_of(entitlement)
    return current is not None and current != account


def confirm_account(
    db_session: TenantSession,
    *,
    resident: Resident,
    program: str,
    household_no: str,
    account: BankAccount,
    fresh: bool,
) -> Entitlement:
    """The resident confirms the entitlement with ``account`` (already checked and in 全銀 characters). Changing an
    account already given needs ``fresh`` (a recent sign-in), or ``FreshSignInNeeded`` is raised. The rest is
    ``benefits.service.confirm``: the shared-account review, and one change however often the same confirmation
    arrives."""
    entitlement = linked_entitlement(db_session, resident=resident, program=program, household_no=household_no)
    given = benefits.checked_account(account)
    if changes_account(entitlement, given) and not fresh:
        raise FreshSignInNeeded("口座を変更するには、もう一度ログインして本人確認をしてください。")
    return benefits.confirm(
        db_session, actor=resident.principal, program_code=program, household_no=household_no, account=given
    )
