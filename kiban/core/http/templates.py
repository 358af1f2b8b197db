"""Server-rendered staff pages: one Jinja environment over every domain's ``templates/`` folder.

Every page extends ``base.html``, which always shows the acting municipality's name and the navigation the
user's roles allow.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from kiban.core.banks import masked_account_number
from kiban.core.dates import to_wareki
from kiban.core.http.runtime import Runtime, runtime
from kiban.core.identity.permissions import PLATFORM, ROLES, Principal
from kiban.core.money import format_yen
from kiban.core.tenants.models import Tenant

TEMPLATE_PACKAGES = ["kiban.core.http"]
"""Packages with a ``templates/`` folder; domains append theirs when their views module is imported."""


def add_template_package(package: str) -> None:
    if package not in TEMPLATE_PACKAGES:
        TEMPLATE_PACKAGES.append(package)
        _environment.cache_clear()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([PackageLoader(p, "templates") for p in TEMPLATE_PACKAGES]),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wareki"] = to_wareki
    env.filters["yen"] = format_yen
    env.filters["masked_account"] = masked_account_number
    env.filters["number"] = lambda n: f"{n:,}"
    return env


def tenant_name(rt: Runtime, lg_code: str) -> str:
    """The municipality's name for the page header, read once per process (the catalogue changes only with a
    release of the package)."""
    if lg_code == PLATFORM:
        return "基盤運用（国）"
    if lg_code not in rt.tenant_names:
        with rt.database.tenant(None) as s:
            tenant = s.get(Tenant, lg_code)
            rt.tenant_names[lg_code] = tenant.name if tenant else lg_code
    return rt.tenant_names[lg_code]


def render(
    request: Request, template: str, context: dict[str, Any], *, principal: Principal | None, status_code: int = 200
) -> HTMLResponse:
    rt = runtime(request)
    page: dict[str, Any] = {"request": request, "principal": principal, "nav": [], "tenant_name": None}
    if principal is not None:
        page["tenant_name"] = tenant_name(rt, principal.lg_code)
        page["nav"] = [item for item in rt.nav if item.permission in principal.permissions]
        page["role_labels"] = [ROLES[r].label for r in sorted(principal.roles)]
    page.update(context)
    html = _environment().get_template(template).render(page)
    return HTMLResponse(html, status_code=status_code)
