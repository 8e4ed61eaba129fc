"""A data file of a table that is not where its snapshot says (deleted, a lake moved) is
a clear error naming the file: a quality run reports its checks errored, a governed query
is refused with a `SourceError`, neither a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.app import Steward
from steward.connectors.iceberg import lake_catalog
from steward.engines.iceberg_files import plan_iceberg
from steward.errors import SourceError
from steward.policy.query import run_query
from steward.policy.wiring import access_for
from steward.quality.load import parse_checks
from steward.quality.run import run_dataset
from tests.engines.test_quoted_home import ANALYST, make_governed_shop
from tests.quality.conftest import checks_text

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def missing(steward: Steward) -> str:
    """The shop lake with one data file of `lake.shop.orders` deleted; its path."""
    make_governed_shop(steward)
    catalog = lake_catalog(steward.settings.home)
    try:
        gone = plan_iceberg(catalog.load_table("shop.orders"), name="lake.shop.orders").files[0]
    finally:
        catalog.close()
    Path(gone).unlink()
    return gone


def test_quality_run_over_a_missing_data_file_errors_each_check_naming_it(
    steward: Steward, missing: str
) -> None:
    dataset = parse_checks(checks_text("lake.shop.orders", "lake.shop.customers")).datasets[0]
    results = run_dataset(steward, dataset)
    assert {r.status for r in results} == {"error"}
    assert all(missing in r.message for r in results), results[0].message


def test_governed_query_over_a_missing_data_file_is_a_source_error_naming_it(
    steward: Steward, missing: str
) -> None:
    with pytest.raises(SourceError, match="data files cannot be read") as raised:
        run_query(
            steward,
            "SELECT count(*) FROM lake.shop.orders",
            ANALYST,
            access_for=access_for(steward, ANALYST),
        )
    assert missing in str(raised.value)
