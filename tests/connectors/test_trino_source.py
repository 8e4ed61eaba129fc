"""A `trino://` catalog source synced through the real `trino` client and SQLAlchemy dialect.

No Trino server installs from PyPI, so the coordinator is `tests/connectors/fake_trino.py`:
Trino's client REST protocol over an in-memory DuckDB playing the catalog `iceberg`. What
runs for real is everything on Steward's side of the wire: the `trino` client (HTTP,
paging, `EXECUTE IMMEDIATE` parameters, error objects), its SQLAlchemy dialect's
reflection queries, Steward's source, sync, lineage engine, API and CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.config import Settings
from tests.cli_run import steward_cli
from tests.connectors.fake_trino import FakeTrino

LAKE = [
    "CREATE SCHEMA iceberg.sales",
    "CREATE SCHEMA iceberg.hr",
    "CREATE TABLE iceberg.sales.customers (id bigint, name varchar, email varchar)",
    "CREATE TABLE iceberg.sales.orders (id bigint, customer_id bigint, amount decimal(10,2),"
    " placed_at timestamp(6), tags array(varchar))",
    "CREATE TABLE iceberg.sales.daily_revenue (day date, revenue decimal(38,2))",
    "CREATE TABLE iceberg.hr.salaries (id bigint, pay decimal(10,2))",
    "COMMENT ON TABLE iceberg.sales.orders IS 'Every order placed'",
    "COMMENT ON COLUMN iceberg.sales.orders.amount IS 'In euros'",
    "INSERT INTO iceberg.sales.orders VALUES"
    " (1, 1, 10.50, TIMESTAMP '2024-05-01 10:00:00', ARRAY['web']),"
    " (2, 2, 7.25, TIMESTAMP '2024-05-01 11:30:00', ARRAY[])",
    "INSERT INTO iceberg.sales.customers VALUES (1, 'Ann', 'ann@example.com'),"
    " (2, 'Bob', 'bob@example.org')",
    # Trino's SQL: date_trunc, approx_distinct, a CTE and a join over an unqualified name.
    "CREATE VIEW iceberg.sales.revenue AS WITH paid AS (SELECT customer_id, amount, placed_at"
    " FROM iceberg.sales.orders WHERE amount > 0) SELECT c.name AS customer,"
    " date_trunc('day', p.placed_at) AS day, sum(p.amount) AS total,"
    " approx_distinct(c.email) AS emails"
    " FROM paid p JOIN customers c ON c.id = p.customer_id GROUP BY 1, 2",
]


@pytest.fixture
def trino() -> Iterator[FakeTrino]:
    """The coordinator: catalog `iceberg` with schemas `sales` and `hr`, `hr` denied to all."""
    with FakeTrino("iceberg", denied_schemas=frozenset({"hr"})) as coordinator:
        for statement in LAKE:
            coordinator.create(statement)
        yield coordinator


def configure(home: Path, trino: FakeTrino, extra: str = "") -> None:
    """`steward.toml` with the source `trino_lake`, as docs/trino.md configures it."""
    home.mkdir(exist_ok=True)
    (home / "steward.toml").write_text(
        f"""
[sources.trino_lake]
type = "sqlalchemy"
url = "trino://steward@127.0.0.1:{trino.port}/iceberg"
{extra}
"""
    )


@pytest.fixture
def settings(tmp_path: Path, trino: FakeTrino, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Steward on SQLite, with the Trino source configured in its home's `steward.toml`."""
    home = tmp_path / "home"
    configure(home, trino)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    return Settings(home=home)


