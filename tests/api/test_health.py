"""Liveness and readiness: what a Kubernetes probe or a load balancer asks, without a token."""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.config import Settings


def test_ready_when_the_store_is_migrated(anonymous: TestClient) -> None:
    response = anonymous.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_not_ready_before_the_store_is_migrated(tmp_path: Path) -> None:
    steward = Steward(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/new.db"))
    try:
        with TestClient(create_app(steward)) as http:
            live, ready = http.get("/health"), http.get("/health/ready")
    finally:
        steward.close()
    assert live.status_code == 200
    assert ready.status_code == 503
    assert "steward db upgrade" in ready.json()["detail"]


def test_not_ready_when_the_store_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://steward@127.0.0.1:{port}/steward?connect_timeout=2"
    steward = Steward(Settings(home=tmp_path, database_url=url))
    try:
        with TestClient(create_app(steward)) as http:
            live, ready = http.get("/health"), http.get("/health/ready")
    finally:
        steward.close()
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["detail"].startswith("store unreachable")
