"""The example in examples/lineage answers the questions its README asks."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lineage" / "shop.ndjson"
MART = "dataset:s3://lake:marts/revenue_by_country"


def test_shop_example_tells_where_the_dashboard_comes_from(client: TestClient) -> None:
    sent = client.post("/api/v1/lineage/batch", content=EXAMPLE.read_bytes())
    assert sent.json() == {"received": 20, "stored": 20, "duplicates": 0, "position": 20}

    dashboard = client.get(
        "/api/v1/lineage",
        params={
            "nodeId": "job:superset:finance_dashboard",
            "direction": "upstream",
            "depth": "all",
        },
    ).json()
    reached = {node["id"] for node in dashboard["graph"]}
    assert "dataset:postgres://shop-db:5432:shop.public.orders" in reached
    assert "dataset:s3://lake:staging/orders_v2" in reached
    assert "dataset:s3://lake:staging/orders" not in reached  # replaced on day 3

    day_two = client.get(
        "/api/v1/lineage",
        params={
            "nodeId": MART,
            "direction": "upstream",
            "depth": 1,
            "asOf": "2024-05-02T12:00:00Z",
        },
    ).json()
    assert "dataset:s3://lake:staging/orders" in {node["id"] for node in day_two["graph"]}

    revenue = client.get(
        "/api/v1/column-lineage",
        params={
            "nodeId": "datasetField:s3://lake:marts/revenue_by_country:revenue",
            "direction": "upstream",
        },
    ).json()
    edges = [e for node in revenue["graph"] for e in node["inEdges"]]
    assert {
        "type": "DIRECT",
        "subtype": "AGGREGATION",
        "description": "sum(amount)",
        "masking": False,
    } in edges[0]["transformations"]
    assert any(n["id"].endswith("shop.public.orders:amount") for n in revenue["graph"])
