"""A governed query calls only what the engine it runs on allows: the engine's allow-list,
checked on the caller's SQL and again on the rewritten SQL the engine will run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.engines.base import Engine
from steward.engines.duckdb import DuckDBEngine
from steward.errors import Forbidden
from steward.policy.query import run_query
from tests.query.conftest import ANALYST, analyst_access, make_lake


class WithoutJaccard(DuckDBEngine):
    """DuckDB allowing all it usually does but `jaccard` (an engine with a narrower list)."""

    def allowed_functions(self) -> frozenset[str]:
        return super().allowed_functions() - {"jaccard"}


@pytest.fixture
def narrow(settings: Settings) -> Iterator[Steward]:
    instance = Steward(settings, engine=WithoutJaccard())
    instance.upgrade()
    make_lake(instance)
    yield instance
    instance.close()


SQL = "SELECT jaccard(name, 'Ada') AS d FROM lake.crm.customers ORDER BY id"


@pytest.mark.engines("duckdb")  # jaccard is DuckDB's; the narrow engine below is DuckDB too
def test_the_configured_engine_allows_the_function(lake: Steward, engine: Engine) -> None:
    assert "jaccard" in engine.allowed_functions()
    rows = run_query(lake, SQL, ANALYST, access_for=analyst_access).rows
    assert rows[0] == [1.0]


def test_a_function_outside_the_engines_allow_list_is_refused(narrow: Steward) -> None:
    with pytest.raises(Forbidden, match=r"function jaccard\(\) is not allowed"):
        run_query(narrow, SQL, ANALYST, access_for=analyst_access)


def test_a_function_outside_the_engines_allow_list_is_refused_inside_a_subquery(
    narrow: Steward,
) -> None:
    nested = "SELECT * FROM (SELECT jaccard(name, 'x') FROM lake.crm.customers) AS t"
    with pytest.raises(Forbidden, match=r"jaccard\(\)"):
        run_query(narrow, nested, ANALYST, access_for=analyst_access)
