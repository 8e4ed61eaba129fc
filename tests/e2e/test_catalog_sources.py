"""`steward catalog sync` over four real sources configured in `steward.toml`.

An Iceberg SQL catalog made with pyiceberg, a PostgreSQL database, a DuckDB file and a
dbt project built with dbt-duckdb (`dbt build` here) are synced through the CLI; the
catalog then holds their tables, columns, descriptions, owners, tests and lineage.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from tests.cli_run import steward_cli
from tests.postgres import find_server

STEWARD = [sys.executable, "-m", "steward.cli"]
DBT_PROJECT = Path(__file__).parents[1] / "connectors" / "dbt_project"


def steward(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(home, *args, timeout=300)


def show(home: Path, dataset: str) -> dict[str, Any]:
    shown = steward(home, "catalog", "show", dataset, "--json")
    assert shown.returncode == 0, shown.stderr
    page: dict[str, Any] = json.loads(shown.stdout)
    return page


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url, server, why = find_server()
    if url is None:
        pytest.skip(why)
    name = f"steward_source_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA billing"))
        conn.execute(sa.text("CREATE TABLE billing.invoices (id int PRIMARY KEY, total numeric)"))
        conn.execute(sa.text("COMMENT ON TABLE billing.invoices IS 'Invoices sent'"))
        conn.execute(
            sa.text(
                "CREATE VIEW billing.big_invoices AS"
                " SELECT id FROM billing.invoices WHERE total > 100"
            )
        )
    engine.dispose()
    yield database
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if server is not None:
        server.stop()


def test_four_sources_sync_into_one_catalog(
    tmp_path: Path, dbt_bin: Path, postgres_url: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # 1. Iceberg SQL catalog, made with pyiceberg.
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    iceberg = {
        "type": "sql",
        "uri": f"sqlite:///{tmp_path / 'ice.db'}",
        "warehouse": warehouse.as_uri(),
    }
    catalog = SqlCatalog("ice", **{k: v for k, v in iceberg.items() if k != "type"})
    catalog.create_namespace("events")
    catalog.create_table(
        "events.clicks",
        Schema(
            NestedField(1, "user_id", LongType(), doc="Who clicked"),
            NestedField(2, "url", StringType()),
        ),
        properties={"comment": "Every click", "owner": "web-team"},
    )
    catalog.close()
    # 2. DuckDB file.
    duck = tmp_path / "ops.duckdb"
    with duckdb.connect(str(duck)) as conn:
        conn.execute("CREATE TABLE tickets (id INTEGER, title VARCHAR)")
        conn.execute("COMMENT ON TABLE tickets IS 'Support tickets'")
    # 3. dbt project, built for real.
    project = tmp_path / "shop"
    shutil.copytree(DBT_PROJECT, project)
    env = {
        "PATH": f"{dbt_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "DBT_DUCKDB_PATH": str(tmp_path / "shop.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for args in (["build"], ["docs", "generate", "--no-compile"]):
        ran = subprocess.run(
            [
                str(dbt_bin / "dbt"),
                *args,
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ran.returncode == 0, ran.stdout[-3000:]
    (home / "steward.toml").write_text(
        f"""
[sources.ice]
type = "iceberg"

[sources.ice.properties]
type = "sql"
uri = "{iceberg["uri"]}"
warehouse = "{iceberg["warehouse"]}"

[sources.billing]
type = "sqlalchemy"
url = "{postgres_url}"

[sources.ops]
type = "sqlalchemy"
url = "duckdb:///{duck}"

[sources.shop]
type = "dbt"
target = "{project / "target"}"
namespace = "duckdb://{tmp_path / "shop.duckdb"}"
"""
    )
    synced = steward(home, "catalog", "sync")
    assert synced.returncode == 0, synced.stderr
    for name in ("ice", "billing", "ops", "shop", "lake"):
        assert f"{name}: " in synced.stderr

    clicks = show(home, "ice.events.clicks")
    assert clicks["description"]["text"] == "Every click"
    assert [c["name"] for c in clicks["columns"]] == ["user_id", "url"]
    assert clicks["owners"][0]["name"] == "web-team"

    invoices = show(home, "billing.billing.invoices")
    assert invoices["description"]["text"] == "Invoices sent"
    assert invoices["namespace"].startswith("postgres://")
    big = show(home, "billing.billing.big_invoices")
    assert big["kind"] == "view"
    assert [n["name"] for n in big["upstream"]] == ["billing.billing.invoices"]

    tickets = show(home, "ops.main.tickets")
    assert tickets["description"]["text"] == "Support tickets"

    stg = show(home, "shop.main.stg_orders")
    assert stg["kind"] == "model"
    assert {o["name"] for o in stg["owners"]} == {"alice@example.com", "bob@example.com"}
    order_id = next(c for c in stg["columns"] if c["name"] == "order_id")
    assert {(t["name"], t["status"]) for t in order_id["tests"]} == {
        ("unique", "pass"),
        ("not_null", "pass"),
    }
    revenue = show(home, "shop.main.customer_revenue")
    assert revenue["description"]["text"] == "Revenue per customer."
    assert any(o["kind"] == "group" for o in revenue["owners"])
    assert "shop.exposures.revenue_dashboard" in [n["name"] for n in revenue["downstream"]]
    assert [n["name"] for n in revenue["upstream"]] == ["shop.main.orders_enriched"]

    again = steward(home, "catalog", "sync")
    assert again.returncode == 0
    assert "0 new, 0 changed, 0 gone" in again.stderr

    found = steward(home, "search", "customer_revenue", "--json")
    assert json.loads(found.stdout)[0]["name"] == "shop.main.customer_revenue"
