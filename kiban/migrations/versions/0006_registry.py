"""Resident registry: persons, households and the append-only event record they are derived from.

On PostgreSQL the app role gets SELECT and INSERT on ``registry_event`` only, and triggers refuse UPDATE, DELETE and
TRUNCATE for every role (a correction is a new event). SQLite gets the same triggers.

Revision ID: 0006_registry
Revises: 0005_core
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import APPEND_ONLY, isolate_tenant_table, make_append_only

revision = "0006_registry"
down_revision = "0005_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("created", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "household_no", name="pk_household"),
    )
    op.create_table(
        "person",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=True),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name_kana", sa.String(200), nullable=False),
        sa.Column("given_name_kana", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "person_no", name="pk_person"),
    )
    op.create_table(
        "registry_event",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("event_no", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("event_type", sa.String(20), nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.Date, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("corrects_event_no", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("lg_code", "event_no", name="pk_registry_event"),
        sa.ForeignKeyConstraint(
            ["lg_code", "person_no"],
            ["person.lg_code", "person.person_no"],
            name="fk_registry_event_lg_code_person_no_person",
        ),
        sa.ForeignKeyConstraint(
            ["lg_code", "household_no"],
            ["household.lg_code", "household.household_no"],
            name="fk_registry_event_lg_code_household_no_household",
        ),
    )
    op.create_index("ix_registry_event_person", "registry_event", ["lg_code", "person_no"])
    isolate_tenant_table("household")
    isolate_tenant_table("person")
    isolate_tenant_table("registry_event", APPEND_ONLY)
    make_append_only("registry_event")


def downgrade() -> None:
    op.drop_index("ix_registry_event_person", table_name="registry_event")
    op.drop_table("registry_event")
    op.drop_table("person")
    op.drop_table("household")
