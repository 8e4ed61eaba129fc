"""A catalog worth browsing, a live `steward serve` on it, and Debian's Chromium driven by
Playwright. Screenshots go to `artifacts/screenshots/` (CI keeps that directory)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, OwnerSpec, edit_dataset
from steward.config import Settings
from steward.identity.models import Principal
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from steward.quality.history import record_results
from steward.quality.models import CheckResult
from steward.schema.catalog_sync import sync_source
from tests.e2e.conftest import STEWARD, _free_port, _stop, _wait_healthy
from tests.openlineage_events import PRODUCER, dataset, dbt_test_event, run_event

CHROMIUM = Path("/usr/bin/chromium")
TRINO_EVENT = Path(__file__).parents[1] / "audit" / "fixtures" / "trino_select_masked.json"
SCREENSHOTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
ADMIN = Principal(user="admin", is_admin=True)
CUSTOMERS = "shop.main.customers"
ORDERS = "shop.main.orders"
REPORT = "analytics.customer_orders"
REPORT_NODE = f"dataset:warehouse:{REPORT}"
POLICY = """
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["shop.*"]
masks:
  - columns: ["tag:pii.email"]
    mask: email
"""
# Version 2 adds a role that may describe, not read, the shop's tables.
POLICY_V2 = POLICY.replace(
    "  analyst: {groups: [analysts]}\n",
    "  analyst: {groups: [analysts]}\n  auditor: {groups: [auditors]}\n",
).replace("grants:\n", 'grants:\n  - roles: [auditor]\n    describe: ["shop.*"]\n')


@dataclass
class Shop:
    """A running Steward with a small shop catalog and a token per kind of user."""

    url: str
    home: Path
    env: dict[str, str]
    admin: str  # an admin token
    analyst: str  # a member of `analysts`: emails are masked for them
    owner: str  # a non-admin who owns the orders table


def _catalog(home: Path) -> None:
    """Two tables in a DuckDB file, synced, tagged, owned, checked, under a policy."""
    duck = home / "shop.duckdb"
    with duckdb.connect(str(duck)) as conn:
        conn.execute(
            "CREATE TABLE customers (id INTEGER, email VARCHAR, region VARCHAR,"
            " address STRUCT(street VARCHAR, city VARCHAR))"
        )
        conn.execute("COMMENT ON TABLE customers IS 'Everyone who ever bought something'")
        conn.execute("CREATE TABLE orders (id INTEGER, customer_id INTEGER, total DECIMAL(10,2))")
        conn.execute("COMMENT ON TABLE orders IS 'Orders as placed in the web shop'")
    (home / "steward.toml").write_text(
        f'[sources.shop]\ntype = "sqlalchemy"\nurl = "duckdb:///{duck}"\n'
    )
    sources = {"shop": {"type": "sqlalchemy", "url": f"duckdb:///{duck}"}}
    steward = Steward(Settings(home=home, sources=sources))
    try:
        steward.upgrade()
        source = steward.source("shop")
        try:
            sync_source(steward.store, source, actor=ADMIN)
        finally:
            source.close()
        edit_dataset(
            steward.store,
            CUSTOMERS,
            DatasetEdit(addTags=["crm"], columns={"email": ColumnEdit(addTags=["pii.email"])}),
            ADMIN,
        )
        edit_dataset(
            steward.store,
            ORDERS,
            DatasetEdit(addTags=["sales"], addOwners=[OwnerSpec(name="olga")]),
            ADMIN,
        )
        apply(steward.store, POLICY, actor=None)
        apply(steward.store, POLICY_V2, actor=None)
        # Three runs of two checks: one steady, one passing and failing by turns.
        for status in ("pass", "fail", "pass", "fail"):
            record_results(
                steward.store,
                [
                    _check("orders_not_empty", ORDERS, None, "pass"),
                    _check("total_positive", ORDERS, "total", status),
                ],
            )
    finally:
        steward.close()


def _lineage(url: str, token: str, duck: Path) -> None:
    """A job joining both tables into a report whose schema has nested fields."""
    shop = f"duckdb://{duck}"  # the namespace the catalog gave the source (node ids)
    nested = {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
        "fields": [
            {"name": "customer_id", "type": "INTEGER"},
            {
                "name": "shipping",
                "type": "STRUCT",
                "description": "Where the orders went",
                "fields": [
                    {"name": "city", "type": "VARCHAR"},
                    {
                        "name": "geo",
                        "type": "STRUCT",
                        "fields": [
                            {"name": "lat", "type": "DOUBLE"},
                            {"name": "lon", "type": "DOUBLE"},
                        ],
                    },
                ],
            },
        ],
    }
    event = run_event(
        "build_customer_orders",
        inputs=[dataset(shop, CUSTOMERS), dataset(shop, ORDERS)],
        outputs=[dataset("warehouse", REPORT, schema=nested)],
    )
    # The next day the report gains a column: its schema's version 2.
    later = json.loads(json.dumps(nested))
    later["fields"].append({"name": "order_count", "type": "BIGINT"})
    next_day = run_event(
        "build_customer_orders",
        inputs=[dataset(shop, CUSTOMERS), dataset(shop, ORDERS)],
        outputs=[dataset("warehouse", REPORT, schema=later)],
        event_time="2024-05-02T10:00:00.000Z",
    )
    # dbt-ol reports the tests dbt ran on the orders table.
    tests = dbt_test_event(
        shop,
        ORDERS,
        [
            {"assertion": "not_null", "success": True, "column": "id"},
            {"assertion": "unique", "success": False, "column": "id"},
        ],
        job="shop.orders.build.test",
    )
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        for sent in (event, next_day, tests):
            answer = http.post("/api/v1/lineage", json=sent)
            assert answer.status_code == 201, answer.text
        deprecated = http.post(
            "/api/v1/schema/deprecations",
            json={
                "target": f"{CUSTOMERS}.region",
                "sunset": "2027-01-01",
                "replacement": "country",
            },
        )
        assert deprecated.status_code in (200, 201), deprecated.text


def _queries(url: str, token: str, times: int) -> None:
    """Ana's queries of both tables, reported by Trino's event listener (its fixture's
    query, renamed to the shop's tables) and recorded in the audit log."""
    text = (TRINO_EVENT).read_text()
    for old, new in (('"lake"', '"shop"'), ('"crm"', '"main"'), ('"sales"', '"main"')):
        text = text.replace(old, new)
    text = text.replace("lake.crm.", "shop.main.").replace("lake.sales.", "shop.main.")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        for number in range(times):
            payload = json.loads(text.replace("00042", f"0004{number + 3}"))
            sent = http.post("/api/v1/audit/trino", json=payload)
            assert sent.status_code == 201, sent.text


def _check(name: str, dataset: str, column: str | None, status: Any) -> CheckResult:
    return CheckResult(
        name=name,
        dataset=dataset,
        column=column,
        kind="row_count" if column is None else "range",
        severity="error",
        status=status,
        failures=0 if status == "pass" else 3,
        observed=None,
        threshold="",
        message="" if status == "pass" else "3 rows out of range",
        how="aggregate scan",
    )


def _tokens(home: Path) -> dict[str, str]:
    steward = Steward(Settings(home=home))
    try:
        return {
            "admin": create_token(steward.store, user="admin", is_admin=True).secret,
            "analyst": create_token(steward.store, user="ana", groups=["analysts"]).secret,
            "owner": create_token(steward.store, user="olga", groups=["analysts"]).secret,
        }
    finally:
        steward.close()


def start_server(
    home: Path, extra_env: dict[str, str] | None = None, *, port: int | None = None
) -> tuple[str, Any, dict[str, str]]:
    """`steward serve` on a free loopback port, with only this home's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(home)
    env.update(extra_env or {})
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    # Its output goes to a file: a pipe nobody reads would stall the server once full.
    with (home / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [*STEWARD, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    _wait_healthy(url, process, home / "serve.log")
    return url, process, env


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    home = tmp_path / "home"
    home.mkdir()
    _catalog(home)
    tokens = _tokens(home)
    url, process, env = start_server(home)
    try:
        _lineage(url, tokens["admin"], home / "shop.duckdb")
        _queries(url, tokens["admin"], 2)
        yield Shop(url, home, env, tokens["admin"], tokens["analyst"], tokens["owner"])
    finally:
        _stop(process)


def _chromium() -> Path:
    """Debian's Chromium, installed here if missing and possible; else the test is skipped."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and apt-get cannot run here (not root)")
    done = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0 or not CHROMIUM.exists():
        pytest.skip(f"apt-get install chromium failed: {done.stderr[-500:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium driven by Playwright; never a browser Playwright downloads."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(executable), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save what the page shows now under artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, url: str, token: str, next_path: str = "/") -> None:
    """Sign in through the login form as a person would."""
    page.goto(f"{url}{next_path}")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in with token").click()
    page.wait_for_load_state()


def api(shop: Shop, token: str) -> httpx.Client:
    return httpx.Client(base_url=shop.url, headers={"Authorization": f"Bearer {token}"})
