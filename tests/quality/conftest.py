"""A shop lake seeded with known defects, and a clean copy of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, engine_name: str) -> Settings:
    """Quality runs on each engine (`tests/conftest.py` ENGINES), over either store."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        engine=engine_name,  # type: ignore[arg-type]
    )


NOW = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
OLD = NOW - timedelta(days=10)
# order_id, customer_id, status, amount, email, qty (a string: `schema` wants int)
ORDERS = [
    (1, 1, "placed", 10.0, "a@example.com", "1"),
    (2, 2, "shipped", 20.0, "b@example.com", "2"),
    (2, 9, "lost", 5.0, "bad", "1"),  # duplicate id, orphan, bad status, bad email
    (None, 3, "returned", 7.0, "c@example.com", "3"),  # null id
    (5, 8, "weird", -1.0, None, "1"),  # orphan, bad status, negative amount, no email
    (6, None, "placed", 3.0, "d@example.com", "2"),  # no customer: not an orphan
    (7, 1, "placed", 4.0, "e@example.com", "1"),  # (customer 1, placed) twice
]
CLEAN = [
    (1, 1, "placed", 10.0, "a@example.com", "1"),
    (2, 2, "shipped", 20.0, "b@example.com", "2"),
    (3, 3, "returned", 7.0, "c@example.com", "3"),
]

CHECKS = """
version: 1
datasets:
  - name: {table}
    checks:
      - row_count: {{min: 1}}
      - freshness: {{column: updated_at, max_age: 24h}}
      - duplicate_count: {{columns: [customer_id, status]}}
      - schema: {{columns: {{order_id: bigint, qty: int}}, forbidden: [email]}}
      - sql: {{sql: "select * from {table} where amount < 0"}}
    columns:
      - name: order_id
        checks: [not_null, unique]
      - name: status
        checks:
          - accepted_values: {{values: [placed, shipped, returned]}}
      - name: customer_id
        checks:
          - relationships: {{to: {customers}, field: id}}
      - name: email
        checks:
          - regex: {{pattern: '[^@]+@[^@]+'}}
          - missing_percent: {{max: 10}}
      - name: amount
        checks:
          - min: {{min: 0}}
          - mean: {{min: 0, max: 100, severity: warn}}
"""
# What the defective table must report, check by check: (status, failures).
EXPECTED = {
    "row_count": ("pass", 0),
    "freshness(updated_at)": ("fail", 1),
    "duplicate_count(customer_id, status)": ("fail", 1),
    "schema": ("fail", 2),
    "sql": ("fail", 1),
    "not_null(order_id)": ("fail", 1),
    "unique(order_id)": ("fail", 1),
    "accepted_values(status)": ("fail", 2),
    "relationships(customer_id -> {customers}.id)": ("fail", 2),
    "regex(email)": ("fail", 1),
    "missing_percent(email)": ("fail", 1),
    "min(amount)": ("fail", 1),
    "mean(amount)": ("pass", 0),
}


def orders_table(rows: list[tuple[object, ...]], updated: datetime) -> object:
    import pyarrow as pa

    return pa.table(
        {
            "order_id": pa.array([r[0] for r in rows], pa.int64()),
            "customer_id": pa.array([r[1] for r in rows], pa.int64()),
            "status": [r[2] for r in rows],
            "amount": [r[3] for r in rows],
            "email": [r[4] for r in rows],
            "qty": [r[5] for r in rows],
            "updated_at": pa.array([updated] * len(rows), pa.timestamp("us")),
        }
    )


def make_shop(steward: Steward) -> None:
    """`lake.shop.orders` (defects), `lake.shop.orders_clean` and `lake.shop.customers`."""
    import pyarrow as pa

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("shop")
    customers = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["A", "B", "C"]})
    catalog.create_table("shop.customers", schema=customers.schema).append(customers)
    orders: object = orders_table(ORDERS, OLD)
    table = catalog.create_table("shop.orders", schema=orders.schema)  # type: ignore[attr-defined]
    table.append(orders.slice(0, 3))  # type: ignore[attr-defined]
    table.append(orders.slice(3))  # type: ignore[attr-defined]  # two data files
    clean: object = orders_table(CLEAN, NOW)
    catalog.create_table("shop.orders_clean", schema=clean.schema).append(clean)  # type: ignore[attr-defined]
    catalog.close()


def checks_text(table: str, customers: str) -> str:
    """The checks file over `table`, its relationships pointing at `customers`."""
    return CHECKS.format(table=table, customers=customers)
