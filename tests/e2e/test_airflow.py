"""A real Airflow 3 DAG run (`airflow dags test`) reports its lineage to a live Steward.

Airflow, its OpenLineage, PostgreSQL and common-sql providers run from their own virtual
environment (`tests/airflow_env.py`, the `airflow_bin` fixture), and report to Steward through
nothing but the two environment variables docs/airflow.md names. The DAG
(`airflow_dags/shop_revenue.py`) loads a CSV into a PostgreSQL table (lineage declared as
Assets) and sums it into another with SQL (lineage parsed by the provider), on the suite's
PostgreSQL server.

With `STEWARD_TEST_AIRFLOW_EVENTS=path` (and `-k "lineage_in_steward and sqlite"`), the test also
saves the events Steward received, oldest first: `tests/lineage/fixtures/airflow3_events.json` is
one such run, for tests that need a real producer's events without running Airflow.
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
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
import sqlglot
from sqlglot import exp

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


def _run_dag(
    airflow_bin: Path,
    server: Server,
    shop: Shop,
    tmp_path: Path,
    *,
    dag_id: str,
    orders: list[tuple[str, str, str]],
) -> subprocess.CompletedProcess[str]:
    """`airflow dags test DAG_ID` on a fresh Airflow home, reporting to `server`."""
    home = tmp_path / "airflow"
    shutil.copytree(DAGS, home / "dags")
    orders_csv = tmp_path / "orders.csv"
    with orders_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "order_date", "amount"])
        writer.writerows(orders)
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

    def airflow(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(airflow_bin / "airflow"), *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    migrated = airflow("db", "migrate")
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return airflow("dags", "test", dag_id)


def _get(server: Server, path: str, **params: Any) -> Any:
    answer = httpx.get(
        f"{server.url}{path}",
        headers={"Authorization": f"Bearer {server.token}"},
        # Wait for the normaliser to build every event acknowledged so far.
        params={**params, "consistent": "true"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _dataset(shop: Shop, table: str) -> dict[str, str]:
    """A PostgreSQL table as OpenLineage names it: postgres://host:port, database.schema.table."""
    return {"namespace": shop.namespace, "name": f"{shop.database}.{shop.schema}.{table}"}


def _node(dataset: dict[str, str]) -> str:
    return f"dataset:{dataset['namespace']}:{dataset['name']}"


def _job_path(name: str) -> str:
    return f"/api/v1/jobs/{quote(NAMESPACE, safe='')}/{quote(name, safe='')}"


