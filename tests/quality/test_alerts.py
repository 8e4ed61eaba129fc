"""Alerts reach a real HTTP receiver on 127.0.0.1 once per state change, never as a flood."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from steward.quality.alerts import (
    CheckOutcome,
    MemoryAlertState,
    notify,
    state_key,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Receiver:
    """A real HTTP server that records every JSON body POSTed to it, by path."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[tuple[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def bodies(self, path: str) -> list[Any]:
        return [body for at, body in self.received if at == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def outcome(status: str, *, check: str = "order_id.not_null") -> CheckOutcome:
    return CheckOutcome(
        dataset="lake.shop.orders",
        check=check,
        severity="error",
        status=status,  # type: ignore[arg-type]
        message=f"{status}: 3 rows with a null order_id" if status != "pass" else "",
        url="http://steward.local/catalog/lake.shop.orders",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_alertmanager_gets_one_firing_and_one_resolved_alert_for_fail_fail_pass(
    receiver: Receiver,
) -> None:
    state = MemoryAlertState()
    for status in ("fail", "fail", "pass"):
        report = notify([outcome(status)], state=state, alertmanager_url=receiver.url, now=NOW)
        assert report.undelivered == ()
    posts = receiver.bodies("/api/v2/alerts")
    assert len(posts) == 2
    (firing,), (resolved,) = posts
    labels = {
        "alertname": "StewardCheckFailed",
        "dataset": "lake.shop.orders",
        "check": "order_id.not_null",
        "severity": "error",
    }
    assert firing["labels"] == labels
    assert firing["startsAt"] == "2025-03-01T12:00:00Z"
    assert firing["endsAt"] > firing["startsAt"]  # held until resolved, not resolve_timeout
    assert firing["annotations"]["description"] == "fail: 3 rows with a null order_id"
    assert "failed" in firing["annotations"]["summary"]
    assert firing["generatorURL"] == "http://steward.local/catalog/lake.shop.orders"
    assert resolved["labels"] == labels  # same labels: Alertmanager resolves the same alert
    assert resolved["endsAt"] == "2025-03-01T12:00:00Z"


def test_webhook_gets_one_firing_and_one_resolved_message_for_fail_fail_pass(
    receiver: Receiver,
) -> None:
    state = MemoryAlertState()
    for status in ("fail", "fail", "pass"):
        notify([outcome(status)], state=state, webhook_url=receiver.url + "/hook", now=NOW)
    messages = [body["text"] for body in receiver.bodies("/hook")]
    assert len(messages) == 2
    assert "order_id.not_null" in messages[0]
    assert "failed" in messages[0]
    assert "3 rows with a null order_id" in messages[0]
    assert messages[1].startswith(":large_green_circle: Resolved")


def test_both_receivers_each_get_their_alert_once(receiver: Receiver) -> None:
    state = MemoryAlertState()
    for status in ("fail", "fail", "fail", "pass", "pass"):
        notify(
            [outcome(status)],
            state=state,
            alertmanager_url=receiver.url,
            webhook_url=receiver.url + "/hook",
            now=NOW,
        )
    assert len(receiver.bodies("/api/v2/alerts")) == 2
    assert len(receiver.bodies("/hook")) == 2


def test_a_passing_check_that_never_failed_sends_nothing(receiver: Receiver) -> None:
    state = MemoryAlertState()
    report = notify([outcome("pass"), outcome("warn")], state=state, alertmanager_url=receiver.url)
    assert report.sent == ()
    assert receiver.received == []


def test_one_post_carries_every_new_failure_of_a_run(receiver: Receiver) -> None:
    state = MemoryAlertState()
    results = [outcome("fail"), outcome("error", check="orders.sql"), outcome("pass", check="x")]
    report = notify(results, state=state, alertmanager_url=receiver.url, now=NOW)
    (alerts,) = receiver.bodies("/api/v2/alerts")
    assert [a["labels"]["check"] for a in alerts] == ["order_id.not_null", "orders.sql"]
    assert "could not run" in alerts[1]["annotations"]["summary"]
    assert len(report.sent) == 2


def test_a_check_reported_twice_in_one_run_alerts_once(receiver: Receiver) -> None:
    state = MemoryAlertState()
    notify([outcome("error"), outcome("fail")], state=state, alertmanager_url=receiver.url)
    (alerts,) = receiver.bodies("/api/v2/alerts")
    assert len(alerts) == 1
    assert "failed" in alerts[0]["annotations"]["summary"]


def test_receiver_down_then_up_gets_the_alert_once() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    state = MemoryAlertState()
    # Nothing listens on the port: the run goes on, the alert is returned as undelivered.
    report = notify([outcome("fail")], state=state, alertmanager_url=url, webhook_url=url + "/h")
    assert report.sent == ()
    assert {a.receiver for a in report.undelivered} == {"alertmanager", "webhook"}
    assert all(str(port) in a.reason for a in report.undelivered)
    assert state.last(state_key("alertmanager", "lake.shop.orders", "order_id.not_null")) is None

    receiver = Receiver(port)
    try:
        for _ in range(3):
            notify([outcome("fail")], state=state, alertmanager_url=url, webhook_url=url + "/h")
        assert len(receiver.bodies("/api/v2/alerts")) == 1
        assert len(receiver.bodies("/h")) == 1
    finally:
        receiver.close()


def test_a_receiver_that_answers_an_error_is_retried_next_run(receiver: Receiver) -> None:
    state = MemoryAlertState()
    with httpx.Client(timeout=5.0) as http:
        report = notify(
            [outcome("fail")], state=state, alertmanager_url=receiver.url, http=http, now=NOW
        )
    assert report.undelivered == ()
    failing = Receiver()
    failing.server.RequestHandlerClass.do_POST = _answer_503  # type: ignore[attr-defined]
    try:
        report = notify([outcome("pass")], state=state, alertmanager_url=failing.url)
        (alert,) = report.undelivered
        assert alert.transition == "resolved"
        assert "HTTP 503" in alert.reason
        key = state_key("alertmanager", "lake.shop.orders", "order_id.not_null")
        assert state.last(key) == "firing"  # kept, so the resolution is sent next run
    finally:
        failing.close()
    notify([outcome("pass")], state=state, alertmanager_url=receiver.url)
    assert [len(body) for body in receiver.bodies("/api/v2/alerts")] == [1, 1]


def _answer_503(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(503)
    handler.send_header("Content-Length", "4")
    handler.end_headers()
    handler.wfile.write(b"busy")
