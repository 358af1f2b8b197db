"""Registry search at municipal scale.

* An index for 住民票コード.
* The フリガナ index holds the whole ranking (フリガナ, 生年月日, 宛名番号): a フリガナ search reads its matches in
  order and stops at the limit (many people share one フリガナ).
* The 氏名 / 住所 / 生年月日 indexes also carry the ranking columns and 住民状態 on PostgreSQL: a search matching
  tens of thousands of people (「佐藤」) ranks them from the index alone (index-only scan), then reads the rows
  it returns.

Revision ID: 0009_registry_search
Revises: 0008_registry_versions
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_registry_search"
down_revision = "0008_registry_versions"
branch_labels = None
depends_on = None

CURRENT = sa.text("valid_to IS NULL")
SEARCHES = {"name": ["lg_code", "name"], "address": ["lg_code", "address_key"], "birth_date": ["lg_code", "birth_date"]}
RANKING = ["name_kana", "birth_date", "person_no", "status"]


def _search_indexes(include: bool) -> None:
    for name, columns in SEARCHES.items():
        op.drop_index(f"ix_person_version_{name}", table_name="person_version")
        extra = [c for c in RANKING if c not in columns] if include else []
        op.create_index(
            f"ix_person_version_{name}",
            "person_version",
            columns,
            postgresql_where=CURRENT,
            sqlite_where=CURRENT,
            postgresql_include=extra,
        )


def _kana_index(columns: list[str]) -> None:
    op.drop_index("ix_person_version_name_kana", table_name="person_version")
    op.create_index(
        "ix_person_version_name_kana", "person_version", columns, postgresql_where=CURRENT, sqlite_where=CURRENT
    )


def upgrade() -> None:
    op.create_index("ix_person_resident_code", "person", ["lg_code", "resident_code"])
    _kana_index(["lg_code", "name_kana", "birth_date", "person_no"])
    _search_indexes(include=True)


def downgrade() -> None:
    _search_indexes(include=False)
    _kana_index(["lg_code", "name_kana"])
    op.drop_index("ix_person_resident_code", table_name="person")
