"""Lineage asked by catalog name or NAMESPACE/NAME, per column by DATASET.COLUMN, and drawn.

The graph answers come from the real API on real stores (SQLite and PostgreSQL); the
diagrams are checked as a reader would: the DOT parsed by pydot, the Mermaid checked
for unique node ids and edges between declared nodes.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.lineage.draw import draw
from tests.diagrams import dot_nodes, mermaid_structure, parse_dot
from tests.openlineage_events import dataset, run_event

# Names that break naive diagram text: quotes, slashes, colons, '#', HTML, unicode.
ODD = 'sales/"q1":<b>#1</b> café ✓'


def post(client: TestClient, *events: dict[str, Any]) -> None:
    for event in events:
        assert client.post("/api/v1/lineage", json=event).status_code == 201


@pytest.fixture
def lake(steward: Steward, client: TestClient) -> TestClient:
    """The lake's `sales.orders` in the catalog, read by a job writing `sales.summary`."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField, StringType, StructType

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("sales")
    catalog.create_table(
        "sales.orders",
        Schema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(
                2,
                "address",
                StructType(NestedField(3, "city", StringType())),
            ),
        ),
    )
    sync(steward.store, steward.source("lake"))
    orders = client.get("/api/v1/datasets/lake.sales.orders").json()
    ns, name = orders["namespace"], orders["datasetName"]
    post(
        client,
        run_event(
            "summarise",
            inputs=[dataset(ns, name, ["id", "address.city"])],
            outputs=[
                dataset(
                    "wh",
                    "sales.summary",
                    ["city", "orders"],
                    column_lineage={"city": [(ns, name, "address.city")]},
                )
            ],
        ),
        run_event(
            "publish",
            inputs=[dataset("wh", "sales.summary", ["city"])],
            outputs=[
                dataset(
                    "wh",
                    ODD,
                    ["ville"],
                    column_lineage={"ville": [("wh", "sales.summary", "city")]},
                )
            ],
        ),
    )
    return client


def test_upstream_by_catalog_name_is_the_node_ids_answer(lake: TestClient) -> None:
    orders = lake.get("/api/v1/datasets/lake.sales.orders").json()
    by_name = lake.get(
        "/api/v1/lineage", params={"nodeId": "lake.sales.orders", "direction": "downstream"}
    )
    by_id = lake.get(
        "/api/v1/lineage", params={"nodeId": orders["nodeId"], "direction": "downstream"}
    )
    assert by_name.status_code == 200
    assert by_name.json() == by_id.json()
    ids = [n["id"] for n in by_name.json()["graph"]]
    assert ids[0] == orders["nodeId"]
    assert "job:etl:summarise" in ids
    assert "dataset:wh:sales.summary" in ids


def test_namespace_slash_name_names_a_dataset_or_a_job(lake: TestClient) -> None:
    orders = lake.get("/api/v1/datasets/lake.sales.orders").json()
    answer = lake.get(
        "/api/v1/lineage",
        params={"nodeId": f"{orders['namespace']}/{orders['datasetName']}", "depth": "1"},
    )
    assert answer.status_code == 200
    assert answer.json()["graph"][0]["id"] == orders["nodeId"]
    job = lake.get("/api/v1/lineage", params={"nodeId": "etl/summarise", "depth": "1"})
    assert job.json()["graph"][0]["id"] == "job:etl:summarise"


def test_an_ambiguous_name_is_a_400_listing_candidates_and_an_unknown_one_a_404(
    lake: TestClient,
) -> None:
    # `a/b/c` reads as namespace `a` + name `b/c`, and as namespace `a/b` + name `c`.
    post(
        lake,
        run_event("one", outputs=[dataset("a", "b/c")]),
        run_event("two", outputs=[dataset("a/b", "c")]),
    )
    refused = lake.get("/api/v1/lineage", params={"nodeId": "a/b/c"})
    assert refused.status_code == 400
    detail = str(refused.json())
    assert "dataset:a:b/c" in detail
    assert "dataset:a/b:c" in detail
    unknown = lake.get("/api/v1/lineage", params={"nodeId": "lake.sales.nowhere"})
    assert unknown.status_code == 404
    assert "lake.sales.nowhere" in str(unknown.json())


def test_column_lineage_by_catalog_name_and_nested_column(lake: TestClient) -> None:
    answer = lake.get(
        "/api/v1/column-lineage",
        params={"nodeId": "lake.sales.orders.address.city", "direction": "downstream"},
    )
    assert answer.status_code == 200, answer.text
    graph = answer.json()["graph"]
    assert graph[0]["data"]["field"] == "address.city"
    reached = {(n["data"]["dataset"], n["data"]["field"]) for n in graph}
    assert ("sales.summary", "city") in reached
    assert (ODD, "ville") in reached
    edge = graph[0]["outEdges"][0]
    assert edge["transformations"][0]["type"] == "DIRECT"
    upstream = lake.get(
        "/api/v1/column-lineage",
        params={"nodeId": f"wh/{ODD}.ville", "direction": "upstream"},
    )
    assert upstream.status_code == 200, upstream.text
    assert {n["data"]["field"] for n in upstream.json()["graph"]} == {
        "ville",
        "city",
        "address.city",
    }


def test_diagrams_of_any_name_are_valid_dot_and_mermaid(lake: TestClient) -> None:
    answers = [
        lake.get("/api/v1/lineage", params={"nodeId": "lake.sales.orders"}).json(),
        lake.get(
            "/api/v1/column-lineage",
            params={"nodeId": "lake.sales.orders.address.city", "direction": "downstream"},
        ).json(),
    ]
    for answer in answers:
        nodes = answer["graph"]
        edges = {(e["origin"], e["destination"]) for n in nodes for e in n["outEdges"]}
        dot = draw(answer, "dot")
        parsed = parse_dot(dot)
        found = dot_nodes(parsed)
        assert len(found) == len(nodes)
        assert len(parsed.get_edges()) == len(edges)
        labels = [n.get_label() for n in found]
        labels += [g.get_label() for g in parsed.get_subgraphs()]  # a column's dataset
        assert any("café ✓" in str(label) and '\\"q1\\"' in str(label) for label in labels)
        declared, drawn = mermaid_structure(draw(answer, "mermaid"))
        assert len(declared) == len(set(declared)) == len(nodes)
        assert len(drawn) == len(edges)
        assert all(a in declared and b in declared for a, b in drawn)
    column = draw(answers[1], "mermaid")
    assert "subgraph" in column
    assert "DIRECT/IDENTITY" in column
    assert "#34;q1#34;" in column  # the quotes of the name, as Mermaid entity codes


def test_the_api_draws_with_format(lake: TestClient) -> None:
    answer = lake.get("/api/v1/lineage", params={"nodeId": "lake.sales.orders", "format": "dot"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("digraph lineage {")
    assert parse_dot(answer.text).get_edges()
    mermaid = lake.get(
        "/api/v1/column-lineage",
        params={"nodeId": "lake.sales.orders.address.city", "format": "mermaid"},
    )
    assert mermaid.text.startswith("flowchart LR\n")
    bad = lake.get("/api/v1/lineage", params={"nodeId": "lake.sales.orders", "format": "png"})
    assert bad.status_code in (400, 422)
    assert "format" in bad.text
