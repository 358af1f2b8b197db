"""Benefit tables (給付金): each program run over the municipality, and each household's entitlement.

* ``benefit_run`` — one ``kiban.benefits.service.run_eligibility``: who, when, how many households, what changed,
  and every parameter value the computation used (JSON).
* ``benefit_entitlement`` — one row per program and household (受給権者: the 世帯主): the amounts the last run
  that changed it computed, its status, and the account the payment goes to once confirmed. Rows are never deleted
  (the app role has no DELETE): a household that leaves the program is ``withdrawn``, so a paid or failed payment
  always keeps its entitlement.
* ``benefit_claim`` — a platform table: the persons each municipality found entitled, keyed by a keyed HMAC, for the
  national duplicate check (``kiban.benefits.national_check``); reached only through ``kiban.benefits.claims``.

Statuses: ``eligible`` (entitled, waiting for the 確認書) → ``confirmed`` (account known, payable) → ``paid``;
``needs_review`` (課税区分 unknown: nothing is paid until staff decide); ``failed`` (the bank reported 振込不能:
confirmed, but the account must be given again); ``withdrawn`` (a later run no longer finds the household).
``batch_no`` is the payment batch holding the household's in-flight line (``None`` when none): such a household is
never changed by a run, its differences are reported for review instead.

``confirmation_code`` (確認番号) is printed on the household's 確認書: a random code the resident types into the
portal to link their sign-in to this entitlement (``new_confirmation_code``). ``review_reason`` says why staff must
look at a household before it is paid (an account already given for an unrelated household); while it is set the
status is ``needs_review`` and no run or confirmation clears it, only staff (``service.clear_account_review``).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, Index, Integer, String, Text
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
CONFIRMATION_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""32 characters that cannot be mistaken for one another on paper (no 0/O, 1/I)."""
CONFIRMATION_CODE_LENGTH = 12
"""12 characters of 32: 60 bits, far beyond guessing through the portal."""


def new_confirmation_code() -> str:
    """A fresh 確認番号 (12 characters, printed in groups of 4 by ``format_confirmation_code``)."""
    return "".join(secrets.choice(CONFIRMATION_CODE_ALPHABET) for _ in range(CONFIRMATION_CODE_LENGTH))


def format_confirmation_code(code: str) -> str:
    """「ABCD-EFGH-JKLM」: how the 確認書 prints it and the portal shows it."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


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
        Index("uq_benefit_entitlement_confirmation_code", "lg_code", "confirmation_code", unique=True),
        Index("ix_benefit_entitlement_account", "lg_code", "program", "account_number", "bank_code"),
        Index("ix_benefit_entitlement_recipient", "lg_code", "program", "recipient_no"),
    )

    program: Mapped[str] = mapped_column(String(40), primary_key=True)
    household_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    """The 受給単位: the 世帯番号 of a household program; for a person program (``Unit.PERSON``, the 定額減税 調整給付)
    the 宛名番号 of the person paid."""
    recipient_no: Mapped[str] = mapped_column(String(20))
    """宛名番号 of the 受給権者 (the 世帯主; for a person program the person)."""
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
    confirmation_code: Mapped[str] = mapped_column(String(CONFIRMATION_CODE_LENGTH), default=new_confirmation_code)
    """確認番号 printed on the 確認書 (without hyphens)."""
    review_reason: Mapped[str | None] = mapped_column(Text)
    """Why staff must review the household before it is paid (Japanese), or ``None``."""
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When its 確認書 was last exported for printing (``kiban.benefits.mailing``), or ``None``."""


class BenefitClaim(Base):
    """A platform table of the national duplicate check (二重給付の防止, ``kiban.benefits.national_check``): one row
    per program, person and municipality that found the person entitled. ``person_key`` is a keyed HMAC, never an
    identifier; the app role cannot read the table (PostgreSQL: only through the view ``benefit_claim_state``, which
    shows the caller's own rows, and ``SECURITY DEFINER`` functions that write them)."""

    __tablename__ = "benefit_claim"
    __table_args__ = (
        Index("ix_benefit_claim_tenant", "lg_code", "program", "household_no"),
        CheckConstraint("key_kind IN ('my_number', 'basic')", name="key_kind"),
        {"info": {"platform": True}},
    )

    program: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    lg_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    key_kind: Mapped[str] = mapped_column(String(10))
    """``my_number`` (from the 個人番号) or ``basic`` (フリガナ, 生年月日, 性別: weaker)."""
    person_no: Mapped[str] = mapped_column(String(20))
    """宛名番号 in ``lg_code`` (shown to that municipality only)."""
    household_no: Mapped[str] = mapped_column(String(20))
    resident_since: Mapped[date] = mapped_column(Date)
    """住民となった日 in ``lg_code``: of two registrations on the base date the later 転入 is the person's 住所."""
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When ``lg_code`` first accepted the household's confirmation (first to confirm pays a tie)."""
    paying_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When ``lg_code`` put the household in a payment batch (or found it paid): it pays, whoever comes later."""
    generation: Mapped[int] = mapped_column(BigInteger)
    """The registration (microseconds since the epoch) that last made this claim: older ones are swept."""
