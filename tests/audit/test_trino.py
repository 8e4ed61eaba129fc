"""Trino's HTTP event listener: QueryCompletedEvent JSON in, audit records and lineage out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.config import Settings
from steward.identity.tokens import create_token

FIXTURES = Path(__file__).parent / "fixtures"


def event(name: str) -> Any:
    return json.loads((FIXTURES / f"trino_{name}.json").read_text())


def test_masked_select_is_one_record_with_tables_columns_masks_and_filters(
    client: TestClient,
) -> None:
    response = client.post("/api/v1/audit/trino", json=event("select_masked"))
    assert response.status_code == 201, response.text
    assert response.json()["decision"] == "masked"
    assert response.json()["lineage"] is False  # a SELECT writes nothing
    (found,) = client.get("/api/v1/audit", params={"action": "query"}).json()["records"]
    assert found["actor"] == {"user": "ana", "groups": ["analysts", "eu"], "token_id": None}
    assert found["decision"] == "masked"
    details = found["details"]
    assert details["query_id"] == "20240501_101500_00042_abcde"
    assert details["inputs"] == [
        {
            "dataset": "lake.crm.customers",
            "columns": ["id", "email"],
            "masks": {"email": ["regexp_replace(email, '^[^@]+', '***')"]},
            "filters": ["region = 'EU'"],
        },
        {"dataset": "lake.sales.orders", "columns": ["customer_id", "total"]},
    ]
    assert details["reported_by"]["user"] == "admin"
    # Both tables are findable by dataset and column.
    for params in (
        {"dataset": "lake.sales.orders"},
        {"dataset": "lake.crm.customers", "column": "email"},
        {"column": "total"},
    ):
        assert len(client.get("/api/v1/audit", params=params).json()["records"]) == 1
    assert client.get("/api/v1/audit", params={"column": "ssn"}).json()["records"] == []


def test_insert_records_the_query_and_draws_table_and_column_lineage(
    client: TestClient,
) -> None:
    response = client.post("/api/v1/audit/trino", json=event("insert"))
    assert response.status_code == 201, response.text
    assert response.json()["decision"] == "allowed"
    assert response.json()["lineage"] is True
    ns = "trino://trino.example.com:8080"
    graph = client.get("/api/v1/lineage", params={"nodeId": f"dataset:{ns}:lake.marts.revenue"})
    assert graph.status_code == 200, graph.text
    ids = {node["id"] for node in graph.json()["graph"]}
    assert f"dataset:{ns}:lake.sales.orders" in ids
    assert f"job:{ns}:20240501_102000_00043_abcde" in ids
    columns = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": f"datasetField:{ns}:lake.marts.revenue:revenue"},
    )
    assert columns.status_code == 200, columns.text
    field_ids = {node["id"] for node in columns.json()["graph"]}
    assert f"datasetField:{ns}:lake.sales.orders:total" in field_ids
    actions = [r["action"] for r in client.get("/api/v1/audit").json()["records"]]
    assert actions == ["lineage.ingest", "query", "token.create"]
    # Trino's own column lineage is what is recorded: it says nothing of transformations.
    assert upstream_fields(client, NS, "lake.marts.revenue", "revenue") == {
        "lake.sales.orders:total": []
    }


NS = "trino://trino.example.com:8080"


def upstream_fields(
    client: TestClient, ns: str, table: str, column: str
) -> dict[str, list[tuple[str, str]]]:
    """The direct upstream fields of `table.column`, each with its transformations."""
    node = f"datasetField:{ns}:{table}:{column}"
    answer = client.get("/api/v1/column-lineage", params={"nodeId": node, "direction": "upstream"})
    if answer.status_code == 404:  # a field no lineage names
        return {}
    assert answer.status_code == 200, answer.text
    (found,) = [n for n in answer.json()["graph"] if n["id"] == node]
    return {
        edge["origin"].removeprefix(f"datasetField:{ns}:"): [
            (t["type"], t["subtype"]) for t in edge["transformations"]
        ]
        for edge in found["inEdges"]
        if not edge["indirect"]
    }


def test_without_trinos_source_columns_the_query_text_gives_the_column_lineage(
    client: TestClient,
) -> None:
    response = client.post("/api/v1/audit/trino", json=event("insert_no_sources"))
    assert response.status_code == 201, response.text
    assert response.json()["lineage"] is True
    # `revenue` and `sales.orders` resolve in the session's catalog `lake`, schema `marts`.
    assert upstream_fields(client, NS, "lake.marts.revenue", "customer_id") == {
        "lake.sales.orders:customer_id": [("DIRECT", "IDENTITY")]
    }
    assert upstream_fields(client, NS, "lake.marts.revenue", "revenue") == {
        "lake.sales.orders:total": [("DIRECT", "AGGREGATION")]
    }
    # A literal has no upstream.
    assert upstream_fields(client, NS, "lake.marts.revenue", "currency") == {}


def test_output_without_columns_takes_its_columns_from_the_query(client: TestClient) -> None:
    response = client.post("/api/v1/audit/trino", json=event("ctas_no_columns"))
    assert response.status_code == 201, response.text
    assert upstream_fields(client, NS, "lake.crm.top_customers", "id") == {
        "lake.crm.customers:id": [("DIRECT", "IDENTITY")]
    }
    assert upstream_fields(client, NS, "lake.crm.top_customers", "name") == {
        "lake.crm.customers:name": [("DIRECT", "TRANSFORMATION")]
    }


def test_query_text_the_engine_cannot_parse_keeps_the_record_and_table_lineage(
    client: TestClient,
) -> None:
    payload = event("insert_no_sources")
    payload["metadata"]["query"] = "INSERT INTO revenue SELECT FROM WHERE ((("
    response = client.post("/api/v1/audit/trino", json=payload)
    assert response.status_code == 201, response.text
    assert response.json()["lineage"] is True
    graph = client.get("/api/v1/lineage", params={"nodeId": f"dataset:{NS}:lake.marts.revenue"})
    assert f"dataset:{NS}:lake.sales.orders" in {n["id"] for n in graph.json()["graph"]}
    assert upstream_fields(client, NS, "lake.marts.revenue", "revenue") == {}


def test_permission_denied_is_a_denied_record(client: TestClient) -> None:
    response = client.post("/api/v1/audit/trino", json=event("denied"))
    assert response.json()["decision"] == "denied"
    (found,) = client.get("/api/v1/audit", params={"decision": "denied"}).json()["records"]
    assert found["actor"]["user"] == "bob"
    assert "Access Denied" in found["details"]["message"]
    report = client.get("/api/v1/audit/reports/denied").json()
    assert [row["user"] for row in report["rows"]] == ["bob"]


def test_event_without_user_is_refused_naming_the_field(client: TestClient) -> None:
    payload = event("insert")
    del payload["context"]["user"]
    response = client.post("/api/v1/audit/trino", json=payload)
    assert response.status_code == 400
    assert "context.user" in response.json()["error"]
    assert client.get("/api/v1/audit", params={"action": "query"}).json()["records"] == []


def test_by_default_only_admins_may_post_events(steward: Steward, anonymous: TestClient) -> None:
    # A group called `trino` grants nothing by itself any more.
    trino = create_token(steward.store, user="trino", groups=["trino"]).secret
    refused = anonymous.post(
        "/api/v1/audit/trino", json=event("insert"), headers={"Authorization": f"Bearer {trino}"}
    )
    assert refused.status_code == 403
    assert "trino_reporter_users" in refused.json()["error"]
    with steward.store.read() as conn:
        assert list_records(conn, AuditFilter(action="query")) == []


@pytest.mark.parametrize("granted", ["user", "group"])
def test_configured_reporters_may_post_events_and_nobody_else(
    tmp_path: Path, database_url: str | None, granted: str
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        trino_reporter_users=["trino-prod"] if granted == "user" else [],
        trino_reporter_groups=["trino-listeners"] if granted == "group" else [],
    )
    steward = Steward(settings)
    steward.upgrade()
    analyst = create_token(steward.store, user="eve", groups=["analysts", "trino"]).secret
    reporter = create_token(
        steward.store,
        user="trino-prod" if granted == "user" else "listener",
        groups=["trino-listeners"] if granted == "group" else [],
    ).secret
    body = event("insert")
    with TestClient(create_app(steward)) as anonymous:
        refused = anonymous.post(
            "/api/v1/audit/trino", json=body, headers={"Authorization": f"Bearer {analyst}"}
        )
        assert refused.status_code == 403
        accepted = anonymous.post(
            "/api/v1/audit/trino", json=body, headers={"Authorization": f"Bearer {reporter}"}
        )
        assert accepted.status_code == 201
        reading = anonymous.get("/api/v1/audit", headers={"Authorization": f"Bearer {reporter}"})
        assert reading.status_code == 403
    steward.close()
