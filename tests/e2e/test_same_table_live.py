"""A live `steward serve`: the real openlineage-python client sends a Spark-shaped event
(location + TABLE symlink), the CLI sends a Hive-shaped one (metastore name), and
`steward lineage upstream` walks from either name; a reused run id is exit code 9."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset, symlinks_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from tests.e2e.conftest import STEWARD, Server
from tests.lineage.producers import HIVE, field, metastore_table, run_event

METASTORE = "hive://metastore:9083"


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "STEWARD_URL": server.url, "STEWARD_TOKEN": server.token}
    return subprocess.run(
        [*STEWARD, *args], env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60
    )


def test_cli_walks_from_either_name_and_refuses_a_reused_run(
    server: Server, tmp_path: Path
) -> None:
    client = OpenLineageClient(
        transport=HttpTransport(
            HttpConfig(url=server.url, auth=ApiKeyTokenProvider({"apiKey": server.token}))
        )
    )
    spark_run = str(uuid.uuid4())
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=spark_run),
            job=Job(namespace="spark", name="load_orders"),
            producer="https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark",
            inputs=[InputDataset(namespace="file", name="/landing/orders.csv")],
            outputs=[
                OutputDataset(
                    namespace="s3://warehouse",
                    name="/sales.db/orders",
                    facets={
                        "schema": schema_dataset.SchemaDatasetFacet(
                            fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="int")]
                        ),
                        "symlinks": symlinks_dataset.SymlinksDatasetFacet(
                            identifiers=[
                                symlinks_dataset.Identifier(
                                    namespace=METASTORE, name="sales.orders", type="TABLE"
                                )
                            ]
                        ),
                    },
                )
            ],
        )
    )
    hive = run_event(
        HIVE,
        "default",
        "createtable_as_select.sales.daily",
        event_time=datetime.now(UTC).isoformat(),
        inputs=[metastore_table(HIVE, METASTORE, "sales.orders", [field("id", "int")])],
        outputs=[metastore_table(HIVE, METASTORE, "sales.daily", [field("n", "bigint")])],
    )
    events = tmp_path / "hive.json"
    events.write_text(json.dumps(hive))
    sent = _cli(server, "lineage", "send", str(events))
    assert sent.returncode == 0, sent.stderr

    tree = _cli(server, "lineage", "upstream", f"dataset:{METASTORE}:sales.daily", "--depth", "3")
    assert tree.returncode == 0, tree.stderr
    assert any("job spark:load_orders" in line for line in tree.stdout.splitlines())
    down = _cli(
        server, "lineage", "downstream", "dataset:s3://warehouse:/sales.db/orders", "--json"
    )
    graph = json.loads(down.stdout)
    start = graph["graph"][0]
    assert start["sameAs"] == [f"dataset:{METASTORE}:sales.orders"]
    assert "job:default:createtable_as_select.sales.daily" in {n["id"] for n in graph["graph"]}

    reused = {**hive, "run": {"runId": spark_run, "facets": {}}}
    events.write_text(json.dumps(reused))
    refused = _cli(server, "lineage", "send", str(events))
    assert refused.returncode == 9, refused.stderr
    assert "409" in refused.stderr
    assert "spark/load_orders" in refused.stderr
    assert "default/createtable_as_select.sales.daily" in refused.stderr
