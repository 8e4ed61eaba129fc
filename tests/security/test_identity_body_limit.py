"""One body size limit before authentication: a live server refuses a body too large at
once (413), without reading it, on every route, whoever sends it."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.config import Settings
from steward.identity.tokens import create_token
from tests.e2e.conftest import Server, server  # noqa: F401 - the live-server fixture
from tests.openlineage_events import dataset, run_event
from tests.security.identity_live import resident_bytes, server_pid, start_live

# Slow: a live `steward serve` for each case.
pytestmark = pytest.mark.slow

MB = 1024 * 1024


def connect(live: Server) -> socket.socket:
    parts = urlsplit(live.url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)
    return sock


def head(path: str, *lines: str) -> bytes:
    return "\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *lines, "", ""]).encode()


def answer(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    """Status, headers and JSON body of the one response on `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    header, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = header.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, json.loads(body[:length])


@pytest.mark.parametrize("path", ["/api/v1/lineage", "/api/v1/audit/trino", "/no/such/route"])
def test_an_unauthenticated_100_mb_body_is_refused_before_it_is_read(
    request: pytest.FixtureRequest, database_url: str | None, path: str
) -> None:
    live = start_live(request)  # the default limit, 64 MiB
    pid = server_pid(live)
    before = resident_bytes(pid)
    with connect(live) as sock:
        started = time.monotonic()
        # Declares 100 MB, sends 64 KiB of it: an answer now proves nothing waited for the rest.
        sock.sendall(head(path, f"Content-Length: {100 * MB}", "Content-Type: application/json"))
        sock.sendall(b"[" * 65536)
        status, headers, body = answer(sock)
        elapsed = time.monotonic() - started
        assert status == 413
        assert body == {"error": f"body: larger than the {64 * MB} byte limit"}
        assert headers["connection"] == "close"
        assert elapsed < 2
        # The server hangs up rather than reading on: the rest of the 100 MB finds no reader.
        sent = 0
        with pytest.raises(OSError):  # noqa: PT012 - the error comes within a few sends
            while sent < 100 * MB:
                sock.sendall(b"[" * MB)
                sent += MB
        assert sent < 32 * MB
    assert resident_bytes(pid) - before < 32 * MB


def test_a_chunked_body_is_counted_as_it_streams(
    request: pytest.FixtureRequest, database_url: str | None
) -> None:
    live = start_live(request, max_body_bytes=MB)
    with connect(live) as sock:
        sock.sendall(
            head(
                "/api/v1/lineage/batch",
                f"Authorization: Bearer {live.token}",
                "Transfer-Encoding: chunked",
                "Content-Type: application/json",
            )
        )
        chunk = b"[" * 65536
        for _ in range(MB // len(chunk) + 2):  # a little past the limit, then wait
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        status, _, body = answer(sock)
    assert status == 413
    assert body == {"error": f"body: larger than the {MB} byte limit"}


def test_a_body_within_the_limit_reaches_the_route(
    request: pytest.FixtureRequest, database_url: str | None
) -> None:
    import httpx

    live = start_live(request, max_body_bytes=MB)
    event = run_event("etl", outputs=[dataset("wh", "b")])
    response = httpx.post(
        f"{live.url}/api/v1/lineage/batch",
        json=[event],
        headers={"Authorization": f"Bearer {live.token}"},
    )
    assert response.status_code == 201, response.text
    unauthenticated = httpx.post(f"{live.url}/api/v1/lineage/batch", content=b"[" * 1000)
    assert unauthenticated.status_code == 401


def test_a_route_parsing_its_body_itself_still_answers_413(
    tmp_path: Path, database_url: str | None
) -> None:
    # FastAPI turns any error while reading a pydantic body into its own 400; the limit's
    # 413 replaces it, whichever route reads the body.
    steward = Steward(
        Settings(home=tmp_path / "home", database_url=database_url, max_body_bytes=4096)
    )
    steward.upgrade()
    admin = create_token(steward.store, user="root", is_admin=True).secret
    chunks = (b" " * 1024 for _ in range(10))  # no Content-Length: sent chunked
    with TestClient(create_app(steward)) as http:
        response = http.patch(
            "/api/v1/datasets/wh/b",
            content=chunks,
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
    steward.close()
    assert response.status_code == 413
    assert response.json() == {"error": "body: larger than the 4096 byte limit"}
