"""DDL that migrations apply to tenant-owned tables on PostgreSQL: row-level security and the app role's grants.

Kept in one place so every migration isolates tenants the same way, and so the catalog tests check exactly this.
"""

from __future__ import annotations

from alembic import op

from kiban.core.db import TENANT_SETTING

READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY = "SELECT, INSERT"


def _quote_ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def app_role() -> str:
    config = op.get_context().config
    role = config.attributes.get("app_role") if config is not None else None
    if not role:
        from kiban.core.config import get_settings

        role = get_settings().app_role
    return str(role)


def is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def isolate_tenant_table(table: str, privileges: str = READ_WRITE) -> None:
    """Enable and force RLS on ``table`` with the tenant policy, and grant the app role ``privileges``."""
    if not is_postgresql():
        return
    t = _quote_ident(table)
    op.execute(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY")
    setting = f"current_setting('{TENANT_SETTING}', true)"
    op.execute(f"CREATE POLICY tenant_isolation ON {t} USING (lg_code = {setting}) WITH CHECK (lg_code = {setting})")
    grant_app(table, privileges)


def grant_app(table: str, privileges: str) -> None:
    """Grant the app role ``privileges`` on a table (platform tables call this directly)."""
    if not is_postgresql():
        return
    op.execute(f"GRANT {privileges} ON {_quote_ident(table)} TO {_quote_ident(app_role())}")


def grant_app_sequences() -> None:
    if not is_postgresql():
        return
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_quote_ident(app_role())}")


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION kiban_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END $$;
"""


def make_append_only(table: str) -> None:
    """Rows of ``table`` may be inserted, never changed or removed: the app role loses UPDATE, DELETE and TRUNCATE,
    and triggers refuse them for every role (the owner must drop or disable the triggers first, which leaves a
    trace). Call after ``isolate_tenant_table(table, APPEND_ONLY)``."""
    t = _quote_ident(table)
    if is_postgresql():
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM {_quote_ident(app_role())}")
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION kiban_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kiban_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {t} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def share_reading_with(table: str, counterpart: str) -> None:
    """Like ``isolate_tenant_table``, but the tenant named in column ``counterpart`` may also read a row (never
    write it): for records one municipality hands to another (転出証明書 to the 転入地, 転入通知 back)."""
    if not is_postgresql():
        return
    t, other = _quote_ident(table), _quote_ident(counterpart)
    setting = f"current_setting('{TENANT_SETTING}', true)"
    op.execute(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_read ON {t} FOR SELECT USING (lg_code = {setting} OR {other} = {setting})")
    op.execute(f"CREATE POLICY tenant_insert ON {t} FOR INSERT WITH CHECK (lg_code = {setting})")
    op.execute(
        f"CREATE POLICY tenant_update ON {t} FOR UPDATE USING (lg_code = {setting}) WITH CHECK (lg_code = {setting})"
    )
    grant_app(table, "SELECT, INSERT, UPDATE")
