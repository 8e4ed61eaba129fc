"""A live `steward serve` on loopback, for tests that drive it as its users would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

STEWARD = [sys.executable, "-m", "steward.cli"]


@dataclass
class Server:
    url: str
    token: str
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[str]:
    # stderr (the request log) goes to a file: a pipe nobody reads would stall the server.
    with log.open("w") as stderr:
        return subprocess.Popen(
            [*STEWARD, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def _wait_healthy(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"steward serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("steward serve did not become healthy in 30 s")


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop the server; what it printed on stdout after the lines already read."""
    process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


@pytest.fixture
def server(tmp_path: Path, database_url: str | None) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(tmp_path / "home")
    if database_url:
        env["STEWARD_DATABASE_URL"] = database_url
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = _start(env, port, log)
    assert process.stdout is not None
    token = process.stdout.readline().strip()
    _wait_healthy(url, process, log)
    yield Server(url, token, env)
    _stop(process)
