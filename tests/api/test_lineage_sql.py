"""`POST /api/v1/lineage/sql`: any authenticated caller gets the lineage of SQL text."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.identity.tokens import create_token

PATH = "/api/v1/lineage/sql"


def test_insert_lineage_over_http(client: TestClient) -> None:
    response = client.post(
        PATH,
        json={
            "sql": "INSERT INTO mart.daily (day, total) "
            "SELECT day, sum(amount) FROM orders WHERE status = 'paid' GROUP BY day",
            "dialect": "snowflake",
            "schema": {"raw.shop.orders": {"day": "DATE", "amount": "NUMBER", "status": "TEXT"}},
            "defaultCatalog": "raw",
            "defaultSchema": "shop",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["statement"] == "INSERT"
    assert body["inputs"] == ["raw.shop.orders"]
    assert body["outputs"] == ["raw.mart.daily"]
    total = next(c for c in body["columns"] if c["column"] == "total")
    assert total["table"] == "raw.mart.daily"
    assert total["upstreams"] == [{"table": "raw.shop.orders", "column": "amount"}]
    assert [(t["type"], t["subtype"]) for t in total["transformations"]] == [
        ("DIRECT", "AGGREGATION")
    ]
    assert {(d["column"], d["subtype"]) for d in body["dataset"]} == {
        ("status", "FILTER"),
        ("day", "GROUP_BY"),
    }
    assert body["reads"] == {"raw.shop.orders": ["amount", "day", "status"]}
    assert body["unresolved"] == []


def test_a_script_answers_each_statement_and_the_external_tables(client: TestClient) -> None:
    sql = "CREATE TABLE tmp AS SELECT id FROM src; INSERT INTO dst SELECT id FROM tmp"
    body = client.post(PATH, json={"sql": sql, "dialect": "duckdb"}).json()
    assert [s["statement"] for s in body["statements"]] == ["CREATE_TABLE_AS", "INSERT"]
    assert body["inputs"] == ["src"]
    assert body["outputs"] == ["tmp", "dst"]


def test_a_caller_without_admin_rights_may_ask(steward: Steward, client: TestClient) -> None:
    token = create_token(steward.store, user="analyst").secret
    response = client.post(
        PATH,
        json={"sql": "SELECT a FROM t"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["columns"][0]["upstreams"] == [{"table": "t", "column": "a"}]


def test_no_token_is_401(anonymous: TestClient) -> None:
    assert anonymous.post(PATH, json={"sql": "SELECT 1"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "sql"),
        ({"sql": ""}, "sql"),
        ({"sql": "SELECT 1", "dialect": 3}, "dialect"),
        ({"sql": "SELECT 1", "schema": ["t"]}, "schema"),
        ({"sql": "SELECT 1", "schema": {"t": {"a": 1}}}, "schema"),
        ({"sql": "SELECT 1", "defaultSchema": "x" * 600}, "defaultSchema"),
        ({"sql": "SELECT 1", "surprise": True}, "surprise"),
        ({"sql": "SELECT 1", "dialect": "nosuchdialect"}, "dialect"),
        ({"sql": "SELECT 1", "schema": {"t": "not columns"}}, "schema"),
    ],
)
def test_invalid_input_is_400_naming_the_field(
    client: TestClient, body: dict[str, Any], named: str
) -> None:
    response = client.post(PATH, json=body)
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]


def test_unparseable_sql_is_400_with_the_reason(client: TestClient) -> None:
    response = client.post(PATH, json={"sql": "SELECT FROM WHERE (", "dialect": "postgres"})
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith("sql: ")
    assert "Line 1" in message
    assert "\n" not in message
