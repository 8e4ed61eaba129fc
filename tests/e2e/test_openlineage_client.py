"""A live `steward serve` on loopback, fed by the real openlineage-python client and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

from steward.app import Steward
from steward.config import Settings
from steward.identity.tokens import authenticate
from tests.e2e.conftest import STEWARD, Server, _free_port, _start, _stop, _wait_healthy


def test_first_start_prints_one_admin_token_and_later_starts_none(server: Server) -> None:
    assert server.token.startswith("stw_")
    ok = httpx.get(
        f"{server.url}/api/v1/namespaces", headers={"Authorization": f"Bearer {server.token}"}
    )
    assert ok.status_code == 200
    assert httpx.get(f"{server.url}/api/v1/namespaces").status_code == 401


def test_second_start_prints_no_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(tmp_path / "home")
    outputs = []
    for _ in range(2):
        port = _free_port()
        process = _start(env, port, tmp_path / "serve.log")
        _wait_healthy(f"http://127.0.0.1:{port}", process, tmp_path / "serve.log")
        outputs.append(_stop(process))
    assert outputs[0].strip().startswith("stw_")
    assert outputs[1] == ""


def test_first_start_after_a_user_token_still_prints_an_admin_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(tmp_path / "home")
    user = subprocess.run(
        [*STEWARD, "token", "create", "--user", "ana"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert user.returncode == 0
    port = _free_port()
    process = _start(env, port, tmp_path / "serve.log")
    _wait_healthy(f"http://127.0.0.1:{port}", process, tmp_path / "serve.log")
    printed = _stop(process).strip()
    steward = Steward(Settings(home=tmp_path / "home"))
    assert authenticate(steward.store, printed).is_admin
    assert not authenticate(steward.store, user.stdout.strip()).is_admin
    steward.close()


def test_openlineage_client_events_become_graph_and_column_lineage(server: Server) -> None:
    config = HttpConfig(
        url=server.url,
        auth=ApiKeyTokenProvider({"apiKey": server.token}),
        compression=HttpCompression.GZIP,
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    producer = "https://example.com/steward-e2e"
    source = InputDataset(
        namespace="postgres://db:5432",
        name="shop.public.customers",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name="id", type="INTEGER"),
                    schema_dataset.SchemaDatasetFacetFields(name="email", type="VARCHAR"),
                ]
            )
        },
    )
    lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "customer_id": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace="postgres://db:5432",
                        name="shop.public.customers",
                        field="id",
                        transformations=[
                            column_lineage_dataset.Transformation(
                                type="DIRECT", subtype="IDENTITY", description="", masking=False
                            )
                        ],
                    )
                ]
            ),
            "email_domain": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace="postgres://db:5432",
                        name="shop.public.customers",
                        field="email",
                        transformations=[
                            column_lineage_dataset.Transformation(
                                type="DIRECT",
                                subtype="TRANSFORMATION",
                                description="split_part(email, '@', 2)",
                                masking=True,
                            )
                        ],
                    )
                ]
            ),
        }
    )
    target = OutputDataset(
        namespace="s3://lake",
        name="marts/customer_domains",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name="customer_id", type="INTEGER"),
                    schema_dataset.SchemaDatasetFacetFields(name="email_domain", type="VARCHAR"),
                ]
            ),
            "columnLineage": lineage,
        },
    )
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="spark", name="customer_domains")
    now = datetime.now(UTC).isoformat()
    client.emit(
        RunEvent(
            eventType=RunState.START,
            eventTime=now,
            run=run,
            job=job,
            producer=producer,
            inputs=[source],
            outputs=[],
        )
    )
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=datetime.now(UTC).isoformat(),
            run=run,
            job=job,
            producer=producer,
            inputs=[source],
            outputs=[target],
        )
    )

    headers = {"Authorization": f"Bearer {server.token}"}
    # The graph is built behind the 201: this client (which keeps no cookie) asks for a
    # read that waits for every event acknowledged so far.
    answer = httpx.get(
        f"{server.url}/api/v1/lineage",
        headers=headers,
        params={
            "nodeId": "dataset:s3://lake:marts/customer_domains",
            "direction": "upstream",
            "consistent": "true",
        },
        timeout=30,
    ).json()
    nodes = {n["id"]: n for n in answer["graph"]}
    assert set(nodes) == {
        "dataset:s3://lake:marts/customer_domains",
        "job:spark:customer_domains",
        "dataset:postgres://db:5432:shop.public.customers",
    }
    assert nodes["job:spark:customer_domains"]["data"]["latestRun"]["state"] == "COMPLETE"
    assert nodes["job:spark:customer_domains"]["inEdges"] == [
        {
            "origin": "dataset:postgres://db:5432:shop.public.customers",
            "destination": "job:spark:customer_domains",
        }
    ]
    columns = httpx.get(
        f"{server.url}/api/v1/column-lineage",
        headers=headers,
        params={
            "nodeId": "datasetField:s3://lake:marts/customer_domains:email_domain",
            "direction": "upstream",
        },
    ).json()
    by_id = {n["id"]: n for n in columns["graph"]}
    (edge,) = by_id["datasetField:s3://lake:marts/customer_domains:email_domain"]["inEdges"]
    assert edge["origin"] == "datasetField:postgres://db:5432:shop.public.customers:email"
    assert edge["transformations"] == [
        {
            "type": "DIRECT",
            "subtype": "TRANSFORMATION",
            "description": "split_part(email, '@', 2)",
            "masking": True,
        }
    ]
    runs = httpx.get(
        f"{server.url}/api/v1/jobs/spark/customer_domains/runs", headers=headers
    ).json()
    assert [s["state"] for s in runs["runs"][0]["states"]] == ["START", "COMPLETE"]


def test_cli_sends_files_and_draws_upstream_tree(server: Server, tmp_path: Path) -> None:
    from tests.openlineage_events import dataset, run_event

    events = [
        run_event(
            "ingest", inputs=[dataset("pg", "raw.orders")], outputs=[dataset("wh", "stg_orders")]
        ),
        run_event(
            "model", inputs=[dataset("wh", "stg_orders")], outputs=[dataset("wh", "fct_orders")]
        ),
    ]
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_text("\n".join(json.dumps(e) for e in events))
    env = {**server.env, "STEWARD_URL": server.url, "STEWARD_TOKEN": server.token}
    sent = subprocess.run(
        [*STEWARD, "lineage", "send", str(ndjson)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert "2 stored" in sent.stderr
    tree = subprocess.run(
        [*STEWARD, "lineage", "upstream", "dataset:wh:fct_orders", "--depth", "2"],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert "wh:fct_orders" in lines[0]
    assert any("job etl:model" in line for line in lines)
    assert any("dataset pg:raw.orders" in line for line in lines)
    as_json = subprocess.run(
        [*STEWARD, "lineage", "downstream", "dataset:pg:raw.orders", "--depth", "1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    graph = json.loads(as_json.stdout)
    assert {n["id"] for n in graph["graph"]} == {
        "dataset:pg:raw.orders",
        "job:etl:ingest",
        "dataset:wh:stg_orders",
    }
    refused = subprocess.run(
        [*STEWARD, "lineage", "upstream", "dataset:wh:fct_orders", "--token", "stw_wrong"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 5
    assert "401" in refused.stderr


def test_cli_exit_codes_follow_the_server_answer(server: Server, tmp_path: Path) -> None:
    env = {**server.env, "STEWARD_URL": server.url, "STEWARD_TOKEN": server.token}
    missing = subprocess.run(
        [*STEWARD, "lineage", "upstream", "dataset:nowhere:nothing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 4
    assert "nowhere" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {
                    "eventTime": "2024-01-01T00:00:00Z",
                    "producer": "p",
                    "run": {"runId": "nope"},
                    "job": {"namespace": "n", "name": "j"},
                }
            ]
        )
    )
    refused = subprocess.run(
        [*STEWARD, "lineage", "send", str(bad)], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2
    assert "bad.json, events 0-0" in refused.stderr
    assert "events[0].run.runId" in refused.stderr