def sync(client: TestClient) -> dict[str, Any]:
    answer = client.post("/api/v1/sources/trino_lake/sync")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def dataset(client: TestClient, name: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/datasets/{name}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def upstream_fields(client: TestClient, node: str, *, indirect: bool = False) -> dict[str, Any]:
    """The upstream fields of a column node, each with its transformation types."""
    answer = client.get("/api/v1/column-lineage", params={"nodeId": node, "direction": "upstream"})
    assert answer.status_code == 200, answer.text
    (found,) = [n for n in answer.json()["graph"] if n["id"] == node]
    return {
        edge["origin"]: sorted((t["type"], t["subtype"]) for t in edge["transformations"])
        for edge in found["inEdges"]
        if edge["indirect"] is indirect
    }


def test_sync_lists_trinos_tables_with_columns_types_and_comments(
    client: TestClient, trino: FakeTrino
) -> None:
    synced = sync(client)
    assert (synced["listed"], synced["added"]) == (4, 4)
    orders = dataset(client, "trino_lake.sales.orders")
    assert orders["namespace"] == f"trino://127.0.0.1:{trino.port}"
    assert orders["description"]["text"] == "Every order placed"
    columns = {
        c["name"]: (c["type"], (c["description"] or {}).get("text")) for c in orders["columns"]
    }
    assert columns == {
        "id": ("BIGINT", None),
        "customer_id": ("BIGINT", None),
        "amount": ("DECIMAL(10, 2)", "In euros"),
        "placed_at": ("TIMESTAMP(6)", None),
        "tags": ("ARRAY(VARCHAR)", None),
    }
    assert dataset(client, "trino_lake.sales.revenue")["kind"] == "view"
    # `hr` is denied: Trino leaves it out of information_schema, so the catalog has none of it.
    assert client.get("/api/v1/datasets/trino_lake.hr.salaries").status_code == 404
    # The real client bound the dialect's parameters with EXECUTE IMMEDIATE, as user steward.
    sent = trino.statements
    assert {s.user for s in sent} == {"steward"}
    assert {s.catalog for s in sent} == {"iceberg"}
    assert any(s.sql.startswith("EXECUTE IMMEDIATE") and "USING 'sales'" in s.sql for s in sent)
    again = sync(client)
    assert (again["unchanged"], again["changed"]) == (4, 0)


def test_view_lineage_is_traced_in_trinos_dialect(client: TestClient, trino: FakeTrino) -> None:
    sync(client)
    revenue = dataset(client, "trino_lake.sales.revenue")
    assert revenue["definition"].startswith("WITH paid AS (SELECT")  # the query only
    assert [n["name"] for n in revenue["upstream"]] == [
        "trino_lake.sales.customers",
        "trino_lake.sales.orders",
    ]
    field = f"datasetField:trino://127.0.0.1:{trino.port}:iceberg.sales"
    # The CTE's `WHERE amount > 0` decides which rows every column of the view sees.
    assert upstream_fields(client, f"{field}.revenue:day") == {
        f"{field}.orders:placed_at": [("DIRECT", "TRANSFORMATION")],
        f"{field}.orders:amount": [("INDIRECT", "FILTER")],
    }
    assert upstream_fields(client, f"{field}.revenue:total") == {
        f"{field}.orders:amount": [("DIRECT", "AGGREGATION"), ("INDIRECT", "FILTER")]
    }
    assert upstream_fields(client, f"{field}.revenue:emails") == {
        f"{field}.customers:email": [("DIRECT", "AGGREGATION")]
    }
    # The join key decides the rows of every column.
    assert f"{field}.orders:customer_id" in upstream_fields(
        client, f"{field}.revenue:customer", indirect=True
    )


def test_pii_classification_samples_rows_through_trino(
    client: TestClient, trino: FakeTrino
) -> None:
    sync(client)
    answer = client.post(
        "/api/v1/catalog/classify", params={"dataset": "trino_lake.sales.customers"}
    )
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["sampledRows"] == 2  # read through Trino, LIMIT bound by EXECUTE IMMEDIATE
    email = next(
        c for c in dataset(client, "trino_lake.sales.customers")["columns"] if c["name"] == "email"
    )
    assert [(t["tag"], t["status"]) for t in email["tags"]] == [("pii.email", "proposed")]
    assert "LIMIT ?' USING 200" in trino.statements[-1].sql


def event_writing_daily_revenue(port: int) -> dict[str, Any]:
    """Trino's QueryCompletedEvent for an INSERT into `iceberg.sales.daily_revenue`."""
    fixtures = Path(__file__).parents[1] / "audit" / "fixtures"
    event: dict[str, Any] = json.loads((fixtures / "trino_insert.json").read_text())
    event["metadata"]["query"] = (
        "INSERT INTO iceberg.sales.daily_revenue SELECT CAST(placed_at AS date),"
        " sum(amount) FROM iceberg.sales.orders GROUP BY 1"
    )
    event["metadata"]["tables"][0].update(catalog="iceberg", table="orders")
    event["metadata"]["tables"][0]["columns"] = [
        {"column": "placed_at", "masks": []},
        {"column": "amount", "masks": []},
    ]
    event["context"].update(catalog="iceberg", schema="sales", serverAddress=f"127.0.0.1:{port}")
    event["ioMetadata"]["inputs"] = [
        {**event["ioMetadata"]["inputs"][0], "catalogName": "iceberg", "table": "orders"}
    ]
    event["ioMetadata"]["inputs"][0]["columns"] = ["placed_at", "amount"]
    source = {"catalog": "iceberg", "schema": "sales", "table": "orders"}
    event["ioMetadata"]["output"].update(
        catalogName="iceberg",
        schema="sales",
        table="daily_revenue",
        columns=[
            {
                "columnName": "day",
                "columnType": "date",
                "sourceColumns": [{**source, "columnName": "placed_at"}],
            },
            {
                "columnName": "revenue",
                "columnType": "decimal(38,2)",
                "sourceColumns": [{**source, "columnName": "amount"}],
            },
        ],
    )
    return event


def test_trinos_query_lineage_lands_on_the_synced_datasets(
    client: TestClient, trino: FakeTrino
) -> None:
    sync(client)
    posted = client.post("/api/v1/audit/trino", json=event_writing_daily_revenue(trino.port))
    assert posted.status_code == 201, posted.text
    assert posted.json()["lineage"] is True
    # One dataset each: the event's names are the ones the sync gave the tables.
    daily = dataset(client, "trino_lake.sales.daily_revenue")
    assert daily["kind"] == "table"
    assert [c["name"] for c in daily["columns"]] == ["day", "revenue"]
    assert "trino_lake.sales.orders" in [n["name"] for n in daily["upstream"]]
    field = f"datasetField:trino://127.0.0.1:{trino.port}:iceberg.sales"
    assert upstream_fields(client, f"{field}.daily_revenue:revenue") == {
        f"{field}.orders:amount": []  # Trino's own column lineage names no transformation
    }
    search = client.get("/api/v1/catalog/search", params={"q": "daily_revenue"}).json()
    assert [r["name"] for r in search["results"]] == ["trino_lake.sales.daily_revenue"]


@pytest.mark.slow
def test_a_schema_trino_hides_from_the_user_is_a_clear_sync_error(
    tmp_path: Path, trino: FakeTrino
) -> None:
    home = tmp_path / "cli"
    configure(home, trino, 'schemas = ["hr"]')
    ran = steward_cli(home, "catalog", "sync", "trino_lake")
    assert ran.returncode == 8, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "trino_lake" in ran.stderr
    assert "no schema 'hr' that this user may read" in ran.stderr


@pytest.mark.slow
def test_a_catalog_trino_does_not_have_is_trinos_error_without_a_traceback(
    tmp_path: Path, trino: FakeTrino
) -> None:
    home = tmp_path / "cli"
    home.mkdir()
    (home / "steward.toml").write_text(
        f'[sources.trino_lake]\ntype = "sqlalchemy"\n'
        f'url = "trino://steward@127.0.0.1:{trino.port}/lakehouse"\n'
    )
    ran = steward_cli(home, "catalog", "sync", "trino_lake")
    assert ran.returncode == 8, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "CATALOG_NOT_FOUND: Catalog 'lakehouse' not found" in ran.stderr
    assert "[SQL:" not in ran.stderr  # the reflection query is Steward's, not the user's


def test_the_fake_answers_the_dialects_other_probes(trino: FakeTrino) -> None:
    """`SELECT version()`, `$partitions` and result paging, through the real dialect."""
    engine = sa.create_engine(f"trino://steward@127.0.0.1:{trino.port}/iceberg/sales")
    with engine.connect() as conn:
        assert conn.dialect.server_version_info == ("476",)
        # A view has no `$partitions`: Trino's TABLE_NOT_FOUND, which the dialect reads as none.
        assert sa.inspect(conn).get_indexes("revenue", schema="sales") == []
        partitions = conn.execute(sa.text('SELECT record_count FROM "orders$partitions"'))
        assert partitions.scalar() == 2
        # Fourteen rows, three a page: the client follows nextUri to the last page.
        rows = conn.execute(sa.text("SELECT column_name FROM information_schema.columns"))
        assert len(rows.fetchall()) == 3 + 5 + 2 + 4  # customers, orders, daily_revenue, view
    engine.dispose()
