"""A live `steward serve` on loopback with its lineage normaliser process, for the tests
that must kill one or the other."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STEWARD = [sys.executable, "-m", "steward.cli"]


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    """A server's process, URL and admin token (printed on its first start only)."""

    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or restart) the server on the same home and port; wait until it answers."""
        with (self.home.parent / f"serve-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [*STEWARD, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        if not self.starts:
            self.token = self.process.stdout.readline().decode().strip()
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"steward serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("steward serve did not answer in 60 s")

    def wait_caught_up(self, timeout: float = 120) -> None:
        """Wait until the graph holds every event stored (the normaliser may still be
        starting: a consistent read answers 503 until then)."""
        deadline = time.monotonic() + timeout
        auth = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < deadline:
            answer = httpx.get(
                f"{self.url}/api/v1/jobs", params={"consistent": "true"}, headers=auth, timeout=60
            )
            if answer.status_code == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the graph did not catch up in {timeout} s")

    def normaliser_pid(self, timeout: float = 30) -> int:
        """The pid of the server's normaliser process (waits for a restarted one)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in _children(self.process.pid):
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if b"normalise" in command:
                    return pid
            time.sleep(0.05)
        raise RuntimeError("no normaliser process beside the server")

    def kill(self) -> None:
        """kill -9 the server (its normaliser then stops by itself)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self._close()

    def stop(self) -> None:
        """Stop the server as an operator would (SIGTERM), waiting for it to end."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def live_server(home: Path, database_url: str | None = None, **settings: str) -> Live:
    """A server (not yet started) on `home`, with `STEWARD_*` settings given by name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(home)
    if database_url:
        env["STEWARD_DATABASE_URL"] = database_url
    env.update({f"STEWARD_{name.upper()}": value for name, value in settings.items()})
    return Live(home=home, port=free_port(), env=env)
