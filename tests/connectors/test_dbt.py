"""The dbt source reads a real `dbt build` (dbt-core 1.11 on DuckDB) as the catalog should see it.

The project in `dbt_project/` has a seed, a source loaded by a hook, three models in a
chain, a snapshot, an exposure, a group with an owner, `meta.owner`s, tags, column
descriptions and tests, one of which warns. It is built once per module with `dbt-ol
build` (so the OpenLineage events dbt-ol emits can be compared with the connector's
identities) and documented with `dbt docs generate --no-compile` (which keeps the build's
run_results.json).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from steward.catalog.models import Column, DiscoveredTable, Identity, Owner
from steward.connectors import open_source
from steward.connectors.dbt import DbtSource, open_dbt
from steward.errors import SamplingUnsupported

PROJECT = Path(__file__).parent / "dbt_project"


@dataclass(frozen=True)
class Build:
    project: Path
    target: Path
    database: Path
    events: Path
    env: Mapping[str, str]

    def dbt(self, command: str, *args: str) -> None:
        dirs = ("--project-dir", str(self.project), "--profiles-dir", str(self.project))
        ran = subprocess.run(
            [command, *args, *dirs],
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]


def build_shop(dbt_bin: Path, root: Path, models: Mapping[str, str] | None = None) -> Build:
    """The test project in `root`, with `models` (file name -> text) added, built with
    `dbt-ol build` and documented with `dbt docs generate`."""
    project = root / "shop"
    shutil.copytree(PROJECT, project)
    for name, text in (models or {}).items():
        (project / "models" / name).write_text(text)
    (root / "openlineage.yml").write_text(
        f"transport:\n  type: file\n  log_file_path: {root / 'events.jsonl'}\n  append: true\n"
    )
    env = {
        "PATH": f"{dbt_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(root),
        "DBT_DUCKDB_PATH": str(root / "shop.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "OPENLINEAGE_CONFIG": str(root / "openlineage.yml"),
        "OPENLINEAGE_NAMESPACE": "dbt",
    }
    built = Build(project, project / "target", root / "shop.duckdb", root / "events.jsonl", env)
    built.dbt("dbt-ol", "build")
    built.dbt("dbt", "docs", "generate", "--no-compile")
    return built


@pytest.fixture(scope="module")
def build(dbt_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The test project, built with `dbt-ol build` and documented with `dbt docs generate`."""
    return build_shop(dbt_bin, tmp_path_factory.mktemp("dbt"))


@pytest.fixture
def source(build: Build, tmp_path: Path) -> DbtSource:
    namespace = f"duckdb://{build.database}"
    config = {"type": "dbt", "target": str(build.target), "namespace": namespace}
    found = open_source("shop", config, home=tmp_path)
    assert isinstance(found, DbtSource)
    return found


def tables(source: DbtSource) -> dict[str, DiscoveredTable]:
    return {ref.name: source.load_table(ref) for ref in source.list_tables()}


def test_every_node_dbt_builds_or_reads_is_a_table_of_its_kind(source: DbtSource) -> None:
    kinds = {name: table.kind for name, table in tables(source).items()}
    assert kinds == {
        "main.raw_orders": "seed",
        "landing.customers": "source",
        "main.stg_orders": "model",
        "main.orders_enriched": "model",
        "main.customer_revenue": "model",  # the model `revenue`, built under its alias
        "main_snapshots.customers_snapshot": "snapshot",
        "exposures.revenue_dashboard": "exposure",
    }


def test_columns_carry_warehouse_types_descriptions_and_tags(source: DbtSource) -> None:
    found = tables(source)
    assert found["main.stg_orders"].columns == (
        Column("order_id", "INTEGER", "The order."),
        Column("customer_id", "INTEGER", "Who ordered."),
        Column("amount", "DECIMAL(10,2)"),
        Column("status", "VARCHAR", tags=("lifecycle",)),
    )
    enriched = {column.name: column for column in found["main.orders_enriched"].columns}
    assert enriched["customer_name"].tags == ("pii",)
    assert enriched["customer_name"].description == "The customer's name."
    # A seed documents no columns; catalog.json still knows them.
    assert [c.name for c in found["main.raw_orders"].columns] == [
        "order_id",
        "customer_id",
        "amount",
        "status",
    ]
    snapshot = [c.name for c in found["main_snapshots.customers_snapshot"].columns]
    assert snapshot[:3] == ["customer_id", "name", "tier"]
    assert "dbt_valid_to" in snapshot


def test_descriptions_tags_and_compiled_sql(source: DbtSource) -> None:
    found = tables(source)
    revenue = found["main.customer_revenue"]
    assert revenue.description == "Revenue per customer."
    assert revenue.tags == ("finance", "published")
    assert revenue.definition is not None
    assert '"shop"."main"."orders_enriched"' in revenue.definition  # compiled, not Jinja
    assert found["landing.customers"].description == "One row per customer."
    assert found["landing.customers"].properties["source_description"] == "Tables the CRM loads."
    assert found["main.raw_orders"].tags == ("raw",)


