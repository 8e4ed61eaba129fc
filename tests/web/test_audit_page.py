"""The audit dashboard (`/audit`) in Debian's Chromium against a live `steward serve`: the
figures match the records governed queries wrote (masked, filtered, denied), the
filters narrow them, the CSV holds the filtered records, the chain's status turns
broken when a record is tampered with, and a non-admin is refused."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.audit.log import record
from steward.audit.models import Resource
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.config import Settings
from steward.identity.models import Principal
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from tests.e2e.conftest import _stop
from tests.query.conftest import make_lake
from tests.web.conftest import Shop, screenshot, sign_in, start_server

pytestmark = pytest.mark.timeout(300)

CUSTOMERS = "lake.crm.customers"
ORDERS = "lake.crm.orders"
# Analysts read the lake with emails masked, and only the orders above 10.
POLICY = """
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.*"]
masks:
  - columns: ["tag:pii.email"]
    mask: email
row_filters:
  - table: lake.crm.orders
    roles: [analyst]
    where: "amount > 10"
"""
MASKED_SQL = f"SELECT id, email FROM {CUSTOMERS}"
FILTERED_SQL = f"SELECT order_id, amount FROM {ORDERS}"
DENIED_SQL = f"SELECT order_id FROM {ORDERS}"


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[tuple[Shop, str]]:
    """The embedded lake under POLICY and a live server, with governed queries by ana
    (3 masked, 2 filtered) and by mallory, whom the policy grants nothing (1 denied)."""
    home = tmp_path / "home"
    home.mkdir()
    steward = Steward(Settings(home=home))
    try:
        steward.upgrade()
        make_lake(steward)
        admin = Principal(user="admin", is_admin=True)
        tag = DatasetEdit(columns={"email": ColumnEdit(addTags=["pii.email"])})
        edit_dataset(steward.store, CUSTOMERS, tag, admin)
        apply(steward.store, POLICY, actor=None)
        tokens = {
            "admin": create_token(steward.store, user="admin", is_admin=True).secret,
            "ana": create_token(steward.store, user="ana", groups=["analysts"]).secret,
            "mallory": create_token(steward.store, user="mallory", groups=["outsiders"]).secret,
        }
    finally:
        steward.close()
    url, process, env = start_server(home)
    try:
        shop = Shop(url, home, env, tokens["admin"], tokens["ana"], tokens["ana"])
        for token, sql, times, status in (
            (tokens["ana"], MASKED_SQL, 3, 200),
            (tokens["ana"], FILTERED_SQL, 2, 200),
            (tokens["mallory"], DENIED_SQL, 1, 403),
        ):
            with _client(shop.url, token) as http:
                for _ in range(times):
                    answer = http.post("/api/v1/query", json={"sql": sql})
                    assert answer.status_code == status, answer.text
        yield shop, tokens["mallory"]
    finally:
        _stop(process)


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})


def _query_records(shop: Shop, **where: str) -> list[dict[str, Any]]:
    """The `query` records of the log as the JSON API lists them."""
    with _client(shop.url, shop.admin) as http:
        answer = http.get("/api/v1/audit", params={"action": "query", "limit": 1000, **where})
        assert answer.status_code == 200, answer.text
        records: list[dict[str, Any]] = answer.json()["records"]
        return records


def _cells(page: Any, test_id: str) -> list[list[str]]:
    rows = page.get_by_test_id(test_id).locator("tbody tr")
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()] for row in rows.all()
    ]


def test_admin_reads_the_dashboard_filters_it_downloads_csv_and_sees_tampering(
    audited: tuple[Shop, str], page: Any
) -> None:
    from playwright.sync_api import expect

    shop, _ = audited
    records = _query_records(shop)
    by_decision: dict[str, int] = {}
    for r in records:
        by_decision[r["decision"]] = by_decision.get(r["decision"], 0) + 1
    # What the queries did, as the log has it: the dashboard must show these numbers.
    assert by_decision == {"masked": 3, "filtered": 2, "denied": 1}
    today = datetime.now(UTC).date().isoformat()

    sign_in(page, shop.url, shop.admin, "/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit")
    expect(page.get_by_test_id("verify-status")).to_contain_text("Chain OK")
    expect(page.get_by_test_id("total-queries")).to_have_text(str(len(records)))
    expect(page.get_by_test_id("total-masked")).to_have_text("3")
    expect(page.get_by_test_id("total-filtered")).to_have_text("2")
    expect(page.get_by_test_id("total-denied")).to_have_text("1")
    # The chart: one bar a user for today, each with its number; the table says the same.
    chart = page.get_by_test_id("chart")
    expect(chart.locator("rect[data-label]")).to_have_count(2)
    labels = chart.locator("rect[data-label]").evaluate_all(
        "rects => rects.map(r => r.dataset.label)"
    )
    assert sorted(labels) == [f"{today}: ana, 5 queries", f"{today}: mallory, 1 queries"]
    assert _cells(page, "daily") == [[today, "ana", "5", "0"], [today, "mallory", "1", "1"]]
    # PII: ana's three queries read the customers' email (tagged pii.email), masked.
    assert _cells(page, "pii")[0][:4] == ["ana", f"{CUSTOMERS}.email", "3", "3"]
    assert len(_cells(page, "pii")) == 1
    # Denials: who, what, and the rule (or reason) that refused it.
    denials = _cells(page, "denials")
    assert len(denials) == 1
    assert denials[0][2] == "mallory"
    assert ORDERS in denials[0][3]
    # Top datasets: the customers table (3 queries), then the orders (2 + 1 denied).
    assert [row[:4] for row in _cells(page, "top")] == [
        [CUSTOMERS, "3", "1", "0"],
        [ORDERS, "3", "2", "1"],
    ]
    screenshot(page, "audit")

    # Filter by user: mallory's only.
    page.get_by_label("User", exact=True).fill("mallory")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("total-queries")).to_have_text("1")
    assert _cells(page, "daily") == [[today, "mallory", "1", "1"]]
    assert _cells(page, "pii") == [["none"]]

    # Filter by dataset: everyone's queries of the orders table.
    page.get_by_label("User", exact=True).fill("")
    page.get_by_label("Dataset", exact=True).fill(ORDERS)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("total-queries")).to_have_text(
        str(len(_query_records(shop, dataset=ORDERS)))
    )
    expect(page.get_by_test_id("total-queries")).to_have_text("3")
    screenshot(page, "audit-filtered")

    # The CSV: the records the filter matches (every action), oldest first.
    with page.expect_download() as download:
        page.get_by_test_id("csv").click()
    text = Path(download.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    with _client(shop.url, shop.admin) as http:
        listed = http.get("/api/v1/audit", params={"dataset": ORDERS, "limit": 1000}).json()
    assert [int(r["seq"]) for r in rows] == sorted(r["seq"] for r in listed["records"])
    queries = [r for r in rows if r["action"] == "query"]
    assert sorted((r["user"], r["decision"]) for r in queries) == [
        ("ana", "filtered"),
        ("ana", "filtered"),
        ("mallory", "denied"),
    ]
    assert all(r["dataset"] == ORDERS for r in queries)

    # Someone edits a record in the database: the chain is broken at that record.
    tampered = min(r["seq"] for r in records if r["decision"] == "masked")
    with sqlite3.connect(shop.home / "steward.db") as db:
        db.execute("UPDATE audit_records SET actor_user = 'eve' WHERE seq = ?", (tampered,))
    page.goto(f"{shop.url}/audit")
    status = page.get_by_test_id("verify-status")
    expect(status).to_contain_text(f"Chain broken at seq {tampered}")
    expect(status).to_contain_text("modified")
    screenshot(page, "audit-broken")


def test_a_non_admin_is_refused_the_dashboard_and_its_csv(
    audited: tuple[Shop, str], page: Any
) -> None:
    from playwright.sync_api import expect

    shop, _ = audited
    sign_in(page, shop.url, shop.analyst)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")
    ).to_have_count(0)
    answer = page.goto(f"{shop.url}/audit")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not allowed")
    expect(page.get_by_test_id("error-message")).to_contain_text("is for admins")
    screenshot(page, "audit-refused")
    refused = page.request.get(f"{shop.url}/audit/records.csv")
    assert refused.status == 403
    assert "seq," not in refused.text()


def test_bad_filters_get_a_400_naming_the_field(audited: tuple[Shop, str], page: Any) -> None:
    shop, _ = audited
    sign_in(page, shop.url, shop.admin)
    answer = page.goto(f"{shop.url}/audit?since=yesterday")
    assert answer is not None
    assert answer.status == 400
    assert "since" in page.get_by_test_id("error-message").inner_text()
    answer = page.goto(f"{shop.url}/audit?since=2026-05-02&until=2026-05-01")
    assert answer is not None
    assert answer.status == 400
    assert "until" in page.get_by_test_id("error-message").inner_text()


# -- over HTTP, in process, on SQLite and PostgreSQL ----------------------------------


def _signed_in(steward: Steward, user: str, *, admin: bool) -> TestClient:
    token = create_token(steward.store, user=user, is_admin=admin).secret
    http = TestClient(create_app(steward))
    http.get("/login")
    answer = http.post(
        "/login",
        data={"token": token, "csrf_token": http.cookies["steward_login_csrf"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return http


def _log(steward: Steward) -> None:
    """Queries by two users, one of them named like a spreadsheet formula."""
    for user, decision in (("ana", "masked"), ("ana", "allowed"), ("=cmd()", "denied")):
        with steward.store.write() as conn:
            record(
                conn,
                actor=Principal(user),
                action="query",
                resource=Resource(CUSTOMERS, ("email",)),
                decision=decision,
                details={"reason": "no grant"} if decision == "denied" else {},
            )


def test_the_page_and_its_csv_over_http(steward: Steward, monkeypatch: pytest.MonkeyPatch) -> None:
    _log(steward)
    with _signed_in(steward, "admin", admin=True) as http:
        page = http.get("/audit")
        assert page.status_code == 200
        assert 'data-testid="total-queries">3<' in page.text
        assert "Chain OK" in page.text
        # Past VERIFY_ON_OPEN records the page offers to verify instead of walking the chain.
        monkeypatch.setattr("steward.web.audit.VERIFY_ON_OPEN", 2)
        page = http.get("/audit", params={"user": "ana"})
        assert "Chain OK" not in page.text
        assert "verify it now" in page.text
        asked = http.get("/audit", params={"user": "ana", "verify": "yes"})
        assert "Chain OK" in asked.text
        assert 'data-testid="total-queries">2<' in asked.text
        # The CSV: an attachment, every matching record, cells safe in a spreadsheet.
        answer = http.get("/audit/records.csv")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [(r["user"], r["decision"]) for r in rows if r["action"] == "query"] == [
            ("ana", "masked"),
            ("ana", "allowed"),
            ("'=cmd()", "denied"),
        ]
        only_ana = http.get("/audit/records.csv", params={"user": "ana"}).text
        assert len(list(csv.DictReader(io.StringIO(only_ana)))) == 2
        assert http.get("/audit", params={"verify": "no"}).status_code == 400
    with _signed_in(steward, "ana", admin=False) as http:
        assert http.get("/audit").status_code == 403
        assert http.get("/audit/records.csv").status_code == 403
