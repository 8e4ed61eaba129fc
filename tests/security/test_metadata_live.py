"""The same rules on a real `steward serve` on loopback, one test per route class."""

from __future__ import annotations

import csv
import io

import httpx

from steward.app import Steward
from steward.lineage.scope import CONSUMER_NAMESPACE
from tests.security.conftest import SALARY_MAX, Server, bearer, govern


def test_live_dataset_page_search_and_quality_per_role(server: Server, steward: Steward) -> None:
    tokens = govern(steward)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        pages = {
            role: http.get("/api/v1/datasets/lake.crm.customers", headers=bearer(token))
            for role, token in tokens.items()
        }
        assert pages["outsider"].status_code == 404
        for role in ("admin", "analyst"):
            quality = {q["check"]: q for q in pages[role].json()["quality"]}
            assert quality["max(salary)"]["observed"] == SALARY_MAX
        masked = pages["masked"].json()
        assert "salary" not in [c["name"] for c in masked["columns"]]
        assert SALARY_MAX not in pages["masked"].text
        found = http.get(
            "/api/v1/catalog/search", params={"q": "crm"}, headers=bearer(tokens["outsider"])
        )
        assert [r["name"] for r in found.json()["results"]] == ["lake.crm.orders"]


def test_live_lineage_graph_and_raw_events_per_role(server: Server, steward: Steward) -> None:
    tokens = govern(steward)
    sql = "SELECT id, email FROM lake.crm.customers"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for role in ("admin", "analyst"):
            ran = http.post("/api/v1/query", json={"sql": sql}, headers=bearer(tokens[role]))
            assert ran.status_code == 200, ran.text
        admin_page = http.get(
            "/api/v1/datasets/lake.crm.customers", headers=bearer(tokens["admin"])
        )
        node = admin_page.json()["nodeId"]

        def consumers(role: str) -> set[str]:
            graph = http.get(
                "/api/v1/lineage", params={"nodeId": node}, headers=bearer(tokens[role])
            ).json()
            prefix = f"dataset:{CONSUMER_NAMESPACE}:"
            return {n["id"][len(prefix) :] for n in graph["graph"] if n["id"].startswith(prefix)}

        assert consumers("admin") == {"root", "analyst@example.com"}
        assert consumers("analyst") == {"analyst@example.com"}
        assert consumers("outsider") == set()
        events = {
            role: http.get("/api/v1/events/lineage", headers=bearer(tokens[role])).json()
            for role in ("admin", "analyst", "masked")
        }
        assert events["admin"]["totalCount"] > events["analyst"]["totalCount"] == 1
        assert events["analyst"]["events"][0]["job"]["name"] == "analyst@example.com"
        assert events["masked"] == {"totalCount": 0, "events": []}


def test_live_audit_csv_is_safe_to_open(server: Server, steward: Steward) -> None:
    tokens = govern(steward)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        refused = http.post(
            "/api/v1/query",
            json={"sql": "SELECT * FROM lake.crm.customers"},
            headers=bearer(tokens["outsider"]),
        )
        assert refused.status_code == 403
        answer = http.get(
            "/api/v1/audit/reports/denied",
            params={"format": "csv"},
            headers=bearer(tokens["admin"]),
        )
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.text, newline="")))
    assert [r["user"] for r in rows] == ["outsider@example.com"]
    assert all(not c.startswith(("=", "+", "-", "@")) for r in rows for c in r.values() if c)
