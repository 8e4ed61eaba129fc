"""`POST /api/v1/query` and `steward query` run the governed path and say what it applied."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from tests.cli_run import steward_cli
from tests.query.conftest import EU_IDS, PEOPLE

PLATFORM_POLICY = """\
roles:
  platform-admin: {groups: [platform]}
grants:
  - roles: [platform-admin]
    select: ["*"]
"""


@pytest.fixture
def lake_client(lake: Steward, client: TestClient) -> TestClient:
    """A client acting as a member of `platform`, which the active policy grants everything."""
    apply(lake.store, PLATFORM_POLICY, actor=None)
    secret = create_token(lake.store, user="pat", groups=["platform"]).secret
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def test_an_api_admin_reads_no_data_without_a_policy_granting_it(
    lake: Steward, client: TestClient
) -> None:
    answer = client.post("/api/v1/query", json={"sql": "SELECT id FROM lake.crm.customers"})
    assert answer.status_code == 403
    assert "lake.crm.customers" in answer.json()["error"]


def test_a_granted_query_over_http_returns_columns_rows_and_applied(
    lake_client: TestClient,
) -> None:
    answer = lake_client.post(
        "/api/v1/query", json={"sql": "SELECT id, email FROM lake.crm.customers ORDER BY id"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["columns"] == ["id", "email"]
    assert body["rows"] == [[r[0], r[2]] for r in PEOPLE]
    assert body["applied"] == []


def test_a_caller_without_a_grant_gets_403_with_the_reason(
    lake: Steward, client: TestClient
) -> None:
    secret = create_token(lake.store, user="ann", groups=["analysts"]).secret
    answer = client.post(
        "/api/v1/query",
        json={"sql": "SELECT * FROM lake.crm.customers"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 403
    assert "lake.crm.customers" in answer.json()["error"]


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", 403),
        ("DROP TABLE lake.crm.customers", 403),
        ("SELEC 1", 400),
    ],
)
def test_refusals_over_http(lake_client: TestClient, sql: str, status: int) -> None:
    answer = lake_client.post("/api/v1/query", json={"sql": sql})
    assert answer.status_code == status
    assert answer.json()["error"]


def test_a_body_without_sql_is_a_400_naming_the_field(lake_client: TestClient) -> None:
    answer = lake_client.post("/api/v1/query", json={"query": "SELECT 1"})
    assert answer.status_code == 400
    assert "sql" in answer.text


def test_a_query_becomes_lineage_of_its_user(lake: Steward, lake_client: TestClient) -> None:
    lake_client.post("/api/v1/query", json={"sql": "SELECT count(*) FROM crm.orders"})
    from steward.catalog.views import resolve_dataset
    from steward.lineage.graph import lineage_graph
    from steward.lineage.nodes import resolve_node
    from steward.lineage.queries import list_jobs

    with lake.store.read() as conn:
        jobs = list_jobs(conn, namespace="steward://query")["jobs"]
        orders = resolve_dataset(conn, "lake.crm.orders")
        node = resolve_node(conn, "job:steward://query:pat")
        graph = lineage_graph(conn, node, depth=1, direction="upstream")
    assert [job["name"] for job in jobs] == ["pat"]
    assert orders > 0
    assert any("orders" in str(n["id"]) for n in graph["graph"] if n["type"] == "DATASET")


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(home, *args)


@pytest.mark.slow
def test_steward_query_json_as_a_granted_user(lake: Steward) -> None:
    apply(lake.store, PLATFORM_POLICY, actor=None)
    result = run_cli(
        lake.settings.home,
        "query",
        "SELECT id FROM customers WHERE region = 'EU' ORDER BY id",
        "--groups",
        "platform",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    assert body["columns"] == ["id"]
    assert {r[0] for r in body["rows"]} == EU_IDS
    with lake.store.read() as conn:
        records = list_records(conn, AuditFilter(action="query"))
    assert records[0].user == "local"


@pytest.mark.slow
def test_steward_query_refuses_a_user_without_a_grant(lake: Steward) -> None:
    result = run_cli(lake.settings.home, "query", "SELECT * FROM customers", "--user", "ann")
    assert result.returncode == 6
    assert "customers" in result.stderr


def test_the_columns_a_query_reads_become_column_lineage_of_its_consumer(
    lake: Steward, lake_client: TestClient
) -> None:
    answer = lake_client.post(
        "/api/v1/query", json={"sql": "SELECT email FROM lake.crm.customers WHERE id > 1"}
    )
    assert answer.status_code == 200, answer.text
    page = lake_client.get("/api/v1/datasets/lake.crm.customers").json()
    downstream = lake_client.get(
        "/api/v1/column-lineage",
        params={
            "nodeId": f"datasetField:{page['namespace']}:{page['datasetName']}:email",
            "direction": "downstream",
            "depth": 1,
        },
    )
    assert downstream.status_code == 200, downstream.text
    ids = {node["id"] for node in downstream.json()["graph"]}
    assert any(
        i.startswith("datasetField:steward://consumer:pat") or i == "dataset:steward://consumer:pat"
        for i in ids
    ), ids
    salary = lake_client.get(
        "/api/v1/column-lineage",
        params={
            "nodeId": f"datasetField:{page['namespace']}:{page['datasetName']}:name",
            "direction": "downstream",
            "depth": 1,
        },
    ).json()
    assert not any("steward://consumer" in node["id"] for node in salary["graph"])


ATTRIBUTE_POLICY = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.crm.customers"]
row_filters:
  - table: lake.crm.customers
    roles: [analyst]
    where: "region = current_attribute('region')"
"""


@pytest.mark.slow
def test_steward_query_takes_the_callers_attributes_for_row_filters(lake: Steward) -> None:
    apply(lake.store, ATTRIBUTE_POLICY, actor=None)
    sql = "SELECT id FROM customers ORDER BY id"
    as_eu = ["query", sql, "--user", "ann", "--groups", "analysts", "--json"]
    eu = run_cli(lake.settings.home, *as_eu, "--attribute", "region=EU")
    assert eu.returncode == 0, eu.stderr
    assert [row[0] for row in json.loads(eu.stdout)["rows"]] == sorted(EU_IDS)
    # Without the attribute, the filter compares with NULL: no row.
    none = run_cli(lake.settings.home, *as_eu)
    assert json.loads(none.stdout)["rows"] == []
    bad = run_cli(lake.settings.home, *as_eu, "--attribute", "region")
    assert bad.returncode == 2
    assert "NAME=VALUE" in bad.stderr
