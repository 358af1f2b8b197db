"""Staff accounts, their roles, web sessions and API tokens. All tenant-owned: a user belongs to one municipality
(national operators to the PLATFORM pseudo-tenant), and RLS keeps each municipality's accounts to itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.crypto import EncryptedString
from kiban.core.db import Base, TenantOwned


class StaffUser(TenantOwned, Base):
    __tablename__ = "staff_user"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """Login id, unique within the municipality; pseudonymous (what the audit log records)."""
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id (RFC 9106) via argon2-cffi."""
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(context="staff_user.totp_secret", length=200))
    """Base32 TOTP secret (RFC 6238), encrypted at rest; set for every user whose roles need a second factor."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffRole(TenantOwned, Base):
    __tablename__ = "staff_role"
    __table_args__ = (
        ForeignKeyConstraint(["lg_code", "user_id"], ["staff_user.lg_code", "staff_user.user_id"], ondelete="CASCADE"),
    )

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class WebSession(TenantOwned, Base):
    """A signed-in browser. Only the SHA-256 of the cookie's secret is stored."""

    __tablename__ = "web_session"
    __table_args__ = (
        ForeignKeyConstraint(["lg_code", "user_id"], ["staff_user.lg_code", "staff_user.user_id"], ondelete="CASCADE"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40))
    second_factor_done: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(TenantOwned, Base):
    """A scoped token for system-to-system calls; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    token_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[str] = mapped_column(String(1000))
    """Space-separated permissions granted to the token (never more than its creator holds)."""
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
