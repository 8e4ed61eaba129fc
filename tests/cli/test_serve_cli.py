"""`steward serve` options checked before it listens."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_run import STEWARD


@pytest.mark.slow
def test_several_workers_on_an_in_memory_store_are_refused_naming_why(tmp_path: Path) -> None:
    # Several processes share a store file (SQLite or PostgreSQL), never one process's memory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(STEWARD_HOME=str(tmp_path / "home"), STEWARD_DATABASE_URL="sqlite://")
    done = subprocess.run(
        [*STEWARD, "serve", "--workers", "2", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--workers" in done.stderr
    assert "in-memory" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # refused before any token was made
