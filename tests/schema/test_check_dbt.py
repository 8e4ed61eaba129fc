"""Who breaks, on a real dbt project: `dbt-ol build` and `dbt docs generate` (dbt-core 1.11,
dbt-duckdb, openlineage-dbt from `tests/dbt_env.py`), synced as a catalog source and its
OpenLineage events ingested; the proposed schema is a dbt model's contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors import open_source
from steward.lineage.ingest import ingest, parse_events
from steward.schema.check import check
from steward.schema.fields import parse_proposed
from steward.schema.history import dataset_id_of
from tests.cli_run import steward_cli
from tests.connectors.test_dbt import Build, build_shop

# A second model reading stg_orders.amount, beside orders_enriched, with its own owner.
ORDER_AMOUNTS = "select order_id, amount as order_amount from {{ ref('stg_orders') }}\n"
ORDER_AMOUNTS_YML = {
    "version": 2,
    "models": [{"name": "order_amounts", "config": {"meta": {"owner": "carol@example.com"}}}],
}
# stg_orders' contract without `amount`.
CONTRACT = {
    "models": [
        {
            "name": "stg_orders",
            "config": {"contract": {"enforced": True}},
            "columns": [
                {"name": "order_id", "data_type": "integer"},
                {"name": "customer_id", "data_type": "integer"},
                {"name": "status", "data_type": "varchar"},
            ],
        }
    ]
}


@pytest.fixture(scope="module")
def build(dbt_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The connector tests' project plus `order_amounts`, built and documented."""
    models = {
        "order_amounts.sql": ORDER_AMOUNTS,
        "order_amounts.yml": yaml.safe_dump(ORDER_AMOUNTS_YML),
    }
    return build_shop(dbt_bin, tmp_path_factory.mktemp("dbt"), models)


def _load(steward: Steward, build: Build) -> None:
    config = {
        "type": "dbt",
        "target": str(build.target),
        "namespace": f"duckdb://{build.database}",
    }
    source = open_source("shop", config, home=steward.settings.home)
    try:
        sync(steward.store, source)
    finally:
        source.close()
    events = [json.loads(line) for line in build.events.read_text().splitlines()]
    ingest(steward.store, parse_events(events, batch=True))


def test_dropping_a_column_two_dbt_models_read_names_both_models_and_columns(
    steward: Steward, build: Build
) -> None:
    _load(steward, build)
    with steward.store.write() as conn:
        stg = dataset_id_of(conn, "shop.main.stg_orders")
        result = check(conn, stg, parse_proposed(CONTRACT, dbt_contract=True))
    [finding] = result.breaking
    assert (finding.change.path, finding.rule) == ("amount", "no-drop")
    direct = {(r.kind, r.dataset, r.column) for r in finding.readers if r.depth == 1}
    assert direct == {
        ("dbt_model", "shop.main.orders_enriched", "amount"),
        ("dbt_model", "shop.main.order_amounts", "order_amount"),
    }
    owners = {r.dataset: r.owners for r in finding.readers}
    assert "carol@example.com" in owners["shop.main.order_amounts"]
    assert "alice@example.com" in owners["shop.main.orders_enriched"]
    # revenue sums orders_enriched.amount: it breaks too, one step further; and the
    # dashboard (a dbt exposure) consuming the whole of customer_revenue after it.
    assert ("shop.main.customer_revenue", "revenue") in {
        (r.dataset, r.column) for r in finding.readers if r.depth == 2
    }
    [dashboard] = [r for r in finding.readers if r.kind == "dashboard"]
    assert (dashboard.dataset, dashboard.column, dashboard.depth) == (
        "shop.exposures.revenue_dashboard",
        None,
        3,
    )


def test_the_cli_check_of_a_dbt_contract_exits_1_naming_both_models(
    build: Build, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    config = home / "steward.toml"
    home.mkdir()
    config.write_text(
        "[sources.shop]\ntype = 'dbt'\n"
        f"target = '{build.target}'\nnamespace = 'duckdb://{build.database}'\n"
    )
    assert steward_cli(home, "catalog", "sync", "shop").returncode == 0
    contract = tmp_path / "stg_orders.yml"
    contract.write_text(yaml.safe_dump(CONTRACT))
    checked = steward_cli(
        home,
        "schema",
        "check",
        "shop.main.stg_orders",
        "--proposed",
        str(contract),
        "--dbt-contract",
        "--json",
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    # The contract spells the warehouse's INTEGER `integer`: the same type, no change.
    [change] = json.loads(checked.stdout)["changes"]
    assert {(r["dataset"], r["column"]) for r in change["readers"] if r["depth"] == 1} == {
        ("shop.main.orders_enriched", "amount"),
        ("shop.main.order_amounts", "order_amount"),
    }
