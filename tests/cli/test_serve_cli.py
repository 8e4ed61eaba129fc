"""`steward serve` options checked before it listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_run import steward_cli


@pytest.mark.slow
def test_several_workers_on_the_embedded_sqlite_store_are_refused_naming_why(
    tmp_path: Path,
) -> None:
    done = steward_cli(tmp_path / "home", "serve", "--workers", "2", "--port", "1", timeout=60)
    assert done.returncode == 2, done.stderr
    assert "--workers" in done.stderr
    assert "PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # refused before any token was made
