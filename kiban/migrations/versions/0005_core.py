"""Platform core complete: joins the audit, parameters and identity branches; later migrations build on this.

Revision ID: 0005_core
Revises: 0002_audit, 0003_params, 0004_identity
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0005_core"
down_revision = ("0002_audit", "0003_params", "0004_identity")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: a merge point."""


def downgrade() -> None:
    """Nothing to change: a merge point."""
