"""A fresh `steward serve` on loopback for the HTTP benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

STEWARD_SERVE = [sys.executable, "-m", "steward.cli", "serve"]


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(
    home: Path, database_url: str | None = None, *, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server on an emptied `home` (or `database_url`), with `workers` processes: the
    process, its URL, admin token."""
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "STEWARD_HOME": str(home)}
    env.pop("STEWARD_DATABASE_URL", None)
    if database_url:
        env["STEWARD_DATABASE_URL"] = database_url
    port = free_port()
    process = subprocess.Popen(
        [*STEWARD_SERVE, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    token = process.stdout.readline().decode().strip()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, url, token
