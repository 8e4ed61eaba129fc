"""Governed queries on Spark where Spark and DuckDB differ: DuckDB's own syntax is refused.

The adversarial suite (tests/query) runs on Spark through the `engine_name` fixture; the
cases written in DuckDB's own syntax are marked for DuckDB there. Here they run on Spark,
which must refuse them (Spark cannot parse or bind them) with a 400 that is audited as
failed, and show no row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.config import Settings
from steward.errors import InvalidInput
from steward.policy.query import run_query
from tests.query.conftest import ANALYST, analyst_access, make_lake

pytestmark = [pytest.mark.spark, pytest.mark.timeout(300)]


@pytest.fixture
def lake(tmp_path: Path, spark_remote: str) -> Iterator[Steward]:
    steward = Steward(Settings(home=tmp_path / "home", engine="spark", spark_remote=spark_remote))
    steward.upgrade()
    make_lake(steward)
    yield steward
    steward.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT COLUMNS(*) FROM customers",
        "SELECT * FROM customers UNION BY NAME SELECT * FROM customers",
        "SELECT email[2:5], ssn[1:3] FROM customers",
    ],
)
def test_duckdb_only_syntax_is_refused_on_spark_and_audited(lake: Steward, sql: str) -> None:
    with pytest.raises(InvalidInput, match=r"^sql: "):
        run_query(lake, sql, ANALYST, access_for=analyst_access)

    with lake.store.read() as conn:
        records = list_records(conn, AuditFilter(action="query"), limit=10)
    assert [r.decision for r in records] == ["failed"]
