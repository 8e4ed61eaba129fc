"""A real dbt build (dbt-duckdb) whose profile reads `{{ env_var('DBT_DUCKDB_PATH') }}`.

Synced once without the variable, the dbt source names its tables by the adapter type
alone (`duckdb`); synced again with it, next to a DuckDB source reading the same file,
each dbt table joins the warehouse's dataset, with what people wrote on it, and the
wrongly named datasets leave the catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.catalog.views import dataset_page
from steward.connectors.databases import open_database
from steward.connectors.dbt import open_dbt
from steward.identity.models import Principal
from steward.schema.catalog_sync import sync_source
from steward.store.schema import catalog_entries, catalog_entry_sources
from tests.connectors.test_dbt import Build, build_shop

ADMIN = Principal(user="root", is_admin=True)


@pytest.fixture(scope="module")
def build(dbt_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Build:
    return build_shop(dbt_bin, tmp_path_factory.mktemp("dbt"))


def page(steward: Steward, ref: str) -> dict[str, Any]:
    with steward.store.read() as conn:
        return dataset_page(conn, ref)


def test_the_next_sync_with_the_variable_set_moves_every_table_to_its_dataset(
    steward: Steward, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBT_DUCKDB_PATH", raising=False)
    unset = open_dbt("shop", {"target": str(build.target)}, home=tmp_path)
    first = sync_source(steward.store, unset, actor=ADMIN).result
    assert unset.namespace == "duckdb"
    wrong = page(steward, "shop.main.customer_revenue")
    assert wrong["namespace"] == "duckdb"
    edit = DatasetEdit(
        description="Revenue per customer, for finance",
        addTags=["finance"],
        columns={"customer_id": ColumnEdit(description="Who paid")},
    )
    edit_dataset(steward.store, "shop.main.customer_revenue", edit, ADMIN)

    monkeypatch.setenv("DBT_DUCKDB_PATH", str(build.database))
    warehouse = open_database("warehouse", {"url": f"duckdb:///{build.database}"})
    try:
        sync_source(steward.store, warehouse, actor=ADMIN)
    finally:
        warehouse.close()
    fixed = open_dbt("shop", {"target": str(build.target)}, home=tmp_path)
    again = sync_source(steward.store, fixed, actor=ADMIN).result
    # Every table moved but the exposure, whose identity (`dbt://shop`) needs no profile.
    assert (again.changed, again.unchanged, again.added) == (first.listed - 1, 1, 0)

    right = page(steward, "shop.main.customer_revenue")
    assert right["namespace"] == f"duckdb://{build.database}"
    assert right["nodeId"] == page(steward, "warehouse.main.customer_revenue")["nodeId"]
    assert [s["source"] for s in right["sources"]] == ["shop", "warehouse"]
    assert right["name"] == "warehouse.main.customer_revenue"
    assert right["description"]["text"] == "Revenue per customer, for finance"
    assert "finance" in [t["tag"] for t in right["tags"]]
    customer = next(c for c in right["columns"] if c["name"] == "customer_id")
    assert customer["description"]["text"] == "Who paid"

    stale = page(steward, wrong["nodeId"])
    assert (stale["name"], stale["sources"], stale["deleted"]) == (None, [], True)
    with steward.store.read() as conn:
        namespaces = {
            row.namespace
            for row in conn.execute(
                sa.text(
                    "SELECT n.name AS namespace FROM catalog_entries e"
                    " JOIN datasets d ON d.id = e.dataset_id"
                    " JOIN namespaces n ON n.id = d.namespace_id"
                )
            )
        }
        shop_rows = conn.execute(
            sa.select(catalog_entry_sources.c.name).where(catalog_entry_sources.c.source == "shop")
        ).scalars()
        entries = conn.execute(sa.select(sa.func.count()).select_from(catalog_entries)).scalar()
        stated = conn.execute(
            sa.select(sa.func.count(sa.distinct(catalog_entry_sources.c.dataset_id)))
        ).scalar()
    assert "duckdb" not in namespaces
    assert len(set(shop_rows)) == first.listed
    assert entries == stated  # one entry per dataset some source states, none orphaned
