"""How errors reach people: Japanese pages for browsers, JSON for ``/api``; request ids in every response."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from kiban.core.context import new_request_id
from kiban.core.errors import InputError, KibanError, NotFound, PermissionDenied
from kiban.core.http.auth import NotSignedIn, current_principal
from kiban.core.http.templates import render

log = logging.getLogger("kiban.http")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page(request: Request, status: int, heading: str, message: str) -> Response:
    principal = current_principal(request) if status != 401 else None
    return render(
        request, "error.html", {"heading": heading, "message": message}, principal=principal, status_code=status
    )


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "not_signed_in", "message": str(exc)}, status_code=401)
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


async def _denied(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "forbidden", "message": str(exc)}, status_code=403)
    return _page(request, 403, "権限がありません", str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "not_found", "message": str(exc)}, status_code=404)
    return _page(request, 404, "見つかりません", str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InputError)
    errors = [{"field": e.field, "received": e.received, "fix": e.fix, "message": e.message} for e in exc.errors]
    if _is_api(request):
        return JSONResponse({"error": "invalid_input", "errors": errors}, status_code=422)
    return _page(request, 422, "入力内容を確認してください", str(exc))


async def _request_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": "形式が正しくありません。"}
        for e in exc.errors()
    ]
    return JSONResponse({"error": "invalid_input", "errors": errors}, status_code=422)


async def _other(request: Request, exc: Exception) -> Response:
    return _page(request, 400, "処理できませんでした", str(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(PermissionDenied, _denied)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InputError, _invalid)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(KibanError, _other)


def install_request_log(app: FastAPI) -> None:
    """One JSON line per request: route template (never the concrete path or query), status, time, who."""

    @app.middleware("http")
    async def request_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = new_request_id()
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        principal = getattr(request.state, "principal", None)
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": getattr(route, "path", "(unmatched)"),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "lg_code": getattr(principal, "lg_code", None),
                "user": getattr(principal, "user_id", None),
            },
        )
        response.headers["X-Request-ID"] = rid
        return response
