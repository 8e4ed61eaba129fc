"""Lineage answers follow the policy: node details by `describe`, query lineage per user,
raw events to their sender (and admins)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from steward.lineage.scope import CONSUMER_NAMESPACE, QUERY_JOB_NAMESPACE
from tests.openlineage_events import dataset, run_event
from tests.security.conftest import bearer

USERS = {"admin": "root", "analyst": "analyst@example.com", "masked": "masked@example.com"}


@pytest.fixture
def lineage(http: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    """Each of admin, analyst and masked ran a query; admin and analyst each sent a run."""
    for role in USERS:
        sql = "SELECT c.id, c.email, o.amount FROM lake.crm.customers c JOIN lake.crm.orders o "
        sql += "ON o.customer_id = c.id"
        answer = http.post("/api/v1/query", json={"sql": sql}, headers=bearer(tokens[role]))
        assert answer.status_code == 200, answer.text
    page = http.get("/api/v1/datasets/lake.crm.customers", headers=bearer(tokens["admin"])).json()
    customers = {"namespace": page["namespace"], "name": page["datasetName"]}
    for role in ("admin", "analyst"):
        event = run_event(
            f"{role}_report",
            inputs=[dataset(customers["namespace"], customers["name"])],
            outputs=[dataset("reports", f"{role}_summary", ["total"])],
        )
        answer = http.post("/api/v1/lineage", json=event, headers=bearer(tokens[role]))
        assert answer.status_code == 201, answer.text
    return {"node": page["nodeId"], **customers}


def _get(http: TestClient, token: str, path: str, **params: Any) -> Any:
    answer = http.get(path, params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _query_nodes(graph: dict[str, Any]) -> set[str]:
    prefixes = (f"dataset:{CONSUMER_NAMESPACE}:", f"job:{QUERY_JOB_NAMESPACE}:")
    return {n["id"] for n in graph["graph"] if n["id"].startswith(prefixes)}


def test_graph_shows_query_lineage_of_the_caller_only(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    def own(user: str) -> set[str]:
        return {f"dataset:{CONSUMER_NAMESPACE}:{user}", f"job:{QUERY_JOB_NAMESPACE}:{user}"}

    every = _get(http, tokens["admin"], "/api/v1/lineage", nodeId=lineage["node"])
    assert _query_nodes(every) == own("root") | own(USERS["analyst"]) | own(USERS["masked"])
    for role in ("analyst", "masked"):
        graph = _get(http, tokens[role], "/api/v1/lineage", nodeId=lineage["node"])
        assert _query_nodes(graph) == own(USERS[role]), role
        edges = [e for n in graph["graph"] for e in n["inEdges"] + n["outEdges"]]
        assert not any(":root" in e["origin"] + e["destination"] for e in edges)
    outsider = _get(http, tokens["outsider"], "/api/v1/lineage", nodeId=lineage["node"])
    assert _query_nodes(outsider) == set()
    # Another user's consumer is not there to start from.
    other = f"dataset:{CONSUMER_NAMESPACE}:root"
    answer = http.get(
        "/api/v1/lineage", params={"nodeId": other}, headers=bearer(tokens["analyst"])
    )
    assert answer.status_code == 404


def test_graph_node_details_follow_describe(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    def customers(role: str) -> dict[str, Any]:
        graph = _get(http, tokens[role], "/api/v1/lineage", nodeId=lineage["node"])
        node = next(n for n in graph["graph"] if n["id"] == lineage["node"])
        data: dict[str, Any] = node["data"]
        return data

    def fields(role: str) -> list[str]:
        return [f["name"] for f in customers(role)["fields"]]

    assert (
        fields("admin")
        == fields("analyst")
        == [
            "id",
            "name",
            "email",
            "ssn",
            "region",
            "salary",
        ]
    )
    assert "salary" not in fields("masked")
    hidden = customers("outsider")
    assert set(hidden) == {"id", "namespace", "name", "deleted", "described"}
    assert hidden["described"] is False
    # The graph's shape stays: the outsider sees the analyst's run reading customers.
    graph = _get(http, tokens["outsider"], "/api/v1/lineage", nodeId=lineage["node"])
    assert "job:etl:analyst_report" in {n["id"] for n in graph["graph"]}


def test_column_lineage_follows_describe_and_the_caller(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    email = f"datasetField:{lineage['namespace']}:{lineage['name']}:email"
    salary = f"datasetField:{lineage['namespace']}:{lineage['name']}:salary"

    def readers(role: str) -> set[str]:
        graph = _get(http, tokens[role], "/api/v1/column-lineage", nodeId=email, depth="all")
        return {
            n["data"]["dataset"]
            for n in graph["graph"]
            if n["data"]["namespace"] == CONSUMER_NAMESPACE
        }

    assert readers("admin") == {"root", USERS["analyst"], USERS["masked"]}
    assert readers("analyst") == {USERS["analyst"]}
    assert readers("masked") == {USERS["masked"]}
    for role, node in (("outsider", email), ("masked", salary)):
        answer = http.get(
            "/api/v1/column-lineage", params={"nodeId": node}, headers=bearer(tokens[role])
        )
        assert answer.status_code == 404, role


def test_raw_events_are_their_senders_and_admins(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    def jobs(role: str) -> list[str]:
        found = _get(http, tokens[role], "/api/v1/events/lineage")
        assert found["totalCount"] == len(found["events"])
        runs = [e["job"] for e in found["events"] if "job" in e]  # sync sends dataset events
        return sorted(f"{job['namespace']}:{job['name']}" for job in runs)

    queries = [f"{QUERY_JOB_NAMESPACE}:{user}" for user in USERS.values()]
    assert jobs("admin") == sorted(["etl:admin_report", "etl:analyst_report", *queries])
    assert jobs("analyst") == ["etl:analyst_report", f"{QUERY_JOB_NAMESPACE}:{USERS['analyst']}"]
    assert jobs("masked") == [f"{QUERY_JOB_NAMESPACE}:{USERS['masked']}"]
    assert jobs("outsider") == []
    # Paging counts what the caller sees.
    page = _get(http, tokens["analyst"], "/api/v1/events/lineage", limit=1)
    assert page["totalCount"] == 2
    assert len(page["events"]) == 1


def test_listings_and_search_leave_out_other_users_query_lineage(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    analyst = tokens["analyst"]
    consumers = _get(http, analyst, "/api/v1/datasets", namespace=CONSUMER_NAMESPACE)
    assert [d["name"] for d in consumers["datasets"]] == [USERS["analyst"]]
    assert consumers["totalCount"] == 1
    query_jobs = _get(http, analyst, "/api/v1/jobs", namespace=QUERY_JOB_NAMESPACE)
    assert [j["name"] for j in query_jobs["jobs"]] == [USERS["analyst"]]
    everyone = _get(http, tokens["admin"], "/api/v1/jobs", namespace=QUERY_JOB_NAMESPACE)
    assert everyone["totalCount"] == 3
    runs = f"/api/v1/jobs/{quote(QUERY_JOB_NAMESPACE, safe='')}/root/runs"
    assert http.get(runs, headers=bearer(analyst)).status_code == 404
    assert http.get(runs, headers=bearer(tokens["admin"])).status_code == 200
    found = _get(http, analyst, "/api/v1/search", q="example.com")
    assert {r["name"] for r in found["results"]} == {USERS["analyst"]}
    spaces = {n["name"]: n for n in _get(http, analyst, "/api/v1/namespaces")["namespaces"]}
    assert spaces[CONSUMER_NAMESPACE]["datasets"] == 1


def test_listings_and_search_describe_only_what_the_caller_may(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    def customers(role: str) -> dict[str, Any]:
        listed = _get(http, tokens[role], "/api/v1/datasets", namespace=lineage["namespace"])
        found: dict[str, Any] = next(d for d in listed["datasets"] if d["name"] == lineage["name"])
        return found

    assert "salary" in [f["name"] for f in customers("analyst")["fields"]]
    assert "salary" not in [f["name"] for f in customers("masked")["fields"]]
    assert "fields" not in customers("outsider")
    # The outsider finds customers by name, not by a column name.
    assert _get(http, tokens["outsider"], "/api/v1/search", q="ssn")["results"] == []
    by_name = _get(http, tokens["outsider"], "/api/v1/search", q="crm/customers")["results"]
    assert [r["description"] for r in by_name] == [None]
    assert _get(http, tokens["analyst"], "/api/v1/search", q="ssn")["totalCount"] == 1


def test_other_names_of_a_dataset_follow_describe(
    http: TestClient, tokens: dict[str, str], lineage: dict[str, Any]
) -> None:
    """A Spark job names customers by its location, linked to its catalog name: the two are
    one node, and its other name is a symlink, which only those who may describe it see."""
    location = dataset(
        "s3://warehouse",
        "/crm/customers",
        symlinks={
            "_producer": "https://example.com/spark",
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/SymlinksDatasetFacet.json",
            "identifiers": [
                {"namespace": lineage["namespace"], "name": lineage["name"], "type": "TABLE"}
            ],
        },
    )
    event = run_event("spark_copy", namespace="spark", inputs=[location])
    answer = http.post("/api/v1/lineage", json=event, headers=bearer(tokens["admin"]))
    assert answer.status_code == 201, answer.text

    def customers(role: str) -> dict[str, Any]:
        graph = _get(http, tokens[role], "/api/v1/lineage", nodeId=lineage["node"])
        return next(n for n in graph["graph"] if lineage["node"] in [n["id"], *n.get("sameAs", [])])

    seen = customers("admin")
    assert seen["sameAs"]
    assert "s3://warehouse" in str(seen["sameAs"])
    assert "s3://warehouse" in str(seen["data"]["sameAs"])
    hidden = customers("outsider")
    assert "s3://warehouse" not in str(hidden)
    assert "sameAs" not in hidden
    assert "sameAs" not in hidden["data"]
