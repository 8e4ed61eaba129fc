"""The engine's lineage as OpenLineage facets, sent to Steward's ingest and read back."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from steward.lineage.sql import analyze, column_lineage_facets
from tests.openlineage_events import dataset, run_event

SQL = """
INSERT INTO mart.contacts (id, email_hash, orders)
SELECT c.id, sha2(c.email, 256), count(o.id)
FROM crm.customers AS c JOIN shop.orders AS o ON o.customer_id = c.id
WHERE c.country = 'NL'
GROUP BY c.id, c.email
"""


def test_the_facet_of_an_insert_names_fields_and_row_level_inputs() -> None:
    statement = analyze(SQL, dialect="spark").statements[0]
    facet = column_lineage_facets(statement, "wh")["mart.contacts"]
    assert facet["_schemaURL"].startswith(
        "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    )
    email = facet["fields"]["email_hash"]["inputFields"]
    assert email == [
        {
            "namespace": "wh",
            "name": "crm.customers",
            "field": "email",
            "transformations": [
                {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": True}
            ],
        }
    ]
    orders = facet["fields"]["orders"]["inputFields"][0]
    assert (orders["name"], orders["field"]) == ("shop.orders", "id")
    assert orders["transformations"][0]["subtype"] == "AGGREGATION"
    assert orders["transformations"][0]["masking"] is True  # a count reveals no value
    rows = {
        (d["name"], d["field"], t["type"], t["subtype"])
        for d in facet["dataset"]
        for t in d["transformations"]
    }
    assert rows == {
        ("crm.customers", "country", "INDIRECT", "FILTER"),
        ("crm.customers", "id", "INDIRECT", "JOIN"),
        ("shop.orders", "customer_id", "INDIRECT", "JOIN"),
        ("crm.customers", "id", "INDIRECT", "GROUP_BY"),
        ("crm.customers", "email", "INDIRECT", "GROUP_BY"),
    }


def test_facets_sent_to_steward_answer_column_lineage(client: TestClient) -> None:
    statement = analyze(SQL, dialect="spark").statements[0]
    facets = column_lineage_facets(statement, "wh")
    output = dataset("wh", "mart.contacts", ["id", "email_hash", "orders"])
    output["facets"]["columnLineage"] = facets["mart.contacts"]
    event = run_event(
        "contacts",
        inputs=[dataset("wh", name) for name in statement.inputs],
        outputs=[output],
    )
    sent = client.post("/api/v1/lineage/batch", content=orjson.dumps([event]))
    assert sent.status_code == 201, sent.text
    answer = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": "datasetField:wh:mart.contacts:orders", "direction": "upstream"},
    )
    assert answer.status_code == 200, answer.text
    nodes = {n["id"]: n for n in answer.json()["graph"]}
    edges = {e["origin"]: e for e in nodes["datasetField:wh:mart.contacts:orders"]["inEdges"]}
    counted = edges["datasetField:wh:shop.orders:id"]
    assert counted["indirect"] is False
    assert counted["transformations"] == [
        {"type": "DIRECT", "subtype": "AGGREGATION", "description": "", "masking": True}
    ]
    assert edges["datasetField:wh:crm.customers:country"]["indirect"] is True
    assert edges["datasetField:wh:shop.orders:customer_id"]["indirect"] is True


def test_two_output_columns_of_one_name_are_one_field_with_the_inputs_of_both() -> None:
    sql = "CREATE TABLE s.pairs AS SELECT a.id, b.id FROM s.a AS a JOIN s.b AS b ON a.k = b.k"
    statement = analyze(sql, dialect="spark").statements[0]
    assert [column.column for column in statement.columns] == ["id", "id"]
    fields = column_lineage_facets(statement, "wh")["s.pairs"]["fields"]
    assert list(fields) == ["id"]
    inputs = fields["id"]["inputFields"]
    assert [(field["name"], field["field"]) for field in inputs] == [("s.a", "id"), ("s.b", "id")]
