"""The lineage graph API: upstream, downstream, depth, time travel, columns, node ids."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.openlineage_events import dataset, run_event

PG = "postgres://db.internal:5432"


def send(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps(list(events)))
    assert response.status_code == 201, response.text


def graph(client: TestClient, node: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/lineage", params={"nodeId": node, **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(answer: dict[str, Any]) -> set[str]:
    return {node["id"] for node in answer["graph"]}


@pytest.fixture
def chain(client: TestClient) -> TestClient:
    """source table -> ingest -> staging -> transform -> mart -> api (a consumer job)."""
    send(
        client,
        run_event(
            "ingest",
            inputs=[dataset(PG, "shop.public.orders", ["id", "amount"])],
            outputs=[dataset("s3://lake", "staging/orders", ["id", "amount"])],
        ),
        run_event(
            "transform",
            inputs=[dataset("s3://lake", "staging/orders")],
            outputs=[dataset("s3://lake", "marts/revenue", ["day", "revenue"])],
        ),
        run_event("serve_api", namespace="api", inputs=[dataset("s3://lake", "marts/revenue")]),
    )
    return client


SOURCE = f"dataset:{PG}:shop.public.orders"
STAGING = "dataset:s3://lake:staging/orders"
MART = "dataset:s3://lake:marts/revenue"


def test_upstream_by_depth(chain: TestClient) -> None:
    assert ids(graph(chain, MART, direction="upstream", depth=1)) == {
        MART,
        "job:etl:transform",
        STAGING,
    }
    assert ids(graph(chain, MART, direction="upstream", depth=2)) == {
        MART,
        "job:etl:transform",
        STAGING,
        "job:etl:ingest",
        SOURCE,
    }
    assert ids(graph(chain, "job:api:serve_api", direction="upstream", depth="all")) == {
        "job:api:serve_api",
        MART,
        "job:etl:transform",
        STAGING,
        "job:etl:ingest",
        SOURCE,
    }


def test_downstream_by_depth(chain: TestClient) -> None:
    assert ids(graph(chain, SOURCE, direction="downstream", depth=1)) == {
        SOURCE,
        "job:etl:ingest",
        STAGING,
    }
    assert ids(graph(chain, SOURCE, direction="downstream", depth=2)) == {
        SOURCE,
        "job:etl:ingest",
        STAGING,
        "job:etl:transform",
        MART,
    }
    assert ids(graph(chain, SOURCE, direction="downstream", depth="all")) == {
        SOURCE,
        "job:etl:ingest",
        STAGING,
        "job:etl:transform",
        MART,
        "job:api:serve_api",
    }


def test_graph_is_marquez_shaped(chain: TestClient) -> None:
    answer = graph(chain, STAGING, depth=1)
    nodes = {node["id"]: node for node in answer["graph"]}
    assert answer["graph"][0]["id"] == STAGING
    staging = nodes[STAGING]
    assert staging["type"] == "DATASET"
    assert staging["data"]["id"] == {"namespace": "s3://lake", "name": "staging/orders"}
    assert staging["inEdges"] == [{"origin": "job:etl:ingest", "destination": STAGING}]
    assert staging["outEdges"] == [{"origin": STAGING, "destination": "job:etl:transform"}]
    assert nodes["job:etl:ingest"]["type"] == "JOB"
    assert nodes["job:etl:ingest"]["data"]["latestRun"]["state"] == "COMPLETE"
    assert [f["name"] for f in staging["data"]["fields"]] == ["id", "amount"]


def test_both_directions_is_the_default(chain: TestClient) -> None:
    assert ids(graph(chain, STAGING, depth=1)) == {
        "job:etl:ingest",
        SOURCE,
        STAGING,
        "job:etl:transform",
        MART,
    }


def test_new_inputs_replace_old_ones_and_as_of_shows_the_past(client: TestClient) -> None:
    send(
        client,
        run_event(
            "report",
            inputs=[dataset("wh", "old_source")],
            outputs=[dataset("wh", "report")],
            event_time="2024-05-01T00:00:00Z",
        ),
        run_event(
            "report",
            inputs=[dataset("wh", "new_source")],
            outputs=[dataset("wh", "report")],
            event_time="2024-05-02T00:00:00Z",
        ),
    )
    now = ids(graph(client, "dataset:wh:report", direction="upstream"))
    assert now == {"dataset:wh:report", "job:etl:report", "dataset:wh:new_source"}
    then = ids(
        graph(client, "dataset:wh:report", direction="upstream", asOf="2024-05-01T12:00:00Z")
    )
    assert then == {"dataset:wh:report", "job:etl:report", "dataset:wh:old_source"}
    before_any = graph(
        client, "dataset:wh:report", direction="upstream", asOf="2024-04-01T00:00:00Z"
    )
    assert ids(before_any) == {"dataset:wh:report"}
    # The old run is still in the job's history.
    answer = client.get("/api/v1/jobs/etl/report/runs")
    assert answer.status_code == 200, answer.text
    runs = answer.json()["runs"]
    assert [r["inputs"] for r in runs] == [
        [{"namespace": "wh", "name": "new_source"}],
        [{"namespace": "wh", "name": "old_source"}],
    ]


def test_events_of_one_run_add_up(client: TestClient) -> None:
    run_id = "6f1b3c1e-7d43-4b8e-9c6e-0d8a2a8d1c11"
    send(
        client,
        run_event(
            "j",
            run_id=run_id,
            event_type="START",
            inputs=[dataset("wh", "a")],
            event_time="2024-05-01T00:00:00Z",
        ),
        run_event(
            "j",
            run_id=run_id,
            event_type="COMPLETE",
            inputs=[dataset("wh", "b")],
            outputs=[dataset("wh", "out")],
            event_time="2024-05-01T00:05:00Z",
        ),
    )
    assert ids(graph(client, "dataset:wh:out", direction="upstream")) == {
        "dataset:wh:out",
        "job:etl:j",
        "dataset:wh:a",
        "dataset:wh:b",
    }


def test_late_event_of_an_older_run_does_not_rewind_the_graph(client: TestClient) -> None:
    send(
        client,
        run_event(
            "j",
            inputs=[dataset("wh", "new")],
            outputs=[dataset("wh", "out")],
            event_time="2024-05-02T00:00:00Z",
        ),
    )
    send(
        client,
        run_event(
            "j",
            inputs=[dataset("wh", "old")],
            outputs=[dataset("wh", "out")],
            event_time="2024-05-01T00:00:00Z",
        ),
    )
    assert ids(graph(client, "dataset:wh:out", direction="upstream")) == {
        "dataset:wh:out",
        "job:etl:j",
        "dataset:wh:new",
    }


def test_column_lineage_keeps_transformations(client: TestClient) -> None:
    out = dataset(
        "wh",
        "customers_masked",
        ["id", "email_hash"],
        column_lineage={"id": [("wh", "customers", "id")]},
    )
    out["facets"]["columnLineage"]["fields"]["email_hash"] = {
        "inputFields": [
            {
                "namespace": "wh",
                "name": "customers",
                "field": "email",
                "transformations": [
                    {
                        "type": "DIRECT",
                        "subtype": "TRANSFORMATION",
                        "description": "sha256(email)",
                        "masking": True,
                    }
                ],
            }
        ]
    }
    out["facets"]["columnLineage"]["dataset"] = [
        {
            "namespace": "wh",
            "name": "customers",
            "field": "country",
            "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}],
        }
    ]
    send(
        client,
        run_event(
            "mask", inputs=[dataset("wh", "customers", ["id", "email", "country"])], outputs=[out]
        ),
    )
    response = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": "datasetField:wh:customers_masked:email_hash", "direction": "upstream"},
    )
    assert response.status_code == 200, response.text
    nodes = {n["id"]: n for n in response.json()["graph"]}
    assert set(nodes) == {
        "datasetField:wh:customers_masked:email_hash",
        "datasetField:wh:customers:email",
        "datasetField:wh:customers:country",
    }
    edges = {
        e["origin"]: e for e in nodes["datasetField:wh:customers_masked:email_hash"]["inEdges"]
    }
    direct = edges["datasetField:wh:customers:email"]
    assert direct["transformations"] == [
        {
            "type": "DIRECT",
            "subtype": "TRANSFORMATION",
            "description": "sha256(email)",
            "masking": True,
        }
    ]
    assert direct["job"] == "job:etl:mask"
    assert direct["indirect"] is False
    assert edges["datasetField:wh:customers:country"]["indirect"] is True
    assert nodes["datasetField:wh:customers:email"]["data"]["fieldType"] == "VARCHAR"


def test_column_lineage_downstream_across_two_jobs_and_as_of(client: TestClient) -> None:
    send(
        client,
        run_event(
            "a",
            outputs=[dataset("wh", "t2", ["x"], column_lineage={"x": [("wh", "t1", "x")]})],
            event_time="2024-05-01T00:00:00Z",
        ),
        run_event(
            "b",
            outputs=[dataset("wh", "t3", ["y"], column_lineage={"y": [("wh", "t2", "x")]})],
            event_time="2024-05-01T00:00:00Z",
        ),
        # Job b's next run derives y from another column.
        run_event(
            "b",
            outputs=[dataset("wh", "t3", ["y"], column_lineage={"y": [("wh", "t2", "z")]})],
            event_time="2024-05-03T00:00:00Z",
        ),
    )

    def reach(**params: Any) -> set[str]:
        answer = client.get(
            "/api/v1/column-lineage",
            params={"nodeId": "datasetField:wh:t1:x", "direction": "downstream", **params},
        ).json()
        return ids(answer)

    assert reach(depth=1) == {"datasetField:wh:t1:x", "datasetField:wh:t2:x"}
    assert reach() == {"datasetField:wh:t1:x", "datasetField:wh:t2:x"}
    assert reach(asOf="2024-05-02T00:00:00Z") == {
        "datasetField:wh:t1:x",
        "datasetField:wh:t2:x",
        "datasetField:wh:t3:y",
    }


def test_node_ids_with_colons_in_namespace_and_name(client: TestClient) -> None:
    send(
        client,
        run_event(
            "j",
            namespace="airflow://af:8080",
            outputs=[dataset("kafka://b1:9092", "events:v2", ["k:1"])],
        ),
    )
    node = graph(client, "dataset:kafka://b1:9092:events:v2", depth=1)["graph"][0]
    assert node["data"]["namespace"] == "kafka://b1:9092"
    assert node["data"]["name"] == "events:v2"
    assert node["inEdges"][0]["origin"] == "job:airflow://af:8080:j"
    columns = client.get(
        "/api/v1/column-lineage", params={"nodeId": "datasetField:kafka://b1:9092:events:v2:k:1"}
    )
    assert columns.status_code == 200
    assert columns.json()["graph"][0]["data"]["field"] == "k:1"
    assert columns.json()["graph"][0]["data"]["dataset"] == "events:v2"


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"nodeId": "dataset:nowhere:nothing"}, 404, "nodeId"),
        ({"nodeId": "table:x:y"}, 400, "nodeId"),
        ({"nodeId": "dataset"}, 400, "nodeId"),
        ({"nodeId": "dataset:wh:t", "depth": "-1"}, 400, "depth"),
        ({"nodeId": "dataset:wh:t", "depth": "deep"}, 400, "depth"),
        ({"nodeId": "dataset:wh:t", "direction": "sideways"}, 400, "direction"),
        ({"nodeId": "dataset:wh:t", "asOf": "last tuesday"}, 400, "asOf"),
        ({}, 400, "nodeId"),
    ],
)
def test_bad_graph_questions_get_a_clear_4xx(
    client: TestClient, params: dict[str, str], status: int, fragment: str
) -> None:
    send(client, run_event("j", outputs=[dataset("wh", "t")]))
    response = client.get("/api/v1/lineage", params=params)
    assert response.status_code == status
    assert fragment in response.json()["error"]


def test_listings_and_search(chain: TestClient) -> None:
    namespaces = {n["name"]: n for n in chain.get("/api/v1/namespaces").json()["namespaces"]}
    assert namespaces["s3://lake"]["datasets"] == 2
    assert namespaces["etl"]["jobs"] == 2
    page = chain.get("/api/v1/datasets", params={"namespace": "s3://lake", "limit": 1}).json()
    assert page["totalCount"] == 2
    assert [d["name"] for d in page["datasets"]] == ["marts/revenue"]
    jobs = chain.get("/api/v1/jobs").json()
    assert [j["name"] for j in jobs["jobs"]] == ["serve_api", "ingest", "transform"]
    runs = chain.get("/api/v1/jobs/etl/ingest/runs").json()
    assert runs["runs"][0]["states"][0]["state"] == "COMPLETE"
    encoded = chain.get(f"/api/v1/jobs/{'postgres%3A%2F%2Fnope%3A1'}/x/runs")
    assert encoded.status_code == 404
    results = chain.get("/api/v1/search", params={"q": "revenue"}).json()["results"]
    assert results[0]["nodeId"] == MART
    by_field = chain.get("/api/v1/search", params={"q": "amount"}).json()["results"]
    assert {r["name"] for r in by_field} == {"shop.public.orders", "staging/orders"}


def test_column_lineage_of_one_run_adds_up_and_next_run_replaces_it(client: TestClient) -> None:
    run_id = "0b6f9f5e-3c55-4d4e-8f3b-9a1d2c3e4f50"

    def out(sources: list[tuple[str, str, str]]) -> dict[str, Any]:
        return dataset("wh", "wide", ["v"], column_lineage={"v": sources})

    def upstream_of_v() -> set[str]:
        answer = client.get(
            "/api/v1/column-lineage",
            params={"nodeId": "datasetField:wh:wide:v", "direction": "upstream", "depth": 1},
        ).json()
        return ids(answer) - {"datasetField:wh:wide:v"}

    send(
        client,
        run_event(
            "j",
            run_id=run_id,
            event_type="START",
            outputs=[out([("wh", "a", "x")])],
            event_time="2024-05-01T00:00:00Z",
        ),
    )
    send(
        client,
        run_event(
            "j", run_id=run_id, outputs=[out([("wh", "b", "y")])], event_time="2024-05-01T00:01:00Z"
        ),
    )
    assert upstream_of_v() == {"datasetField:wh:a:x", "datasetField:wh:b:y"}
    send(
        client, run_event("j", outputs=[out([("wh", "b", "y")])], event_time="2024-05-02T00:00:00Z")
    )
    assert upstream_of_v() == {"datasetField:wh:b:y"}
    send(
        client, run_event("j", outputs=[out([("wh", "b", "y")])], event_time="2024-05-03T00:00:00Z")
    )
    assert upstream_of_v() == {"datasetField:wh:b:y"}


def test_downstream_through_a_whole_dataset_input_reaches_every_output_field(
    client: TestClient,
) -> None:
    # `region` filters the output as a whole (the facet's `dataset` list), so downstream
    # of it is every field of the output; upstream of an output field includes it.
    out = dataset("pg", "marts.eu_orders", ["id", "total"])
    out["facets"]["columnLineage"] = {
        "_producer": "https://example.com",
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
        "fields": {
            "id": {"inputFields": [{"namespace": "pg", "name": "raw.orders", "field": "id"}]},
        },
        "dataset": [
            {
                "namespace": "pg",
                "name": "raw.orders",
                "field": "region",
                "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}],
            }
        ],
    }
    send(
        client,
        run_event(
            "eu_orders",
            inputs=[dataset("pg", "raw.orders", ["id", "region", "total"])],
            outputs=[out],
        ),
    )
    answer = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": "datasetField:pg:raw.orders:region", "direction": "downstream"},
    )
    assert answer.status_code == 200, answer.text
    ids = {node["id"] for node in answer.json()["graph"]}
    assert {"datasetField:pg:marts.eu_orders:id", "datasetField:pg:marts.eu_orders:total"} <= ids
    upstream = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": "datasetField:pg:marts.eu_orders:total", "direction": "upstream"},
    ).json()
    assert "datasetField:pg:raw.orders:region" in {node["id"] for node in upstream["graph"]}
