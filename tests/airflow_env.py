"""Airflow 3's own virtual environment for the test that runs a real DAG.

Airflow cannot share the test environment (it pins its own SQLAlchemy, FastAPI and
openlineage-python), so the `airflow_bin` session fixture installs Airflow with the
OpenLineage, PostgreSQL and common-sql providers once into a cached environment
(`tests/cached_venv.py`), constrained the way Airflow asks (`tests/airflow-constraints.txt`),
and skips, saying why, where that cannot be done. Registered for every test by
`tests/conftest.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cached_venv import cached_venv

REQUIREMENTS = [
    "apache-airflow==3.3.2",
    "apache-airflow-providers-openlineage==2.20.3",
    "apache-airflow-providers-postgres==7.1.1",
    "apache-airflow-providers-common-sql==2.4.0",
]
CONSTRAINTS = Path(__file__).parent / "airflow-constraints.txt"


@pytest.fixture(scope="session")
def airflow_bin() -> Path:
    """The `bin` directory of a virtual environment holding `airflow`."""
    return cached_venv("airflow-3.3", REQUIREMENTS, ("airflow",), constraints=CONSTRAINTS)
