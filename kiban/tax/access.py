"""Who may read and change tax data: every tax service starts with one of these (a refusal is audited)."""

from __future__ import annotations

from kiban.core.audit.service import authorize
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Permission, Principal

PURPOSE = "個人住民税の賦課"
"""Purpose written on every audit entry of the tax domain."""


def may_write(db_session: TenantSession, actor: Principal) -> str:
    """The tenant's lg_code if ``actor`` may change tax data (``TAX_WRITE``); otherwise refused and audited."""
    return authorize(db_session, actor=actor, permission=Permission.TAX_WRITE, action="tax.write", purpose=PURPOSE)


def may_read(db_session: TenantSession, actor: Principal) -> str:
    """The tenant's lg_code if ``actor`` may read tax data (``TAX_READ``); otherwise refused and audited."""
    return authorize(db_session, actor=actor, permission=Permission.TAX_READ, action="tax.read", purpose=PURPOSE)
