"""``create_app``: the one place that wires domains into the web application.

Adding a domain: import its ``api.router`` / ``views.router`` and ``NAV`` here, and its templates package in
``TEMPLATE_PACKAGES``. The app refuses to start if any route declares no permission (deny by default).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from kiban.benefits import api as benefits_api
from kiban.benefits import views as benefits_views
from kiban.core.audit import api as audit_api
from kiban.core.audit import views as audit_views
from kiban.core.config import Settings, get_settings
from kiban.core.db import Database
from kiban.core.http.auth import undeclared_routes
from kiban.core.http.responses import install_error_handlers, install_request_log
from kiban.core.http.runtime import NavItem, Runtime
from kiban.core.http.templates import add_template_package
from kiban.core.identity import api as identity_api
from kiban.core.identity import views as identity_views
from kiban.core.params import api as params_api
from kiban.core.params import views as params_views
from kiban.core.tenants import api as tenants_api
from kiban.core.tenants import views as tenants_views
from kiban.payments import api as payments_api
from kiban.payments import views as payments_views
from kiban.portal import dev_provider as portal_dev_provider
from kiban.portal import views as portal_views
from kiban.registry import api as registry_api
from kiban.registry import report_views as registry_report_views
from kiban.registry import views as registry_views
from kiban.tax import api as tax_api
from kiban.tax import views as tax_views
from kiban.web import home

STATIC_DIR = Path(__file__).resolve().parent.parent / "core" / "http" / "static"

ROUTERS: list[APIRouter] = [
    home.router,
    identity_views.router,
    identity_api.router,
    params_views.router,
    params_api.router,
    audit_views.router,
    audit_api.router,
    tenants_views.router,
    tenants_api.router,
    registry_report_views.router,
    registry_views.router,
    registry_api.router,
    tax_views.router,
    tax_api.router,
    benefits_views.router,
    benefits_api.router,
    payments_views.router,
    payments_api.router,
    portal_views.router,
    portal_dev_provider.router,
]
TEMPLATE_PACKAGES = [
    "kiban.web",
    "kiban.core.identity",
    "kiban.core.params",
    "kiban.core.audit",
    "kiban.core.tenants",
    "kiban.registry",
    "kiban.tax",
    "kiban.benefits",
    "kiban.payments",
    "kiban.portal",
]
NAV: list[NavItem] = [
    *registry_views.NAV,
    *registry_report_views.NAV,
    *tax_views.NAV,
    *benefits_views.NAV,
    *payments_views.NAV,
    *params_views.NAV,
    *audit_views.NAV,
    *tenants_views.NAV,
]

log = logging.getLogger("kiban.web")


class UndeclaredRoutes(RuntimeError):
    """A route without a declared permission: refusing to serve it."""


def create_app(database: Database | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.effective_database_url)
    app = FastAPI(
        title="Kiban 自治体基盤 API",
        version="0.1.0",
        description="全国の市区町村が共同利用する標準準拠の行政基盤。すべての操作は職員の権限と監査記録の対象です。",
    )
    app.state.runtime = Runtime(database=database, settings=settings, nav=list(NAV))
    for package in TEMPLATE_PACKAGES:
        add_template_package(package)
    for router in ROUTERS:
        # The routes themselves (their routers carry the full prefix), so the app's route list is flat and the
        # permission check below sees every route, whatever FastAPI does with included routers.
        app.router.routes.extend(router.routes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    install_request_log(app)
    missing = undeclared_routes(app.routes)
    if missing:
        raise UndeclaredRoutes(f"routes without a declared permission: {missing}")
    if not (STATIC_DIR / "tokens.css").exists():
        log.warning("design tokens missing: run scripts/setup (npm @digital-go-jp/design-tokens)")
    return app
