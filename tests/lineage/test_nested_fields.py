"""Nested schema fields (SchemaDatasetFacet 1-1-0 `fields[].fields`): stored, shown as a
tree, addressable by column lineage by their dotted path."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from tests.lineage.producers import (
    SPARK,
    field,
    input_field,
    run_event,
    spark_table,
)

CUSTOMERS = [
    field("id", "long"),
    field(
        "address",
        "struct",
        description="Where they live",
        fields=[field("city", "string", description="City name"), field("zip", "string")],
    ),
    field("phones", "array", fields=[field("_element", "string")]),
]
SRC, OUT = "/lake/raw/customers", "/lake/curated/customers"


def send(client: TestClient, *events: dict[str, Any]) -> None:
    for event in events:
        response = client.post("/api/v1/lineage", content=orjson.dumps(event))
        assert response.status_code == 201, response.text


def write_customers(*, schema: bool = True, time: str = "2024-05-01T10:00:00Z") -> dict[str, Any]:
    """Spark copies customers, `address.city` from the raw table's `address.city`."""
    lineage = {
        "fields": {
            "address.city": {"inputFields": [input_field("file", SRC, "address.city")]},
            "id": {"inputFields": [input_field("file", SRC, "id")]},
        }
    }
    return run_event(
        SPARK,
        "spark",
        "curate_customers",
        event_time=time,
        inputs=[spark_table("file", SRC, CUSTOMERS if schema else None)],
        outputs=[spark_table("file", OUT, CUSTOMERS if schema else None, column_lineage=lineage)],
    )


def listed(client: TestClient, name: str) -> dict[str, Any]:
    answer = client.get("/api/v1/datasets", params={"namespace": "file"}).json()
    return next(d for d in answer["datasets"] if d["name"] == name)


def test_nested_fields_are_a_tree_on_the_dataset(client: TestClient) -> None:
    send(client, write_customers())
    fields = listed(client, OUT)["fields"]
    assert [f["name"] for f in fields] == ["id", "address", "phones"]
    address = fields[1]
    assert address["type"] == "struct"
    assert address["fields"] == [
        {"name": "city", "type": "string", "description": "City name", "path": "address.city"},
        {"name": "zip", "type": "string", "description": None, "path": "address.zip"},
    ]
    assert fields[2]["fields"] == [
        {"name": "_element", "type": "string", "description": None, "path": "phones._element"}
    ]
    assert "fields" not in fields[0]


@pytest.mark.parametrize("schema_first", [True, False], ids=["schema-first", "lineage-first"])
def test_column_lineage_addresses_a_nested_field_by_its_path(
    client: TestClient, schema_first: bool
) -> None:
    early, late = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"
    if schema_first:
        send(client, write_customers(time=early), write_customers(schema=False, time=late))
    else:
        send(client, write_customers(schema=False, time=early), write_customers(time=late))
    city = f"datasetField:file:{OUT}:address.city"
    up = client.get("/api/v1/column-lineage", params={"nodeId": city, "direction": "upstream"})
    assert up.status_code == 200, up.text
    graph = {n["id"]: n for n in up.json()["graph"]}
    source = f"datasetField:file:{SRC}:address.city"
    assert set(graph) == {city, source}
    assert graph[city]["data"]["fieldType"] == "string"
    assert graph[source]["data"]["field"] == "address.city"
    down = client.get(
        "/api/v1/column-lineage", params={"nodeId": source, "direction": "downstream"}
    )
    assert city in {n["id"] for n in down.json()["graph"]}


def test_a_change_inside_a_struct_is_a_new_schema_version(client: TestClient) -> None:
    send(client, write_customers(time="2024-05-01T10:00:00Z"))
    changed = [
        *CUSTOMERS[:1],
        field("address", "struct", fields=[field("city", "string"), field("zip", "int")]),
        *CUSTOMERS[2:],
    ]
    later = run_event(
        SPARK,
        "spark",
        "curate_customers",
        event_time="2024-05-02T10:00:00Z",
        outputs=[spark_table("file", OUT, changed)],
    )
    send(client, later)
    page = client.get(f"/api/v1/datasets/dataset:file:{OUT}").json()
    assert page["schemaVersions"] == 2
    address = next(c for c in page["columns"] if c["name"] == "address")
    assert [(f["name"], f["type"]) for f in address["fields"]] == [
        ("city", "string"),
        ("zip", "int"),
    ]


def test_catalog_page_shows_nested_fields_of_an_event_stated_dataset(client: TestClient) -> None:
    send(client, write_customers())
    page = client.get(f"/api/v1/datasets/dataset:file:{OUT}").json()
    columns = {c["name"]: c for c in page["columns"]}
    assert list(columns) == ["id", "address", "phones"]
    assert columns["id"]["fields"] == []
    city, zip_code = columns["address"]["fields"]
    assert (city["name"], city["type"], city["description"]) == ("city", "string", "City name")
    assert city["path"] == "address.city"
    assert (zip_code["name"], zip_code["fields"]) == ("zip", [])
    assert [f["name"] for f in columns["phones"]["fields"]] == ["_element"]


def test_catalog_page_shows_nested_fields_of_an_iceberg_table(
    steward: Steward, client: TestClient
) -> None:
    from pyiceberg.schema import Schema
    from pyiceberg.types import ListType, LongType, NestedField, StringType, StructType

    from steward.connectors.iceberg import lake_catalog

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    catalog.create_table(
        "crm.people",
        Schema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(
                2,
                "address",
                StructType(
                    NestedField(4, "city", StringType(), doc="City name"),
                    NestedField(5, "zip", StringType()),
                ),
            ),
            NestedField(3, "tags", ListType(6, StringType())),
        ),
    )
    assert client.post("/api/v1/sources/lake/sync").status_code == 200
    page = client.get("/api/v1/datasets/lake.crm.people").json()
    columns = {c["name"]: c for c in page["columns"]}
    assert [(f["name"], f["type"], f["description"]) for f in columns["address"]["fields"]] == [
        ("city", "string", "City name"),
        ("zip", "string", None),
    ]
    assert [(f["path"], f["type"]) for f in columns["tags"]["fields"]] == [
        ("tags._element", "string")
    ]
    assert columns["id"]["fields"] == []
