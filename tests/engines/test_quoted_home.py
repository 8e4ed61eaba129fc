"""A Steward home whose path holds a quote, a space or a percent sign: its lake's tables
are read where pyiceberg wrote their data files, by the governed query path and by a
quality run.

Pyiceberg's file IO (as Iceberg's Hadoop one) takes a location's path as written, not
percent-decoded: the lake's warehouse is given so (`file://` and the path as it is), so
the data files land inside the home's private warehouse, and are read where they are.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings
from steward.identity.models import Principal
from steward.policy.query import run_query
from steward.policy.versions import apply
from steward.policy.wiring import access_for
from steward.quality.load import parse_checks
from steward.quality.run import run_dataset
from tests.quality.conftest import EXPECTED, checks_text, make_shop

ADMIN = Principal(user="admin", is_admin=True)
ANALYST = Principal(user="ann", groups=frozenset({"analysts"}))
# Analysts read the shop with the orders' emails redacted, placed orders only.
POLICY = """\
roles: {analyst: {groups: [analysts]}}
grants: [{roles: [analyst], select: ["lake.shop.*"]}]
masks: [{columns: ["lake.shop.orders_clean.email"], mask: redact}]
row_filters: [{table: lake.shop.orders_clean, roles: [analyst], where: "status <> 'returned'"}]
"""


@pytest.fixture(params=["it's home", "50% off home"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """SQLite only: what is under test is where the lake's files are read from."""
    return Settings(home=tmp_path / request.param)


def make_governed_shop(steward: Steward) -> None:
    """The quality tests' shop lake, synced, with `POLICY` applied."""
    make_shop(steward)
    source = steward.source("lake")
    try:
        sync(steward.store, source)
    finally:
        source.close()
    apply(steward.store, POLICY, actor=ADMIN)


@pytest.fixture
def lake(steward: Steward) -> Steward:
    make_governed_shop(steward)
    return steward


def test_governed_query_reads_a_table_of_a_home_with_a_quote_in_its_path(lake: Steward) -> None:
    sql = "SELECT order_id, status, email FROM lake.shop.orders_clean ORDER BY order_id"
    result = run_query(lake, sql, ANALYST, access_for=access_for(lake, ANALYST))
    assert result.rows == [[1, "placed", "****"], [2, "shipped", "****"]]


def test_quality_run_checks_a_table_of_a_home_with_a_quote_in_its_path(lake: Steward) -> None:
    """The same counts as in any home, over a table of two data files and its customers."""
    dataset = parse_checks(checks_text("lake.shop.orders", "lake.shop.customers")).datasets[0]
    found = {r.name: (r.status, r.failures) for r in run_dataset(lake, dataset)}
    assert found == {n.format(customers="lake.shop.customers"): v for n, v in EXPECTED.items()}


def test_a_home_with_a_quote_in_its_path_keeps_its_lake_inside_it(lake: Steward) -> None:
    """Every data file is under the home's owner-only warehouse, none beside the home."""
    home = lake.settings.home
    warehouse = home / "lakehouse" / "warehouse"
    data_files = list(home.parent.rglob("*.parquet"))
    assert data_files
    assert all(warehouse in p.parents for p in data_files)
    assert os.stat(warehouse).st_mode & 0o777 == 0o700
    assert sorted(p.name for p in home.parent.iterdir()) == [home.name]
