"""Who may read and write the register: every registry service starts with one of these (the check is audited)."""

from __future__ import annotations

from kiban.core.audit.service import authorize
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Permission, Principal

PURPOSE = "住民記録事務"
"""Purpose written on every audit entry of the registry."""


def may_write(db_session: TenantSession, actor: Principal) -> str:
    """The tenant's lg_code if ``actor`` may record 異動 (``REGISTRY_WRITE``); otherwise refused and audited."""
    return authorize(
        db_session, actor=actor, permission=Permission.REGISTRY_WRITE, action="registry.write", purpose=PURPOSE
    )


def may_read(db_session: TenantSession, actor: Principal) -> str:
    """The tenant's lg_code if ``actor`` may read the register (``REGISTRY_READ``); otherwise refused and audited."""
    return authorize(
        db_session, actor=actor, permission=Permission.REGISTRY_READ, action="registry.read", purpose=PURPOSE
    )
