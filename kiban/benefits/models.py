"""Benefit tables (給付金): each program run over the municipality, and each household's entitlement.

* ``benefit_run`` — one ``kiban.benefits.service.run_eligibility``: who, when, how many households, what changed,
  and every parameter value the computation used (JSON).
* ``benefit_entitlement`` — one row per program and household (受給権者: the 世帯主): the amounts the last run
  that changed it computed, its status, and the account the payment goes to once confirmed. Rows are never deleted
  (the app role has no DELETE): a household that leaves the program is ``withdrawn``, so a paid or failed payment
  always keeps its entitlement.

Statuses: ``eligible`` (entitled, waiting for the 確認書) → ``confirmed`` (account known, payable) → ``paid``;
``needs_review`` (課税区分 unknown: nothing is paid until staff decide); ``failed`` (the bank reported 振込不能:
confirmed, but the account must be given again); ``withdrawn`` (a later run no longer finds the household).
``batch_no`` is the payment batch holding the household's in-flight line (``None`` when none): such a household is
never changed by a run, its differences are reported for review instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned

ELIGIBLE, NEEDS_REVIEW, CONFIRMED, PAID, FAILED, WITHDRAWN = (
    "eligible",
    "needs_review",
    "confirmed",
    "paid",
    "failed",
    "withdrawn",
)
STATUSES = (ELIGIBLE, NEEDS_REVIEW, CONFIRMED, PAID, FAILED, WITHDRAWN)
STATUS_LABELS = {
    ELIGIBLE: "対象（確認書の返送待ち）",
    NEEDS_REVIEW: "要確認",
    CONFIRMED: "支給決定（口座確認済み）",
    PAID: "振込済み",
    FAILED: "振込不能（口座の再確認が必要）",
    WITHDRAWN: "対象外（再計算で対象から外れた）",
}
AMOUNT_COLUMNS = ("members", "children", "base_amount", "child_addition", "top_up", "amount")


class BenefitRun(TenantOwned, Base):
    """One eligibility run of a program."""

    __tablename__ = "benefit_run"

    run_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … per tenant (all programs)."""
    program: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    households: Mapped[int] = mapped_column(Integer)
    """Households the computation found entitled or needing review."""
    added: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)
    """Differences not applied because the household is in a payment batch or paid (reported for review)."""
    parameters: Mapped[str] = mapped_column(Text)
    """JSON of every parameter value the computation used."""
    actor: Mapped[str] = mapped_column(String(60))


class Entitlement(TenantOwned, Base):
    """A household's entitlement under a program (yen)."""

    __tablename__ = "benefit_entitlement"
    __table_args__ = (
        CheckConstraint(
            "status IN ('eligible', 'needs_review', 'confirmed', 'paid', 'failed', 'withdrawn')", name="status"
        ),
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_benefit_entitlement_status", "lg_code", "program", "status"),
    )

    program: Mapped[str] = mapped_column(String(40), primary_key=True)
    household_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    recipient_no: Mapped[str] = mapped_column(String(20))
    """宛名番号 of the 受給権者 (the 世帯主)."""
    members: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[bool] = mapped_column(Boolean)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    base_amount: Mapped[int] = mapped_column(BigInteger)
    child_addition: Mapped[int] = mapped_column(BigInteger)
    top_up: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    run_no: Mapped[int] = mapped_column(Integer)
    """The run that last set the amounts."""
    bank_code: Mapped[str | None] = mapped_column(String(4))
    branch_code: Mapped[str | None] = mapped_column(String(3))
    account_type: Mapped[str | None] = mapped_column(String(1))
    account_number: Mapped[str | None] = mapped_column(String(7))
    holder_kana: Mapped[str | None] = mapped_column(String(60))
    """口座名義 in 全銀 characters (half-width kana)."""
    confirmed_by: Mapped[str | None] = mapped_column(String(60))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_no: Mapped[int | None] = mapped_column(Integer)
    """The payment batch holding this household's in-flight line (pending or sent), if any."""
