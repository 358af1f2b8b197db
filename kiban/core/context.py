"""Per-request context (request id) shared by logging and the audit log, without threading it through every call."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("kiban_request_id", default=None)


def new_request_id() -> str:
    """Start a request (or batch job step): a fresh id, set for the current context and returned."""
    rid = uuid.uuid4().hex
    _request_id.set(rid)
    return rid


def set_request_id(rid: str) -> None:
    _request_id.set(rid)


def request_id() -> str:
    """The current request id; outside any request (CLI, jobs) one is created on first use."""
    rid = _request_id.get()
    return rid if rid is not None else new_request_id()
