"""Where no PostgreSQL is running, the suite starts its own from the installed binaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.identity.tokens import authenticate, create_token
from tests.postgres import TemporaryServer, _binaries

# Slow: starts a PostgreSQL server of its own.
pytestmark = pytest.mark.slow


def test_suite_can_start_a_postgresql_server_and_steward_runs_on_it(tmp_path: Path) -> None:
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb) on this machine")
    server = TemporaryServer(bin_dir)
    try:
        steward = Steward(Settings(home=tmp_path, database_url=server.url))
        steward.upgrade()
        issued = create_token(steward.store, user="pg")
        assert authenticate(steward.store, issued.secret).user == "pg"
        assert steward.store.dialect == "postgresql"
        steward.close()
    finally:
        server.stop()
