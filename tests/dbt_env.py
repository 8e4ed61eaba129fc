"""dbt's own virtual environment for the tests that run real dbt builds.

dbt cannot share the test environment (dbt-core pins an older `pathspec` than mypy
needs), so the `dbt_bin` session fixture installs dbt-core 1.11, dbt-duckdb and
openlineage-dbt once into a cached environment (`tests/cached_venv.py`), from PyPI, and
skips, saying why, where that cannot be done. Registered for every test by `tests/conftest.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cached_venv import cached_venv

REQUIREMENTS = ["dbt-core==1.11.*", "dbt-duckdb==1.11.*", "openlineage-dbt"]
COMMANDS = ("dbt", "dbt-ol")


@pytest.fixture(scope="session")
def dbt_bin() -> Path:
    """The `bin` directory of a virtual environment holding `dbt` and `dbt-ol`."""
    return cached_venv("dbt-1.11", REQUIREMENTS, COMMANDS)