def test_owners_come_from_meta_owner_and_the_dbt_group(source: DbtSource) -> None:
    found = tables(source)
    assert found["main.stg_orders"].owners == (
        Owner("alice@example.com", "user", "technical"),
        Owner("bob@example.com", "user", "technical"),
    )
    assert found["main.orders_enriched"].owners == (Owner("alice@example.com"),)
    assert found["main.customer_revenue"].owners == (
        Owner("finance@example.com", "group", "business"),
    )
    assert found["landing.customers"].owners == (Owner("crm-team@example.com"),)
    assert found["main.raw_orders"].owners == ()


def test_tests_are_attached_with_their_statuses(source: DbtSource) -> None:
    found = tables(source)
    on_orders = {(t.name, t.column, t.status) for t in found["main.stg_orders"].tests}
    assert on_orders == {
        ("unique", "order_id", "pass"),
        ("not_null", "order_id", "pass"),
        ("relationships", "customer_id", "pass"),
    }
    # `platinum` is not an accepted tier; the test is severity warn.
    on_customers = {(t.name, t.column, t.status) for t in found["landing.customers"].tests}
    assert on_customers == {
        ("not_null", "customer_id", "pass"),
        ("accepted_values", "tier", "warn"),
    }
    assert all(
        t.unique_id and t.unique_id.startswith("test.shop.") for t in found["main.stg_orders"].tests
    )


def test_dbt_dependencies_are_upstream_and_exposures_consume(source: DbtSource) -> None:
    found = tables(source)
    assert found["main.stg_orders"].upstream == ("main.raw_orders",)
    assert set(found["main.orders_enriched"].upstream) == {"main.stg_orders", "landing.customers"}
    assert found["main.customer_revenue"].upstream == ("main.orders_enriched",)
    assert found["main_snapshots.customers_snapshot"].upstream == ("landing.customers",)
    dashboard = found["exposures.revenue_dashboard"]
    assert dashboard.upstream == ("main.customer_revenue",)
    assert dashboard.owners == (Owner("dana@example.com", "user", "business"),)
    assert dashboard.description == "Revenue per customer, for finance."
    assert dashboard.properties["url"] == "https://bi.example.com/revenue"
    assert dashboard.identity == Identity("dbt://shop", "exposure.shop.revenue_dashboard")


def test_column_lineage_is_traced_through_the_compiled_sql(source: DbtSource) -> None:
    found = tables(source)
    enriched = found["main.orders_enriched"].column_upstream
    assert enriched["customer_name"] == (("landing.customers", "name"),)
    assert enriched["amount"] == (("main.stg_orders", "amount"),)
    assert found["main.customer_revenue"].column_upstream == {
        "customer_id": (("main.orders_enriched", "customer_id"),),
        "revenue": (("main.orders_enriched", "amount"),),
    }
    # How: a sum is an aggregation; the filter on status decides rows, not the value.
    assert found["main.customer_revenue"].column_transformations["revenue"] == {
        ("main.orders_enriched", "amount"): (("DIRECT", "AGGREGATION"),)
    }
    assert set(found["main.customer_revenue"].dataset_upstream) == {
        ("main.orders_enriched", "status", (("INDIRECT", "FILTER"),)),
        ("main.orders_enriched", "customer_id", (("INDIRECT", "GROUP_BY"),)),
    }
    # `select *` from the source, expanded with catalog.json's columns.
    snapshot = found["main_snapshots.customers_snapshot"].column_upstream
    assert snapshot["tier"] == (("landing.customers", "tier"),)
    assert found["main.raw_orders"].column_upstream == {}


def test_identities_are_the_datasets_dbt_ol_reports(build: Build, source: DbtSource) -> None:
    reported = set()
    for line in build.events.read_text().splitlines():
        event = json.loads(line)
        for dataset in event.get("inputs", []) + event.get("outputs", []):
            reported.add(Identity(dataset["namespace"], dataset["name"]))
    found = tables(source)
    identities = {table.identity for table in found.values()}
    assert Identity(f"duckdb://{build.database}", "shop.main.customer_revenue") in reported
    assert len(reported) == 5
    assert reported <= identities
    assert found["main.customer_revenue"].symlinks == (
        Identity("dbt://shop", "model.shop.revenue"),
    )


def test_namespace_is_derived_from_the_profile_dbt_ran_with(
    build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(build.database))
    source = open_dbt("shop", {"target": str(build.target)}, home=tmp_path)
    revenue = tables(source)["main.customer_revenue"]
    assert revenue.identity == Identity(f"duckdb://{build.database}", "shop.main.customer_revenue")
    assert source.namespace_from == "profiles.yml"


def test_an_unchanged_project_keeps_its_fingerprints(build: Build, source: DbtSource) -> None:
    before = {ref.name: ref.fingerprint for ref in source.list_tables()}
    assert all(before.values())
    build.dbt("dbt", "build")
    build.dbt("dbt", "docs", "generate", "--no-compile")
    after = {ref.name: ref.fingerprint for ref in source.list_tables()}
    assert after == before


def test_dbt_artifacts_cannot_be_sampled(source: DbtSource) -> None:
    with pytest.raises(SamplingUnsupported, match="dbt artifacts hold no rows"):
        source.sample("main.stg_orders", ["order_id"], 10)
