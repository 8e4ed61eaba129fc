"""Start the e2e suite's live `steward serve` (tests/e2e/conftest.py) with chosen settings,
and read what it holds, as its operator would."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import STEWARD, Server


def start_live(request: pytest.FixtureRequest, **settings: object) -> Server:
    """The e2e `server` fixture, started with `settings` in its `steward.toml`.

    The calling module imports the `server` fixture, and the test takes `database_url`,
    so that it runs on the SQLite and the PostgreSQL store.
    """
    home = cast(Path, request.getfixturevalue("tmp_path")) / "home"
    home.mkdir(parents=True, exist_ok=True)
    # JSON strings, numbers, booleans and lists of them are TOML values as they are.
    lines = ["[steward]", *(f"{name} = {json.dumps(value)}" for name, value in settings.items())]
    (home / "steward.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cast(Server, request.getfixturevalue("server"))


def steward_command(live: Server, *args: str) -> str:
    """`steward ARGS...` against the live server's store; its stdout."""
    done = subprocess.run(
        [*STEWARD, *args], env=live.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def server_pid(live: Server) -> int:
    """The process id of the live server (found by its port, as `ps` would)."""
    port = str(urlsplit(live.url).port)
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and port.encode() in args:
            return int(cmdline.parent.name)
    raise AssertionError(f"no steward serve process on port {port}")


def resident_bytes(pid: int) -> int:
    """The memory a process holds (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")
