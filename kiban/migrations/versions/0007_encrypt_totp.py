"""TOTP secrets encrypted at rest (``kiban.core.crypto``): the column widens to hold the encrypted form, and every
existing secret is encrypted in place, one municipality at a time (RLS is forced even for the owner, so each
tenant's rows are visible only with its ``kiban.lg_code`` set).

Revision ID: 0007_encrypt_totp
Revises: 0006_registry
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from kiban.core.crypto import FORMAT, decrypt, encrypt
from kiban.core.db import TENANT_SETTING

revision = "0007_encrypt_totp"
down_revision = "0006_registry"
branch_labels = None
depends_on = None

CONTEXT = "staff_user.totp_secret"


def _convert(convert: Callable[[str], str | None]) -> None:
    bind = op.get_bind()
    tenants = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT lg_code FROM tenant"))]
    for lg_code in tenants:
        if bind.dialect.name == "postgresql":
            bind.execute(sa.text("SELECT set_config(:name, :value, true)"), {"name": TENANT_SETTING, "value": lg_code})
        rows = bind.execute(
            sa.text("SELECT user_id, totp_secret FROM staff_user WHERE lg_code = :lg AND totp_secret IS NOT NULL"),
            {"lg": lg_code},
        ).all()
        for user_id, secret in rows:
            new = convert(secret)
            if new is not None:
                bind.execute(
                    sa.text("UPDATE staff_user SET totp_secret = :s WHERE lg_code = :lg AND user_id = :u"),
                    {"s": new, "lg": lg_code, "u": user_id},
                )


def upgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("totp_secret", type_=sa.String(200), existing_type=sa.String(64))
    _convert(lambda secret: None if secret.startswith(f"{FORMAT}:") else encrypt(secret, context=CONTEXT))


def downgrade() -> None:
    _convert(lambda secret: decrypt(secret, context=CONTEXT) if secret.startswith(f"{FORMAT}:") else None)
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("totp_secret", type_=sa.String(64), existing_type=sa.String(200))
