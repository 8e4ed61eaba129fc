"""`steward lineage` against a live server, by catalog name, per column, and drawn."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from tests.cli_run import STEWARD
from tests.diagrams import mermaid_structure, parse_dot
from tests.e2e.conftest import Server
from tests.openlineage_events import dataset, run_event


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "STEWARD_URL": server.url, "STEWARD_TOKEN": server.token, "COLUMNS": "200"}
    return subprocess.run(
        [*STEWARD, "lineage", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_asks_lineage_by_catalog_name_and_column_and_draws_it(
    server: Server, tmp_path: Path
) -> None:
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField

    home = Path(server.env["STEWARD_HOME"])
    catalog = lake_catalog(home)
    catalog.create_namespace("sales")
    catalog.create_table("sales.orders", Schema(NestedField(1, "amount", LongType())))
    local = Steward(Settings(home=home, database_url=server.env.get("STEWARD_DATABASE_URL")))
    sync(local.store, local.source("lake"))
    with local.store.read() as conn:
        from steward.catalog.views import dataset_page

        orders = dataset_page(conn, "lake.sales.orders")
    local.close()
    events = [
        run_event(
            "revenue",
            inputs=[dataset(orders["namespace"], orders["datasetName"], ["amount"])],
            outputs=[
                dataset(
                    "wh",
                    "revenue",
                    ["total"],
                    column_lineage={
                        "total": [(orders["namespace"], orders["datasetName"], "amount")]
                    },
                )
            ],
        )
    ]
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_text("\n".join(json.dumps(e) for e in events))
    assert cli(server, "send", str(ndjson)).returncode == 0

    tree = cli(server, "downstream", "lake.sales.orders")
    assert tree.returncode == 0, tree.stderr
    assert "job etl:revenue" in tree.stdout
    assert "dataset wh:revenue" in tree.stdout

    column = cli(server, "column", "wh/revenue.total")
    assert column.returncode == 0, column.stderr
    assert "sales/orders.amount" in column.stdout
    assert "DIRECT/IDENTITY" in column.stdout
    down = cli(server, "column", "lake.sales.orders.amount", "--downstream", "--format", "json")
    assert [n["data"]["field"] for n in json.loads(down.stdout)["graph"]] == ["amount", "total"]

    mermaid = cli(server, "upstream", "wh/revenue", "--format", "mermaid")
    assert mermaid.stdout.startswith("flowchart LR\n")
    assert "revenue" in mermaid.stdout
    dot = cli(server, "column", "wh/revenue.total", "--format", "dot")
    assert len(parse_dot(dot.stdout).get_edges()) == 1
    declared, edges = mermaid_structure(mermaid.stdout)
    assert len(declared) == 3  # the two datasets and the job
    assert len(edges) == 2

    missing = cli(server, "upstream", "lake.sales.nowhere")
    assert missing.returncode == 4
    assert "lake.sales.nowhere" in missing.stderr
    bad = cli(server, "upstream", "wh/revenue", "--format", "png")
    assert bad.returncode == 2
    assert "--format" in bad.stderr
