"""Tax tables (個人住民税): what a 年度's assessment reads and what it stores.

* ``tax_income_declaration`` — the income and deduction amounts of the year before the 年度, as declared: a
  給与支払報告書 (地方税法第317条の6), a 公的年金等支払報告書 (同条第4項) or a 申告 (地方税法第317条の2). A person may
  have several (two employers and a pension); an assessment sums them per person.
* ``tax_assessment_run`` — one run of ``kiban.tax.service.assess_municipality``: when, by whom, how many people, and
  every parameter value the computation used (so a result says which values made it).
* ``tax_assessment`` — the result per person and 年度 (every ``kiban.tax.assessment.RESULTS`` column); a run
  rewrites only the rows whose result changed, and ``run_no`` says which run last set them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiban.core.db import Base, TenantOwned


class IncomeDeclaration(TenantOwned, Base):
    """One declaration of a person's income of the year before ``fiscal_year``, as received (amounts in yen)."""

    __tablename__ = "tax_income_declaration"
    __table_args__ = (
        Index("ix_tax_income_declaration_person", "lg_code", "fiscal_year", "person_no"),
        CheckConstraint("submission IN ('new', 'correction', 'cancellation')", name="submission"),
    )

    declaration_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … per tenant, in the order declarations were received."""
    fiscal_year: Mapped[int] = mapped_column(Integer)
    """年度 assessed (the income is that of the calendar year before)."""
    person_no: Mapped[str] = mapped_column(String(20))
    """宛名番号 of the person whose income it is."""
    source: Mapped[str] = mapped_column(String(20))
    """給与支払報告書, 公的年金等支払報告書 or 申告 (``kiban.tax.declarations.SOURCES``)."""
    payer: Mapped[str] = mapped_column(String(13), default="")
    """支払者番号 (法人番号 etc.) of a 支払報告書; empty when not given (and for a 申告)."""
    submission: Mapped[str] = mapped_column(String(12), default="new")
    """提出区分: new (新規・追加), correction (訂正) or cancellation (取消) (``kiban.tax.declarations.SUBMISSIONS``)."""
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    """The declaration that replaced (訂正) or withdrew (取消) this one; ``None`` while it is in force."""
    received_on: Mapped[date] = mapped_column(Date)
    salary_revenue: Mapped[int] = mapped_column(BigInteger, default=0)
    """給与収入."""
    pension_revenue: Mapped[int] = mapped_column(BigInteger, default=0)
    """公的年金等収入."""
    business_income: Mapped[int] = mapped_column(BigInteger, default=0)
    """事業所得 (may be a loss)."""
    other_income: Mapped[int] = mapped_column(BigInteger, default=0)
    """その他の所得 (雑所得等)."""
    dividend_income: Mapped[int] = mapped_column(BigInteger, default=0)
    """配当所得."""
    social_insurance: Mapped[int] = mapped_column(BigInteger, default=0)
    """社会保険料."""
    small_enterprise_mutual_aid: Mapped[int] = mapped_column(BigInteger, default=0)
    """小規模企業共済等掛金."""
    life_insurance_deduction: Mapped[int] = mapped_column(BigInteger, default=0)
    earthquake_insurance_deduction: Mapped[int] = mapped_column(BigInteger, default=0)
    medical_expense_deduction: Mapped[int] = mapped_column(BigInteger, default=0)
    casualty_loss_deduction: Mapped[int] = mapped_column(BigInteger, default=0)
    housing_loan_credit_available: Mapped[int] = mapped_column(BigInteger, default=0)
    """住宅借入金等特別控除可能額 (源泉徴収票・給与支払報告書の摘要, or the 申告)."""
    housing_loan_credit_used: Mapped[int] = mapped_column(BigInteger, default=0)
    """住宅借入金等特別控除の額: what the 所得税 took of it; the rest is what the resident tax may credit."""
    housing_loan_specified_acquisition: Mapped[bool] = mapped_column(Boolean, default=False)
    """The home was a 特定取得 (源泉徴収票の居住開始年月日の後の「(特定)」): 7%・136,500円 cap."""
    donation_hometown: Mapped[int] = mapped_column(BigInteger, default=0)
    """都道府県・市区町村への寄附金 (ふるさと納税): 寄附金税額控除の基本控除と特例控除 (地方税法第314条の7)."""
    donation_community_chest: Mapped[int] = mapped_column(BigInteger, default=0)
    """住所地の共同募金会・日本赤十字社支部への寄附金 (基本控除)."""
    donation_designated_prefectural: Mapped[int] = mapped_column(BigInteger, default=0)
    """都道府県の条例で指定する寄附金 (道府県民税の基本控除)."""
    donation_designated_municipal: Mapped[int] = mapped_column(BigInteger, default=0)
    """市区町村の条例で指定する寄附金 (市町村民税の基本控除)."""
    donation_one_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    """ふるさと納税の申告特例 (ワンストップ特例) の求めがある: 申告特例控除額を加える (地方税法附則第7条の2)."""
    disability: Mapped[str] = mapped_column(String(10), default="none")
    """none, ordinary (障害者) or special (特別障害者)."""
    widow: Mapped[bool] = mapped_column(Boolean, default=False)
    single_parent: Mapped[bool] = mapped_column(Boolean, default=False)
    working_student: Mapped[bool] = mapped_column(Boolean, default=False)
    welfare_recipient: Mapped[bool] = mapped_column(Boolean, default=False)
    """生活保護法の生活扶助を受けている (地方税法第295条第1項第1号)."""


class AssessmentRun(TenantOwned, Base):
    """One assessment run of a 年度 (``kiban tax assess``)."""

    __tablename__ = "tax_assessment_run"

    run_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3, … per tenant."""
    fiscal_year: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    persons: Mapped[int] = mapped_column(Integer)
    """People assessed (residents on 1 January of the 年度)."""
    changed: Mapped[int] = mapped_column(Integer)
    """Results written or removed by this run (0 when nothing changed since the previous run)."""
    parameters: Mapped[str] = mapped_column(Text)
    """JSON of every parameter value the computation used (``Plan.parameters``; rates as decimal strings)."""
    actor: Mapped[str] = mapped_column(String(60))
    """Pseudonymous id of who ran it (as in the audit log)."""


