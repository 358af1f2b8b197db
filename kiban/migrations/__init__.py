"""Alembic migrations (run as the table owner role; see ``kiban.core.migrate``)."""
