"""Portal table: which resident (the identity provider's subject) may act on which entitlement.

* ``portal_link`` — one row per resident and entitlement, written when the resident typed the 確認番号 printed on
  that entitlement's 確認書. An entitlement links to one resident at most (the 受給権者 who holds the notice), and a
  link is never changed or removed by the application (SELECT, INSERT only). Linking on the provider's subject plus
  a random code, never on kana name + birth date + sex, avoids the wrong links of the マイナ保険証 (2023: matching on
  カナ氏名・生年月日・性別 tied people to others' records).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned


class PortalLink(TenantOwned, Base):
    """A resident's sign-in linked to an entitlement."""

    __tablename__ = "portal_link"
    __table_args__ = (
        UniqueConstraint("lg_code", "program", "household_no", name="uq_portal_link_entitlement"),
        ForeignKeyConstraint(
            ["lg_code", "program", "household_no"],
            ["benefit_entitlement.lg_code", "benefit_entitlement.program", "benefit_entitlement.household_no"],
            name="fk_portal_link_entitlement",
        ),
    )

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    """The identity provider's ``sub`` (pairwise per relying party for マイナンバーカード sign-in)."""
    program: Mapped[str] = mapped_column(String(40), primary_key=True)
    household_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    """The provider (``iss``) the subject belongs to."""
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
