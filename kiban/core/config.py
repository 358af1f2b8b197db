"""Typed settings from the environment (prefix ``KIBAN_``); insecure defaults are refused outside development."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105 (refused in production below)
DEV_DATA_KEYS = "dev1:a2liYW4tZGV2ZWxvcG1lbnQtb25seS1kYXRhLWtleSE="  # refused in production below
DEV_BLIND_INDEX_KEY = "kiban-development-only-blind-index-key"  # refused in production below
DEV_PORTAL_CLIENT_SECRET = "kiban-portal-development-client-secret"  # noqa: S105 (refused in production below)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIBAN_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path.home() / ".local" / "share" / "kiban"
    database_url: str = ""
    """URL the application connects with. On PostgreSQL: the app role (no table ownership, no BYPASSRLS)."""
    migration_database_url: str = ""
    """URL migrations run with. On PostgreSQL: the owner role of the tables. Defaults to ``database_url``."""
    app_role: str = "kiban_app"
    """PostgreSQL role the application connects as; migrations grant it exactly what it needs."""
    secret_key: str = DEV_SECRET
    session_max_age_seconds: int = 8 * 3600
    data_keys: str = DEV_DATA_KEYS
    """Keys encrypting personal data at rest, ``kid:base64key,...``; the first encrypts (``kiban.core.crypto``)."""
    blind_index_key: str = DEV_BLIND_INDEX_KEY
    """Key of the blind indexes (HMAC) that find encrypted values by exact match."""
    portal_oidc_issuer: str = ""
    """OpenID Connect provider residents sign in with (its ``/.well-known/openid-configuration`` is read). Empty: the
    built-in development provider at ``/portal/dev-idp`` of this server (never in production)."""
    portal_oidc_client_id: str = "kiban-portal"
    portal_oidc_client_secret: str = DEV_PORTAL_CLIENT_SECRET
    portal_dev_provider: bool | None = None
    """Serve the development identity provider (demo residents instead of マイナンバーカード). Default: on outside
    production; refused in production."""
    portal_session_minutes: int = 20
    """Lifetime of a resident's portal session."""
    portal_fresh_sign_in_seconds: int = 300
    """How recent the resident's sign-in (``auth_time``) must be to change an account; older sends them through the
    provider again (``prompt=login``, ``max_age``)."""

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("KIBAN_SECRET_KEY must be set to a random value of 32+ characters in production")
            if DEV_DATA_KEYS.partition(":")[2] in self.data_keys:
                raise ValueError("KIBAN_DATA_KEYS must not contain the development key in production")
            if self.blind_index_key == DEV_BLIND_INDEX_KEY or len(self.blind_index_key) < 32:
                raise ValueError("KIBAN_BLIND_INDEX_KEY must be set to a random value of 32+ characters in production")
            if self.portal_dev_provider:
                raise ValueError("KIBAN_PORTAL_DEV_PROVIDER: the development identity provider is not for production")
            if self.portal_oidc_issuer and self.portal_oidc_client_secret == DEV_PORTAL_CLIENT_SECRET:
                raise ValueError("KIBAN_PORTAL_OIDC_CLIENT_SECRET must be set in production")
            if self.portal_oidc_issuer and not self.portal_oidc_issuer.startswith("https://"):
                raise ValueError("KIBAN_PORTAL_OIDC_ISSUER must be an https:// URL in production")
            if not self.database_url.startswith("postgresql"):
                raise ValueError("production runs on PostgreSQL: set KIBAN_DATABASE_URL=postgresql+psycopg://...")
        return self

    @property
    def portal_dev_provider_enabled(self) -> bool:
        return self.environment != "production" if self.portal_dev_provider is None else self.portal_dev_provider

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kiban.sqlite3'}"

    @property
    def effective_migration_url(self) -> str:
        return self.migration_database_url or self.effective_database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
