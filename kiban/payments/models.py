"""Payment tables: batches of transfers made by one person and approved by another, their lines, and the 全銀 file
issued for each batch.

The database itself refuses what must never happen, whatever the code above it does:

* a second line for a beneficiary who already has a pending, sent or paid line of the same program (a partial
  UNIQUE index on ``(lg_code, program, household_no)`` over lines whose status is not ``failed``; 寝屋川市 2020);
* a line of 0 yen or less (CHECK), an unknown status (CHECK), a line without its entitlement (FOREIGN KEY);
* deleting a sent or paid line, changing what a sent, paid or failed line pays, or moving a line's status backwards
  (triggers on both backends; 宮崎市: a deleted paid record led to a second payment);
* a second file for a batch (the primary key), a file whose bytes equal an earlier file's (UNIQUE sha256 per tenant;
  垂水市 2024), and any change to a stored file (append-only).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned

PENDING, SENT, PAID, FAILED = "pending", "sent", "paid", "failed"
LINE_STATUSES = (PENDING, SENT, PAID, FAILED)


class PaymentBatch(TenantOwned, Base):
    """A batch of transfers of one program: made by one person, approved by another on the hash they saw."""

    __tablename__ = "payment_batch"

    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … per tenant."""
    program: Mapped[str] = mapped_column(String(40))
    maker: Mapped[str] = mapped_column(String(60))
    """起票者 (pseudonymous user id)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    transfer_date: Mapped[date] = mapped_column(Date)
    line_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the canonical lines (``kiban.payments.service.content_hash``), kept current by every edit."""
    approved_by: Mapped[str | None] = mapped_column(String(60))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    """The content hash the 承認者 saw and approved; any later change to the lines clears the approval."""
    approved_total: Mapped[int | None] = mapped_column(BigInteger)


class PaymentLine(TenantOwned, Base):
    """One transfer: the entitlement of one household, its amount and account."""

    __tablename__ = "payment_line"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'sent', 'paid', 'failed')", name="status"),
        ForeignKeyConstraint(
            ["lg_code", "batch_no"], ["payment_batch.lg_code", "payment_batch.batch_no"], name="fk_payment_line_batch"
        ),
        ForeignKeyConstraint(
            ["lg_code", "program", "household_no"],
            ["benefit_entitlement.lg_code", "benefit_entitlement.program", "benefit_entitlement.household_no"],
            name="fk_payment_line_entitlement",
        ),
        Index(
            "uq_payment_line_beneficiary",
            "lg_code",
            "program",
            "household_no",
            unique=True,
            postgresql_where=text("status <> 'failed'"),
            sqlite_where=text("status <> 'failed'"),
        ),
    )

    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … within the batch (the 顧客コード of the file is batch and line number)."""
    program: Mapped[str] = mapped_column(String(40))
    household_no: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[str] = mapped_column(String(1))
    account_number: Mapped[str] = mapped_column(String(7))
    holder_kana: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    """pending (not yet in a file), sent (in the issued file), paid, failed (振込不能)."""


class PaymentFile(TenantOwned, Base):
    """The one 全銀 file issued for a batch, as sent (append-only: re-downloaded, never regenerated)."""

    __tablename__ = "payment_file"
    __table_args__ = (
        UniqueConstraint("lg_code", "sha256", name="uq_payment_file_sha256"),
        ForeignKeyConstraint(
            ["lg_code", "batch_no"], ["payment_batch.lg_code", "payment_batch.batch_no"], name="fk_payment_file_batch"
        ),
    )

    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    line_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(60))
