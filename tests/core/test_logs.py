"""Log lines are JSON with the request id; the scanner the suite runs over all logs finds My Numbers."""

from __future__ import annotations

import io
import json
import logging

from kiban.core.context import set_request_id
from kiban.core.identifiers import find_my_number_candidates
from kiban.core.logs import JsonFormatter


def test_json_lines_carry_the_request_id_and_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("kiban.test-logs")
    logger.addHandler(handler)
    try:
        set_request_id("req-123")
        logger.warning("done", extra={"route": "/api/v1/users/{user_id}", "status": 200})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["request_id"] == "req-123"
    assert line["route"] == "/api/v1/users/{user_id}"
    assert line["status"] == 200
    assert line["level"] == "warning"


def test_the_log_scanner_catches_a_logged_my_number() -> None:
    logged = json.dumps({"message": "lookup", "value": "621498320257"})
    assert find_my_number_candidates(logged) == ["621498320257"]  # DOMAIN.md's valid example
    assert find_my_number_candidates(json.dumps({"request_id": "0" * 32, "ms": 123456789012})) == []
