"""An input column both DIRECT and INDIRECT for one output is two edges, both ways.

Hive states indirect inputs in the facet's dataset-level `dataset` list
(cllSimpleQueryPriorityDirectComplete.json); Spark, with dataset lineage off, lists
them per field, in one input field's transformations or as separate entries
(pysparkCLLEnd.json).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.lineage.producers import (
    HIVE,
    SPARK,
    field,
    input_field,
    metastore_table,
    run_event,
    spark_table,
    transformation,
)

HIVE_NS = "hive://localhost:9083"
IDENTITY = transformation("DIRECT", "IDENTITY")
AGGREGATION = transformation("DIRECT", "AGGREGATION")
GROUP_BY = transformation("INDIRECT", "GROUP_BY", "GROUP BY t1.a")
FILTER = transformation("INDIRECT", "FILTER", "WHERE t1.a > 1")


def send(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps(list(events)))
    assert response.status_code == 201, response.text


def edges_of(client: TestClient, node: str, direction: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/column-lineage", params={"nodeId": node, "direction": direction, "depth": 1}
    )
    assert response.status_code == 200, response.text
    found = next(n for n in response.json()["graph"] if n["id"] == node)
    return found["inEdges"] if direction == "upstream" else found["outEdges"]


def kinds(edges: list[dict[str, Any]], origin: str, destination: str) -> list[tuple[Any, ...]]:
    return sorted(
        (e["indirect"], tuple((t["type"], t["subtype"]) for t in e["transformations"]))
        for e in edges
        if e["origin"] == origin and e["destination"] == destination
    )


def hive_group_by() -> dict[str, Any]:
    """`INSERT INTO t2 SELECT a AS i, sum(b) AS s FROM t1 GROUP BY a` as the Hive hook says it."""
    return run_event(
        HIVE,
        "default",
        "query.test.t2",
        inputs=[metastore_table(HIVE, HIVE_NS, "test.t1", [field("a", "int"), field("b", "int")])],
        outputs=[
            metastore_table(
                HIVE,
                HIVE_NS,
                "test.t2",
                [field("i", "int"), field("s", "bigint")],
                column_lineage={
                    "fields": {
                        "i": {"inputFields": [input_field(HIVE_NS, "test.t1", "a", IDENTITY)]},
                        "s": {"inputFields": [input_field(HIVE_NS, "test.t1", "b", AGGREGATION)]},
                    },
                    "dataset": [input_field(HIVE_NS, "test.t1", "a", GROUP_BY)],
                },
            )
        ],
    )


A = f"datasetField:{HIVE_NS}:test.t1:a"
I_FIELD = f"datasetField:{HIVE_NS}:test.t2:i"
S_FIELD = f"datasetField:{HIVE_NS}:test.t2:s"


def test_dataset_level_indirect_and_direct_both_upstream(client: TestClient) -> None:
    send(client, hive_group_by())
    edges = edges_of(client, I_FIELD, "upstream")
    assert kinds(edges, A, I_FIELD) == [
        (False, (("DIRECT", "IDENTITY"),)),
        (True, (("INDIRECT", "GROUP_BY"),)),
    ]
    # `s` has `a` as its indirect input only, and `b` as direct.
    assert kinds(edges_of(client, S_FIELD, "upstream"), A, S_FIELD) == [
        (True, (("INDIRECT", "GROUP_BY"),))
    ]


def test_dataset_level_indirect_and_direct_both_downstream(client: TestClient) -> None:
    send(client, hive_group_by())
    edges = edges_of(client, A, "downstream")
    assert kinds(edges, A, I_FIELD) == [
        (False, (("DIRECT", "IDENTITY"),)),
        (True, (("INDIRECT", "GROUP_BY"),)),
    ]
    assert kinds(edges, A, S_FIELD) == [(True, (("INDIRECT", "GROUP_BY"),))]
    edge = next(e for e in edges if e["indirect"])
    assert edge["transformations"] == [
        {
            "type": "INDIRECT",
            "subtype": "GROUP_BY",
            "description": "GROUP BY t1.a",
            "masking": False,
        }
    ]
    assert edge["job"] == "job:default:query.test.t2"


@pytest.mark.parametrize("split", [False, True], ids=["one-entry", "two-entries"])
@pytest.mark.parametrize("direction", ["upstream", "downstream"])
def test_per_field_indirect_next_to_direct_is_kept(
    client: TestClient, split: bool, direction: str
) -> None:
    src = "/tmp/cll_test/cll_source1"
    entries = (
        [input_field("file", src, "a", IDENTITY), input_field("file", src, "a", FILTER)]
        if split
        else [input_field("file", src, "a", IDENTITY, FILTER)]
    )
    send(
        client,
        run_event(
            SPARK,
            "spark",
            "cll_test.ident",
            inputs=[spark_table("file", src, [field("a", "int")])],
            outputs=[
                spark_table(
                    "file",
                    "/tmp/cll_test/out",
                    [field("ident", "int")],
                    column_lineage={"fields": {"ident": {"inputFields": entries}}},
                )
            ],
        ),
    )
    origin, destination = f"datasetField:file:{src}:a", "datasetField:file:/tmp/cll_test/out:ident"
    node = destination if direction == "upstream" else origin
    found = kinds(edges_of(client, node, direction), origin, destination)
    if split:
        assert found == [
            (False, (("DIRECT", "IDENTITY"),)),
            (False, (("INDIRECT", "FILTER"),)),
        ]
    else:
        assert found == [(False, (("DIRECT", "IDENTITY"), ("INDIRECT", "FILTER")))]
