"""Resident tax (個人住民税): income declarations as received, assessment runs with the parameter values they used,
and each person's assessment of a 年度 with the household flags other domains read.

Every table is tenant-owned: RLS enabled and forced, the app role may read and write (a run replaces the results
it recomputes; a declaration is corrected by importing the corrected one).

Revision ID: 0010_tax
Revises: 0009_registry_search
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import isolate_tenant_table

revision = "0010_tax"
down_revision = "0009_registry_search"
branch_labels = None
depends_on = None

AMOUNTS = (
    "salary_revenue",
    "pension_revenue",
    "business_income",
    "other_income",
    "dividend_income",
    "social_insurance",
    "small_enterprise_mutual_aid",
    "life_insurance_deduction",
    "earthquake_insurance_deduction",
    "medical_expense_deduction",
    "casualty_loss_deduction",
    "housing_loan_credit_available",
)
FLAGS = ("widow", "single_parent", "working_student", "welfare_recipient")
RESULT_AMOUNTS = (
    "total_income",
    "total_income_base",
    "total_deductions",
    "taxable_income",
    "income_levy_municipal",
    "income_levy_prefectural",
    "per_capita_municipal",
    "per_capita_prefectural",
    "forest_environment_tax",
    "flat_reduction_municipal",
    "flat_reduction_prefectural",
    "annual_tax",
)


def upgrade() -> None:
    op.create_table(
        "tax_income_declaration",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("declaration_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in AMOUNTS),
        sa.Column("disability", sa.String(10), nullable=False),
        *(sa.Column(name, sa.Boolean, nullable=False) for name in FLAGS),
        sa.PrimaryKeyConstraint("lg_code", "declaration_no", name="pk_tax_income_declaration"),
    )
    op.create_index(
        "ix_tax_income_declaration_person", "tax_income_declaration", ["lg_code", "fiscal_year", "person_no"]
    )
    op.create_table(
        "tax_assessment_run",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "run_no", name="pk_tax_assessment_run"),
    )
    op.create_table(
        "tax_assessment",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in RESULT_AMOUNTS),
        sa.Column("tax_status", sa.String(20), nullable=False),
        sa.Column("household_exempt", sa.Boolean, nullable=False),
        sa.Column("household_per_capita_only", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "fiscal_year", "person_no", name="pk_tax_assessment"),
    )
    op.create_index("ix_tax_assessment_household", "tax_assessment", ["lg_code", "fiscal_year", "household_no"])
    for table in ("tax_income_declaration", "tax_assessment_run", "tax_assessment"):
        isolate_tenant_table(table)


def downgrade() -> None:
    op.drop_index("ix_tax_assessment_household", table_name="tax_assessment")
    op.drop_table("tax_assessment")
    op.drop_table("tax_assessment_run")
    op.drop_index("ix_tax_income_declaration_person", table_name="tax_income_declaration")
    op.drop_table("tax_income_declaration")
