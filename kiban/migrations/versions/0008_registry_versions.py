"""Registry: person states by period (``person_version``, derived from the events, for search and population-wide
as-of answers), encrypted 個人番号 with a blind index, the change feed's consumer cursors, and the 転出証明書 /
転入通知 records two municipalities share.

Revision ID: 0008_registry_versions
Revises: 0007_encrypt_totp
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kiban.core.schema import isolate_tenant_table, share_reading_with

revision = "0008_registry_versions"
down_revision = "0007_encrypt_totp"
branch_labels = None
depends_on = None

CURRENT = sa.text("valid_to IS NULL")


def search_key(length: int) -> sa.types.TypeEngine[str]:
    """Search columns use the "C" collation on PostgreSQL (prefix LIKE and ORDER BY on one index)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("person", sa.Column("my_number", sa.String(200), nullable=True))
    op.add_column("person", sa.Column("my_number_index", sa.String(64), nullable=True))
    op.create_index("ix_person_my_number_index", "person", ["lg_code", "my_number_index"])
    op.create_table(
        "person_version",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("event_no", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("household_no", sa.String(20), nullable=False),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name_kana", sa.String(200), nullable=False),
        sa.Column("given_name_kana", sa.String(200), nullable=False),
        sa.Column("name", search_key(200), nullable=False),
        sa.Column("name_kana", search_key(400), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("nationality", sa.String(3), nullable=False),
        sa.Column("residence_status", sa.String(40), nullable=True),
        sa.Column("residence_until", sa.Date, nullable=True),
        sa.Column("resident_since", sa.Date, nullable=False),
        sa.Column("address_since", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date, nullable=True),
        sa.Column("destination", sa.String(200), nullable=True),
        sa.Column("postal_code", sa.String(7), nullable=False),
        sa.Column("pref_name", sa.String(8), nullable=False),
        sa.Column("city_name", sa.String(40), nullable=False),
        sa.Column("town", sa.String(100), nullable=False),
        sa.Column("banchi", sa.String(100), nullable=False),
        sa.Column("address_key", search_key(200), nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "person_no", "valid_from", name="pk_person_version"),
    )
    for name, column in (("name_kana", "name_kana"), ("name", "name"), ("address", "address_key")):
        op.create_index(
            f"ix_person_version_{name}",
            "person_version",
            ["lg_code", column],
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
        )
    op.create_index(
        "ix_person_version_birth_date",
        "person_version",
        ["lg_code", "birth_date"],
        postgresql_where=CURRENT,
        sqlite_where=CURRENT,
    )
    op.create_index("ix_person_version_household", "person_version", ["lg_code", "household_no", "valid_from"])
    op.create_table(
        "registry_feed_cursor",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("consumer", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "consumer", name="pk_registry_feed_cursor"),
    )
    op.create_table(
        "transfer_certificate",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("certificate_no", sa.String(32), nullable=False),
        sa.Column("to_lg_code", sa.String(6), nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("move_out_event_no", sa.Integer, nullable=False),
        sa.Column("planned_date", sa.Date, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("particulars", sa.Text, nullable=False),
        sa.Column("my_number", sa.String(200), nullable=True),
        sa.Column("cancelled_on", sa.Date, nullable=True),
        sa.PrimaryKeyConstraint("lg_code", "certificate_no", name="pk_transfer_certificate"),
    )
    op.create_index("ix_transfer_certificate_to_lg_code", "transfer_certificate", ["to_lg_code"])
    op.create_table(
        "transfer_arrival",
        sa.Column("lg_code", sa.String(6), nullable=False),
        sa.Column("from_lg_code", sa.String(6), nullable=False),
        sa.Column("certificate_no", sa.String(32), nullable=False),
        sa.Column("person_no", sa.String(20), nullable=False),
        sa.Column("event_no", sa.Integer, nullable=False),
        sa.Column("arrived_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("lg_code", "from_lg_code", "certificate_no", name="pk_transfer_arrival"),
    )
    isolate_tenant_table("person_version")
    isolate_tenant_table("registry_feed_cursor")
    share_reading_with("transfer_certificate", "to_lg_code")
    share_reading_with("transfer_arrival", "from_lg_code")


def downgrade() -> None:
    op.drop_table("transfer_arrival")
    op.drop_index("ix_transfer_certificate_to_lg_code", table_name="transfer_certificate")
    op.drop_table("transfer_certificate")
    op.drop_table("registry_feed_cursor")
    for name in ("household", "birth_date", "address", "name", "name_kana"):
        op.drop_index(f"ix_person_version_{name}", table_name="person_version")
    op.drop_table("person_version")
    op.drop_index("ix_person_my_number_index", table_name="person")
    op.drop_column("person", "my_number_index")
    op.drop_column("person", "my_number")
