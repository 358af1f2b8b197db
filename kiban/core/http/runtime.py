"""The application's long-lived objects, kept on ``app.state.runtime`` (no module-level globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from kiban.core.config import Settings
from kiban.core.db import Database


@dataclass
class NavItem:
    """One entry of the staff navigation; shown only to users holding ``permission``."""

    label: str
    href: str
    permission: str


@dataclass
class Runtime:
    database: Database
    settings: Settings
    nav: list[NavItem] = field(default_factory=list)
    tenant_names: dict[str, str] = field(default_factory=dict)
    """Cache of the page header's municipality names (see ``templates.tenant_name``)."""


def runtime(request: Request) -> Runtime:
    value = request.app.state.runtime
    assert isinstance(value, Runtime)
    return value
