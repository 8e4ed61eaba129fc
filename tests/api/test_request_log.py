"""The request log: one structured line per request, never a token, a cookie or a query."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from steward.api.request_log import LineFormatter
from steward.app import Steward
from steward.identity.tokens import create_token


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [r.fields for r in caplog.records if r.name == "steward.requests"]  # type: ignore[attr-defined]


def test_each_request_is_one_line_naming_who_asked_without_secrets(
    steward: Steward, anonymous: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    issued = create_token(steward.store, user="ana")
    caplog.set_level(logging.INFO, logger="steward.requests")
    anonymous.cookies.set("steward_session", "cookie-secret")
    answered = anonymous.get(
        "/api/v1/audit?limit=1&token=query-secret",
        headers={"Authorization": f"Bearer {issued.secret}", "X-Request-ID": "trace-42"},
    )
    assert answered.status_code == 403  # the audit log is for admins; still one line
    assert answered.headers["X-Request-ID"] == "trace-42"
    [line] = _lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/audit"
    assert line["status"] == 403
    assert line["user"] == "ana"
    assert line["token_id"] == issued.token_id
    assert line["request_id"] == "trace-42"
    assert isinstance(line["duration_ms"], float)
    written = caplog.text + "".join(LineFormatter("json").format(r) for r in caplog.records)
    for secret in (issued.secret, "query-secret", "cookie-secret"):
        assert secret not in written


def test_a_request_id_that_could_forge_a_line_is_replaced(
    anonymous: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="steward.requests")
    answered = anonymous.get("/health", headers={"X-Request-ID": "x\tstatus=200 user=admin"})
    assert answered.status_code == 200
    given = answered.headers["X-Request-ID"]
    assert given.isalnum()
    [line] = _lines(caplog)
    assert line["request_id"] == given
    assert line["user"] is None


def test_json_lines_are_one_object_and_text_lines_quote_odd_values() -> None:
    record = logging.LogRecord("steward.requests", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"method": "GET", "path": "/api/v1/datasets/a b\nc", "status": 200}
    as_json = LineFormatter("json").format(record)
    assert "\n" not in as_json
    parsed = json.loads(as_json)
    assert parsed["path"] == "/api/v1/datasets/a b\nc"
    assert parsed["level"] == "info"
    as_text = LineFormatter("text").format(record)
    assert "\n" not in as_text
    assert 'path="/api/v1/datasets/a b\\nc" status=200' in as_text
