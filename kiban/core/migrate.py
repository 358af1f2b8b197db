"""Run Alembic migrations as the owner role, then load the platform's reference data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from kiban.core.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app_role: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["app_role"] = app_role
    return config


def upgrade(owner_url: str, app_role: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on the database at ``owner_url``."""
    if owner_url.startswith("sqlite:///"):
        Path(owner_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(owner_url)
    try:
        with engine.begin() as connection:
            config = alembic_config(app_role)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
