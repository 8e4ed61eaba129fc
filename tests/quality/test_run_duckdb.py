"""Checks on the embedded DuckDB over Iceberg tables: exact failure counts, one scan."""

from __future__ import annotations

import pytest

from steward.app import Steward
from steward.quality.load import parse_checks
from steward.quality.run import open_checks, run_checks
from tests.quality.conftest import EXPECTED, checks_text, make_shop

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _run(steward: Steward, table: str) -> tuple[dict[str, object], list[str]]:
    dataset = parse_checks(checks_text(table, "lake.shop.customers")).datasets[0]
    engine = open_checks(steward, dataset)
    try:
        results = run_checks(engine, dataset)
    finally:
        engine.close()
    return {r.name: r for r in results}, engine.statements


def test_every_check_reports_the_exact_failure_count(steward: Steward) -> None:
    make_shop(steward)
    results, _ = _run(steward, "lake.shop.orders")
    expected = {
        name.format(customers="lake.shop.customers"): value for name, value in EXPECTED.items()
    }
    found = {name: (r.status, r.failures) for name, r in results.items()}  # type: ignore[attr-defined]
    assert found == expected


def test_failing_rows_are_sampled_only_for_failed_checks(steward: Steward) -> None:
    make_shop(steward)
    results, _ = _run(steward, "lake.shop.orders")
    orphans = results["relationships(customer_id -> lake.shop.customers.id)"]
    assert sorted(row["customer_id"] for row in orphans.samples) == [8, 9]  # type: ignore[attr-defined]
    assert sorted(row["status"] for row in results["accepted_values(status)"].samples) == [
        "lost",
        "weird",
    ]  # type: ignore[attr-defined]
    assert results["row_count"].samples == []  # type: ignore[attr-defined]


# DuckDB's statements and type names are what it asserts.
@pytest.mark.engines("duckdb")
def test_a_clean_table_passes_in_one_scan_and_one_anti_join(steward: Steward) -> None:
    make_shop(steward)
    results, statements = _run(steward, "lake.shop.orders_clean")
    failed = {n: r.message for n, r in results.items() if r.status != "pass"}  # type: ignore[attr-defined]
    assert failed == {"schema": "qty is VARCHAR, not int; email is forbidden"}
    # One aggregate scan for every column metric, one grouped query per uniqueness key
    # (unique(order_id), duplicate_count(customer_id, status)), one anti-join, the sql
    # check; the schema check reads the engine's schema of the table, not a statement; no
    # samples (the schema failure has no rows to show).
    scan, *grouped, anti, sql = statements
    assert scan.count('FROM "t0"') == 1
    assert "JOIN" not in scan
    assert "DISTINCT" not in scan
    assert "GROUP BY" not in scan
    assert [q[q.index("GROUP BY") :] for q in grouped] == [
        'GROUP BY "customer_id", "status") AS g',
        'GROUP BY "order_id") AS g',
    ]
    assert anti.count("LEFT JOIN") == 1
    assert sql.startswith("SELECT COUNT(*) FROM (SELECT")


# DuckDB's statements and type names are what it asserts.
@pytest.mark.engines("duckdb")
def test_failing_rows_come_back_with_the_queries_not_from_more_scans(steward: Steward) -> None:
    make_shop(steward)
    results, statements = _run(steward, "lake.shop.orders")
    # The same five queries; then only the orphans' rows looked up by their keys and the
    # failing sql check's rows: no scan per failed check.
    assert len(statements) == 7, statements
    sql_rows, lookup = statements[5:]
    assert '"customer_id" IN (' in lookup
    assert "amount < 0" in sql_rows
    duplicates = results["unique(order_id)"].samples  # type: ignore[attr-defined]
    assert duplicates == [{"order_id": 2, "rows": 2}]
    nulls = results["not_null(order_id)"].samples  # type: ignore[attr-defined]
    assert [(row["order_id"], row["status"]) for row in nulls] == [(None, "returned")]


def test_a_check_on_a_missing_column_errors_alone(steward: Steward) -> None:
    make_shop(steward)
    text = """
version: 1
datasets:
  - name: lake.shop.orders
    columns:
      - name: order_id
        checks: [not_null]
      - name: no_such_column
        checks: [not_null]
      - name: status
        checks:
          - accepted_values: {values: [placed, shipped, returned]}
      - name: customer_id
        checks:
          - relationships: {to: lake.shop.customers, field: id}
      - name: nor_this_one
        checks:
          - relationships: {to: lake.shop.customers, field: id}
"""
    dataset = parse_checks(text).datasets[0]
    engine = open_checks(steward, dataset)
    try:
        results = {r.name: r for r in run_checks(engine, dataset)}
    finally:
        engine.close()
    found = {name: (r.status, r.failures) for name, r in results.items()}
    assert found == {
        "not_null(order_id)": ("fail", 1),
        "not_null(no_such_column)": ("error", None),
        "accepted_values(status)": ("fail", 2),
        "relationships(customer_id -> lake.shop.customers.id)": ("fail", 2),
        "relationships(nor_this_one -> lake.shop.customers.id)": ("error", None),
    }
    assert "no_such_column" in results["not_null(no_such_column)"].message
    # Run one by one, the good checks still bring their failing rows back.
    assert sorted(r["status"] for r in results["accepted_values(status)"].samples) == [
        "lost",
        "weird",
    ]
    orphans = results["relationships(customer_id -> lake.shop.customers.id)"].samples
    assert sorted(r["customer_id"] for r in orphans) == [8, 9]
