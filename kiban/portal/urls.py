"""The portal's own addresses as the identity provider sees them (absolute, on the server the request reached)."""

from __future__ import annotations

from fastapi import Request

CALLBACK = "/portal/callback"
DEV_PROVIDER = "/portal/dev-idp"


def callback_url(request: Request) -> str:
    """The redirect URI registered with the provider."""
    return str(request.base_url).rstrip("/") + CALLBACK


def dev_issuer(request: Request) -> str:
    """The development provider's issuer on this server."""
    return str(request.base_url).rstrip("/") + DEV_PROVIDER