class Assessment(TenantOwned, Base):
    """A person's 個人住民税 of a 年度 (yen), as the last run that changed it computed it."""

    __tablename__ = "tax_assessment"
    __table_args__ = (Index("ix_tax_assessment_household", "lg_code", "fiscal_year", "household_no"),)

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    run_no: Mapped[int] = mapped_column(Integer)
    """The run that last set this row."""
    household_no: Mapped[str] = mapped_column(String(20))
    """世帯番号 on 1 January of the 年度 (賦課期日)."""
    total_income: Mapped[int] = mapped_column(BigInteger)
    total_income_base: Mapped[int] = mapped_column(BigInteger)
    total_deductions: Mapped[int] = mapped_column(BigInteger)
    taxable_income: Mapped[int] = mapped_column(BigInteger)
    income_levy_gross_municipal: Mapped[int] = mapped_column(BigInteger, default=0)
    income_levy_gross_prefectural: Mapped[int] = mapped_column(BigInteger, default=0)
    """所得割額 before the 税額控除."""
    tax_credits_municipal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_credits_prefectural: Mapped[int] = mapped_column(BigInteger, default=0)
    """税額控除額等: from the 所得割 before the 税額控除 to the 所得割 before the 定額減税 (the 納税通知書 shows it)."""
    income_levy_municipal: Mapped[int] = mapped_column(BigInteger)
    income_levy_prefectural: Mapped[int] = mapped_column(BigInteger)
    per_capita_municipal: Mapped[int] = mapped_column(BigInteger)
    per_capita_prefectural: Mapped[int] = mapped_column(BigInteger)
    forest_environment_tax: Mapped[int] = mapped_column(BigInteger)
    flat_reduction_municipal: Mapped[int] = mapped_column(BigInteger)
    flat_reduction_prefectural: Mapped[int] = mapped_column(BigInteger)
    annual_tax: Mapped[int] = mapped_column(BigInteger)
    tax_status: Mapped[str] = mapped_column(String(20))
    """課税区分: exempt (非課税), per_capita_only (均等割のみ課税) or taxable (課税)."""
    supported_by: Mapped[str | None] = mapped_column(String(20))
    """宛名番号 of the taxpayer whose 同一生計配偶者 or 扶養親族 this person is (None: nobody's)."""
    household_exempt: Mapped[bool] = mapped_column(Boolean)
    """住民税非課税世帯: every member of the household is exempt."""
    household_per_capita_only: Mapped[bool] = mapped_column(Boolean)
    """均等割のみ課税世帯."""