@pytest.mark.timeout(1200)  # the first run installs Airflow (minutes); later runs reuse it
def test_airflow_dag_run_becomes_lineage_in_steward(
    server: Server, airflow_bin: Path, shop: Shop, tmp_path: Path
) -> None:
    ran = _run_dag(airflow_bin, server, shop, tmp_path, dag_id=DAG_ID, orders=ORDERS)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]

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
    assert {event["job"]["namespace"] for event in events} == {NAMESPACE}
    (dag_run,) = {event["run"]["runId"] for event in events if event["job"]["name"] == DAG_ID}

    csv_file = {"namespace": "file", "name": str(tmp_path / "orders.csv")}
    orders, revenue = _dataset(shop, "orders"), _dataset(shop, "daily_revenue")
    load_task, sql_task = f"{DAG_ID}.load_orders", f"{DAG_ID}.daily_revenue"
    dag = {"namespace": NAMESPACE, "name": DAG_ID}

    # The DAG run and its task runs, as Airflow itself lists the tasks.
    run = _get(server, f"/api/v1/runs/{dag_run}")
    assert run["state"] == "COMPLETE"
    assert run["job"]["name"] == DAG_ID
    assert run["job"]["type"] == "DAG"
    airflow_tasks = run["facets"]["airflowState"]["tasksState"]
    assert airflow_tasks == {"load_orders": "success", "daily_revenue": "success"}
    task_runs = {child["job"]["name"]: child for child in run["children"]}
    assert set(task_runs) == {f"{DAG_ID}.{task}" for task in airflow_tasks}
    for child in task_runs.values():
        assert child["state"] == "COMPLETE"
        assert child["parentRunId"] == dag_run
    sql_run = _get(server, f"/api/v1/runs/{task_runs[sql_task]['runId']}")
    assert sql_run["parent"]["runId"] == dag_run
    assert sql_run["parent"]["job"] == dag
    assert [state["state"] for state in sql_run["states"]] == ["START", "COMPLETE"]

    # The DAG's graph: its tasks with what each read and wrote, and the DAG's own inputs
    # (read from outside it) and outputs.
    graph = _get(server, f"{_job_path(DAG_ID)}/graph")
    assert graph["job"]["name"] == DAG_ID
    tasks = {task["name"]: task for task in graph["tasks"] if task["parent"] == dag}
    assert set(tasks) == set(task_runs)
    assert tasks[load_task]["inputs"] == [csv_file]
    assert tasks[load_task]["outputs"] == [orders]
    assert tasks[sql_task]["inputs"] == [orders]
    assert tasks[sql_task]["outputs"] == [revenue]
    for name, task in tasks.items():
        assert task["latestRun"] == {
            "runId": task_runs[name]["runId"],
            "state": "COMPLETE",
            "updatedAt": task_runs[name]["updatedAt"],
        }
    assert graph["inputs"] == [csv_file]
    assert sorted(graph["outputs"], key=lambda d: d["name"]) == [revenue, orders]
    assert {(edge["origin"], edge["destination"]) for edge in graph["edges"]} >= {
        (_node(csv_file), f"job:{NAMESPACE}:{load_task}"),
        (f"job:{NAMESPACE}:{load_task}", _node(orders)),
        (_node(orders), f"job:{NAMESPACE}:{sql_task}"),
        (f"job:{NAMESPACE}:{sql_task}", _node(revenue)),
    }

    # The SQL task's job: the query it ran, and Airflow's facets on its latest run.
    job = _get(server, _job_path(sql_task))
    assert job["parent"] == dag
    assert job["facets"]["jobType"]["integration"] == "AIRFLOW"
    assert job["facets"]["jobType"]["jobType"] == "TASK"
    query = sqlglot.parse_one(job["facets"]["sql"]["query"], dialect="postgres")
    assert isinstance(query, exp.Insert)
    assert {f"{t.db}.{t.name}" for t in query.find_all(exp.Table)} == {
        f"{shop.schema}.daily_revenue",
        f"{shop.schema}.orders",
    }
    operator = job["latestRun"]["facets"]["airflow"]["task"]["operator_class"]
    assert operator == "SQLExecuteQueryOperator"

    # Lineage from the output table reaches the input table through the SQL task, and on
    # through the Python task to the CSV.
    upstream = _get(server, "/api/v1/lineage", nodeId=_node(revenue), direction="upstream")
    nodes = {node["id"]: node for node in upstream["graph"]}

    def origins(node: str) -> list[str]:
        return [edge["origin"] for edge in nodes[node]["inEdges"]]

    assert origins(_node(revenue)) == [f"job:{NAMESPACE}:{sql_task}"]
    assert origins(f"job:{NAMESPACE}:{sql_task}") == [_node(orders)]
    assert origins(_node(orders)) == [f"job:{NAMESPACE}:{load_task}"]
    assert origins(f"job:{NAMESPACE}:{load_task}") == [_node(csv_file)]
    # The table's columns as PostgreSQL has them, from the schema facet the provider read.
    with shop.engine.connect() as conn:
        columns = conn.execute(
            sa.text(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = :schema AND table_name = 'daily_revenue'"
                " ORDER BY ordinal_position"
            ),
            {"schema": shop.schema},
        ).all()
    fields = nodes[_node(revenue)]["data"]["fields"]
    assert [(field["name"], field["type"]) for field in fields] == [tuple(c) for c in columns]


# One store is enough here: what a failure adds is a run state and a facet, which the ingest
# tests cover on both stores; a second Airflow run would add half a minute.
@pytest.mark.parametrize("database_url", [None])
@pytest.mark.timeout(1200)
def test_failed_airflow_task_shows_as_failed_with_its_error(
    server: Server, airflow_bin: Path, shop: Shop, tmp_path: Path
) -> None:
    ran = _run_dag(airflow_bin, server, shop, tmp_path, dag_id="shop_checks", orders=[])
    assert ran.returncode != 0
    assert "has no orders" in ran.stdout + ran.stderr

    dag = _get(server, _job_path("shop_checks"))
    assert dag["latestRun"]["state"] == "FAIL"
    run = _get(server, f"/api/v1/runs/{dag['latestRun']['id']}")
    assert run["facets"]["airflowState"]["tasksState"] == {"check_orders": "failed"}
    (child,) = run["children"]
    assert child["job"]["name"] == "shop_checks.check_orders"
    assert child["state"] == "FAIL"
    task_run = _get(server, f"/api/v1/runs/{child['runId']}")
    error = task_run["facets"]["errorMessage"]
    assert error["message"] == f"{tmp_path / 'orders.csv'} has no orders"
    assert "ValueError" in error["stackTrace"]
