"""dbt's own virtual environment for the tests that run real dbt builds.

dbt cannot share the test environment (dbt-core pins an older `pathspec` than mypy
needs), so the `dbt_bin` session fixture installs dbt-core 1.11, dbt-duckdb and
openlineage-dbt once into `~/.cache/steward-tests/dbt-1.11`, from PyPI, and skips,
saying why, where that cannot be done. Registered for every test by `tests/conftest.py`.
"""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REQUIREMENTS = ["dbt-core==1.11.*", "dbt-duckdb==1.11.*", "openlineage-dbt"]
ENV_DIR = Path.home() / ".cache" / "steward-tests" / "dbt-1.11"
COMMANDS = ("dbt", "dbt-ol")


@pytest.fixture(scope="session")
def dbt_bin() -> Path:
    """The `bin` directory of a virtual environment holding `dbt` and `dbt-ol`."""
    bin_dir = ENV_DIR / "bin"
    if all((bin_dir / command).exists() for command in COMMANDS):
        return bin_dir
    shutil.rmtree(ENV_DIR, ignore_errors=True)
    venv.create(ENV_DIR, with_pip=True)
    installed = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", *REQUIREMENTS],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if installed.returncode != 0 or not all((bin_dir / c).exists() for c in COMMANDS):
        shutil.rmtree(ENV_DIR, ignore_errors=True)
        pytest.skip(f"could not install {' '.join(REQUIREMENTS)}: {installed.stderr[-500:]}")
    return bin_dir
