"""Replicas starting together against an empty PostgreSQL database all come up migrated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from steward.store import open_store


def test_four_upgrades_at_once_migrate_once_and_all_succeed(
    empty_database: str, tmp_path: Path
) -> None:
    environment = {**os.environ, "STEWARD_DATABASE_URL": empty_database}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", "from steward.cli.main import main; main()", "db", "upgrade"],
            env={**environment, "STEWARD_HOME": str(tmp_path / str(n))},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in processes]
    assert [code for _, code in outcomes] == [0, 0, 0, 0], outcomes
    store = open_store(empty_database)
    try:
        assert store.is_current()
    finally:
        store.dispose()
