"""A real Airflow 3 DAG run (`airflow dags test`) reports its lineage to a live Steward.

Airflow, its OpenLineage, PostgreSQL and common-sql providers run from their own virtual
environment (`tests/airflow_env.py`, the `airflow_bin` fixture), configured only through the
two environment variables docs/airflow.md names. The DAG (`airflow_dags/shop_revenue.py`)
loads a CSV into a PostgreSQL table (lineage declared as Assets) and sums it into another
with SQL (lineage parsed by the provider), on the suite's PostgreSQL server.

With `STEWARD_TEST_AIRFLOW_EVENTS=path`, the test also saves the events Steward received, oldest
first: `tests/lineage/fixtures/airflow3_events.json` is one such run, for tests that need a real
producer's events without running Airflow.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.conftest import STEWARD, Server

DAGS = Path(__file__).parent / "airflow_dags"
NAMESPACE = "shop-airflow"
DAG_ID = "shop_revenue"
ORDERS = [
    ("1", "2026-11-01", "10.50"),
    ("2", "2026-11-01", "4.25"),
    ("3", "2026-11-02", "7.00"),
]


@dataclass
class Shop:
    """The tables the DAG reads and writes, in a fresh schema of the suite's PostgreSQL."""

    engine: sa.Engine
    schema: str
    connection_uri: str  # what Airflow's AIRFLOW_CONN_SHOP holds
    namespace: str  # the OpenLineage namespace of the database: postgres://host:port
    database: str


@pytest.fixture
def shop(postgres_template: str) -> Iterator[Shop]:
    admin_url = sa.make_url(postgres_template.split("|")[0])
    engine = sa.create_engine(admin_url)
    schema = f"shop_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(
            sa.text(f"CREATE TABLE {schema}.orders (id int, order_date date, amount numeric)")
        )
        conn.execute(sa.text(f"CREATE TABLE {schema}.daily_revenue (day date, revenue numeric)"))
    host, port = admin_url.host or "127.0.0.1", admin_url.port or 5432
    yield Shop(
        engine=engine,
        schema=schema,
        connection_uri=admin_url.set(drivername="postgres").render_as_string(hide_password=False),
        namespace=f"postgres://{host}:{port}",
        database=str(admin_url.database),
    )
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _lineage_token(server: Server) -> str:
    """A token that may only send lineage, as an Airflow deployment would hold."""
    created = subprocess.run(
        [*STEWARD, "token", "create", "--user", "airflow", "--scope", "lineage:write"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return created.stdout.strip()


def _run_dag(airflow_bin: Path, server: Server, shop: Shop, tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    shutil.copytree(DAGS, home / "dags")
    orders_csv = tmp_path / "orders.csv"
    with orders_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "order_date", "amount"])
        writer.writerows(ORDERS)
    transport = {
        "type": "http",
        "url": server.url,
        "endpoint": "api/v1/lineage",
        "auth": {"type": "api_key", "apiKey": _lineage_token(server)},
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STEWARD_", "AIRFLOW", "OPENLINEAGE_"))
    }
    env |= {
        "PATH": f"{airflow_bin}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_SHOP": shop.connection_uri,
        # The two settings docs/airflow.md asks for.
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        "SHOP_ORDERS_CSV": str(orders_csv),
        "SHOP_SCHEMA": shop.schema,
        "SHOP_DATABASE_URI": f"{shop.namespace}/{shop.database}",
    }
    for command in (["db", "migrate"], ["dags", "test", DAG_ID]):
        done = subprocess.run(
            [str(airflow_bin / "airflow"), *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _get(server: Server, path: str, **params: Any) -> Any:
    answer = httpx.get(
        f"{server.url}{path}",
        headers={"Authorization": f"Bearer {server.token}"},
        params=params,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.timeout(1200)  # the first run installs Airflow (minutes); later runs reuse it
def test_airflow_dag_run_becomes_lineage_in_steward(
    server: Server, airflow_bin: Path, shop: Shop, tmp_path: Path
) -> None:
    _run_dag(airflow_bin, server, shop, tmp_path)

    with shop.engine.connect() as conn:
        written = conn.execute(
            sa.text(f"SELECT day::text, revenue FROM {shop.schema}.daily_revenue ORDER BY day")
        ).all()
    expected: dict[str, Decimal] = {}
    for _, day, amount in ORDERS:
        expected[day] = expected.get(day, Decimal(0)) + Decimal(amount)
    assert [tuple(row) for row in written] == sorted(expected.items())

    events = _get(server, "/api/v1/events/lineage", limit=100)["events"]
    if os.environ.get("STEWARD_TEST_AIRFLOW_EVENTS"):
        # How tests/lineage/fixtures/airflow3_events.json was made: what Airflow sent, as received.
        saved = json.dumps(events[::-1], indent=2)
        Path(os.environ["STEWARD_TEST_AIRFLOW_EVENTS"]).write_text(saved + "\n")
    by_job: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        assert event["job"]["namespace"] == NAMESPACE
        by_job.setdefault(event["job"]["name"], []).append(event)
    tasks = {f"{DAG_ID}.load_orders", f"{DAG_ID}.daily_revenue"}
    assert tasks | {DAG_ID} <= set(by_job)
    (dag_run,) = {event["run"]["runId"] for event in by_job[DAG_ID]}
    for task in tasks:
        assert {event["eventType"] for event in by_job[task]} == {"START", "COMPLETE"}
        for event in by_job[task]:
            parent = event["run"]["facets"]["parent"]
            assert parent["job"] == {"namespace": NAMESPACE, "name": DAG_ID, "facets": {}}
            assert parent["run"]["runId"] == dag_run

    orders = f"dataset:{shop.namespace}:{shop.database}.{shop.schema}.orders"
    revenue = f"dataset:{shop.namespace}:{shop.database}.{shop.schema}.daily_revenue"
    upstream = _get(server, "/api/v1/lineage", nodeId=revenue, direction="upstream", depth=2)
    nodes = {node["id"]: node for node in upstream["graph"]}
    sql_task = f"job:{NAMESPACE}:{DAG_ID}.daily_revenue"
    assert [edge["origin"] for edge in nodes[revenue]["inEdges"]] == [sql_task]
    assert [edge["origin"] for edge in nodes[sql_task]["inEdges"]] == [orders]
    assert nodes[sql_task]["data"]["latestRun"]["state"] == "COMPLETE"
    load_task = f"job:{NAMESPACE}:{DAG_ID}.load_orders"
    assert [edge["origin"] for edge in nodes[orders]["inEdges"]] == [load_task]
    assert [edge["origin"] for edge in nodes[load_task]["inEdges"]] == [
        f"dataset:file:{tmp_path / 'orders.csv'}"
    ]
