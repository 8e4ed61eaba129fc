"""Exports catch up from their cursor: a receiver down then up gets every record once."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from steward.app import Steward
from steward.audit.export import export_to_jsonl, export_to_loki
from steward.errors import SourceError
from tests.audit.conftest import append


class Loki(http.server.BaseHTTPRequestHandler):
    """Loki's push endpoint, keeping what it receives."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/loki/api/v1/push":
            self.send_response(404)
        else:
            self.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def loki(port: int) -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (Loki,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def entries(pushes: list[dict[str, Any]]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    return [
        (stream["stream"], json.loads(line))
        for push in pushes
        for stream in push["streams"]
        for _ts, line in stream["values"]
    ]


def test_loki_down_then_up_loses_nothing_and_duplicates_nothing(steward: Steward) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    append(steward, 7)
    with pytest.raises(SourceError, match="loki"):
        export_to_loki(steward.store, url, timeout=2)
    append(steward, 5)  # the log keeps growing while Loki is down
    with loki(port) as received:
        result = export_to_loki(steward.store, url)
        assert result.sent == 12
        again = export_to_loki(steward.store, url)
        assert again.sent == 0
        append(steward, 3)
        assert export_to_loki(steward.store, url).sent == 3
    seqs = [record["seq"] for _labels, record in entries(received)]
    assert sorted(seqs) == list(range(1, 16))
    labels, first = min(entries(received), key=lambda e: e[1]["seq"])
    assert labels == {
        "job": "steward-audit",
        "user": "ana",
        "action": "query",
        "decision": "allowed",
    }
    assert first["resource"]["dataset"] == "lake.crm.customers"


def test_jsonl_export_appends_once_and_rotates(steward: Steward, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    append(steward, 20)
    assert export_to_jsonl(steward.store, path, max_bytes=2048, keep=3).sent == 20
    append(steward, 20)
    assert export_to_jsonl(steward.store, path, max_bytes=2048, keep=3).sent == 20
    assert export_to_jsonl(steward.store, path, max_bytes=2048, keep=3).sent == 0
    files = sorted(tmp_path.glob("audit.jsonl*"))
    assert [f.name for f in files] == ["audit.jsonl", "audit.jsonl.1"]
    seqs = [json.loads(line)["seq"] for f in files for line in f.read_text().splitlines()]
    assert sorted(seqs) == list(range(1, 41))
