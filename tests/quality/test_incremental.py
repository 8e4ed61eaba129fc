"""The incremental gate gives the full run's verdict and counts, on the appended files alone.

Each test publishes a first branch in full (which keeps main's numbers), then a branch
that appends rows with one kind of defect, and compares the gate's results check by
check with a full run of the same checks over the whole branch snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.engines.iceberg_files import plan_iceberg
from steward.errors import InvalidInput
from steward.quality.load import parse_checks
from steward.quality.models import CheckResult, Dataset
from steward.quality.publish import Published, publish
from steward.quality.run import open_check_tables, run_checks, tables_needed
from tests.cli_run import steward_cli

# The chain test runs on both stores (numbers kept in PostgreSQL too); the rest on SQLite.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
CHECKS = """\
version: 1
datasets:
  - name: lake.shop.orders
    checks:
      - row_count: {min: 1}
      - row_count: {min: 1, where: "status = 'placed'", name: placed_rows}
      - freshness: {column: updated_at, max_age: 24h}
      - duplicate_count: {columns: [customer_id, status], severity: warn, warn_if: ">1000"}
      - schema: {required: [order_id, status], forbidden: [ssn]}
      - sql: {sql: "select * from lake.shop.orders where amount < 0"}
    columns:
      - name: order_id
        checks:
          - not_null
          - unique
          - unique: {where: "status <> 'returned'", name: unique_kept_order}
      - name: status
        checks:
          - accepted_values: {values: [placed, shipped, returned]}
      - name: customer_id
        checks:
          - relationships: {to: lake.shop.customers, field: id}
      - name: email
        checks:
          - regex: {pattern: '[^@]+@[^@]+'}
          - missing_percent: {max: 40}
      - name: amount
        checks:
          - min: {min: 0}
          - max: {max: 1000}
          - mean: {min: 1, max: 500}
          - sum: {min: 0, severity: warn}
      - name: price
        checks:
          - sum: {min: 0}
      - name: updated_at
        checks:
          - min: {min: 2020-01-01, name: oldest, severity: warn}
"""
ORDERS = pa.schema(
    [
        ("order_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("status", pa.string()),
        ("amount", pa.float64()),
        ("price", pa.decimal128(10, 2)),
        ("email", pa.string()),
        ("updated_at", pa.timestamp("us")),
    ]
)
Row = tuple[Any, ...]


def order(
    order_id: int | None,
    customer: int | None = 1,
    status: str = "placed",
    amount: float = 10.0,
    email: str | None = "a@example.com",
    age: timedelta = timedelta(hours=1),
) -> Row:
    from decimal import Decimal

    return (order_id, customer, status, amount, Decimal("1.25"), email, NOW - age)


def table_of(rows: list[Row]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in ORDERS]
    return pa.table(
        {f.name: pa.array(list(c), f.type) for f, c in zip(ORDERS, columns, strict=True)},
        schema=ORDERS,
    )


@pytest.fixture
def lake(steward: Steward) -> Iterator[Any]:
    """Orders on main, published once in full so that main's numbers are kept."""
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("shop")
    customers = pa.table({"id": pa.array(range(1, 11), pa.int64())})
    catalog.create_table("shop.customers", schema=customers.schema).append(customers)
    orders = catalog.create_table("shop.orders", schema=ORDERS)
    orders.append(table_of([order(i, customer=i % 10 + 1) for i in range(1, 31)]))
    sync(steward.store, steward.source("lake"))
    first = publish_rows(steward, catalog, "first", [order(31), order(32, email=None)])
    assert first.moved, first.results
    assert "in full (no numbers stored for main's snapshot" in first.how
    yield catalog
    catalog.close()


def checks() -> Dataset:
    return parse_checks(CHECKS).datasets[0]


def branch(catalog: Any, name: str, rows: list[Row], *, start: int | None = None) -> int:
    """A branch of orders from main (or snapshot `start`) appending `rows`; its snapshot."""
    table = catalog.load_table("shop.orders")
    table.manage_snapshots().create_branch(
        start or table.current_snapshot().snapshot_id, name
    ).commit()
    catalog.load_table("shop.orders").append(table_of(rows), branch=name)
    return int(catalog.load_table("shop.orders").metadata.refs[name].snapshot_id)


def publish_rows(
    steward: Steward, catalog: Any, name: str, rows: list[Row], declared: Dataset | None = None
) -> Published:
    branch(catalog, name, rows)
    return publish(steward, declared or checks(), name)


def full_run(steward: Steward, catalog: Any, snapshot: int, declared: Dataset) -> list[CheckResult]:
    """Every check over the whole snapshot: the run a gate must agree with."""
    table = catalog.load_table("shop.orders")
    data = plan_iceberg(table, name=declared.name, snapshot_id=snapshot)
    engine = open_check_tables(steward, tables_needed(declared), overrides={declared.name: data})
    try:
        return run_checks(engine, declared)
    finally:
        engine.close()


def assert_same(gated: tuple[CheckResult, ...], full: list[CheckResult]) -> None:
    assert [r.name for r in gated] == [r.name for r in full]
    for mine, theirs in zip(gated, full, strict=True):
        assert (mine.name, mine.status, mine.failures) == (
            theirs.name,
            theirs.status,
            theirs.failures,
        ), (mine, theirs)
        if isinstance(theirs.observed, float):
            assert math.isclose(mine.observed, theirs.observed, rel_tol=1e-9), mine.name
        else:
            assert mine.observed == theirs.observed, mine.name


def gate_and_compare(steward: Steward, catalog: Any, name: str, rows: list[Row]) -> Published:
    snapshot = branch(catalog, name, rows)
    full = full_run(steward, catalog, snapshot, checks())
    outcome = publish(steward, checks(), name)
    assert_same(outcome.results, full)
    ran = {r.name: r.how for r in outcome.results}
    assert ran.pop("sql") == "full: a sql check"
    assert ran.pop("schema") == "metadata"
    assert all(how.startswith("incremental") for how in ran.values()), ran
    return outcome


BRANCHES = {
    "duplicates of existing ids": [order(1), order(2, status="returned"), order(40)],
    "duplicates among the appended": [order(50), order(50), order(51)],
    "orphans": [order(60, customer=999), order(61, customer=998), order(62, customer=None)],
    "nulls": [order(None), order(None, email=None), order(70, customer=None, email=None)],
    "bad values": [
        order(80, status="lost", email="bad", amount=-5.0),
        order(81, amount=5000.0),
    ],
    "stale rows": [order(90, age=timedelta(days=30)), order(91, age=timedelta(days=40))],
    "clean rows": [order(100), order(101, customer=2, status="shipped")],
}


@sqlite_only
@pytest.mark.parametrize("case", list(BRANCHES))
def test_incremental_and_full_runs_agree(steward: Steward, lake: Any, case: str) -> None:
    outcome = gate_and_compare(steward, lake, "audit", BRANCHES[case])
    assert outcome.moved is (case in ("clean rows", "stale rows"))
    assert "17 checks incremental on 1 appended files" in outcome.how


@sqlite_only
def test_the_gate_reports_exact_counts_on_the_appended_defects(steward: Steward, lake: Any) -> None:
    rows = [order(1), order(1), order(None), order(700, customer=999, status="lost", email="x")]
    outcome = gate_and_compare(steward, lake, "audit", rows)
    failures = {r.name: r.failures for r in outcome.results if r.status == "fail"}
    assert failures == {
        "not_null(order_id)": 1,
        "unique(order_id)": 2,  # 1 already on main, and appended twice
        "unique_kept_order": 2,
        "accepted_values(status)": 1,
        "relationships(customer_id -> lake.shop.customers.id)": 1,
        "regex(email)": 1,
    }
    unique = next(r for r in outcome.results if r.name == "unique(order_id)")
    assert unique.samples
    assert {s["order_id"] for s in unique.samples} == {1}
    assert unique.how == "incremental: appended rows joined to main's"


@sqlite_only
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.builds(
            order,
            order_id=st.one_of(st.none(), st.integers(1, 60)),
            customer=st.one_of(st.none(), st.integers(1, 12)),
            status=st.sampled_from(["placed", "shipped", "returned", "lost"]),
            amount=st.floats(-10, 2000, allow_nan=False),
            email=st.sampled_from([None, "a@example.com", "nope"]),
            age=st.sampled_from([timedelta(hours=1), timedelta(days=3)]),
        ),
        min_size=1,
        max_size=15,
    )
)
@pytest.mark.slow
def test_any_appended_rows_get_the_full_runs_verdict(
    steward: Steward, lake: Any, rows: list[Row]
) -> None:
    # Each example appends on whatever main has become: passing gates chain on each other.
    import uuid

    gate_and_compare(steward, lake, f"b{uuid.uuid4().hex[:8]}", rows)


def test_a_chain_of_incremental_gates_builds_on_each_others_numbers(
    steward: Steward, lake: Any
) -> None:
    for n in range(3):
        outcome = gate_and_compare(steward, lake, f"day{n}", [order(200 + n)])
        assert outcome.moved
    outcome = gate_and_compare(steward, lake, "day3", [order(200)])  # a duplicate of day 0
    assert not outcome.moved


@sqlite_only
def test_an_overwrite_on_the_branch_runs_everything_in_full(steward: Steward, lake: Any) -> None:
    table = lake.load_table("shop.orders")
    table.manage_snapshots().create_branch(table.current_snapshot().snapshot_id, "fix").commit()
    lake.load_table("shop.orders").overwrite(table_of([order(1), order(2)]), branch="fix")
    snapshot = int(lake.load_table("shop.orders").metadata.refs["fix"].snapshot_id)
    full = full_run(steward, lake, snapshot, checks())
    outcome = publish(steward, checks(), "fix")
    assert_same(outcome.results, full)
    assert all(r.how.startswith("full: the branch's snapshot") for r in outcome.results), [
        r.how for r in outcome.results
    ]
    assert "not an append" in outcome.how
    assert outcome.moved  # two clean rows replace the table


@sqlite_only
def test_a_branch_from_an_older_main_is_refused(steward: Steward, lake: Any) -> None:
    old = lake.load_table("shop.orders").current_snapshot().snapshot_id
    assert publish_rows(steward, lake, "newer", [order(300)]).moved
    branch(lake, "stale", [order(301)], start=old)
    with pytest.raises(InvalidInput, match="does not start from main's current snapshot"):
        publish(steward, checks(), "stale")
    assert lake.load_table("shop.orders").scan().to_arrow().num_rows == 33  # 300 stays


@sqlite_only
def test_a_changed_check_and_a_changed_reference_table_run_in_full(
    steward: Steward, lake: Any
) -> None:
    lake.load_table("shop.customers").append(pa.table({"id": pa.array([999], pa.int64())}))
    changed = parse_checks(
        CHECKS.replace("values: [placed, shipped, returned]", "values: [placed, shipped]")
    ).datasets[0]
    snapshot = branch(lake, "audit", [order(400, customer=999, status="returned")])
    full = full_run(steward, lake, snapshot, changed)
    outcome = publish(steward, changed, "audit")
    assert_same(outcome.results, full)
    ran = {r.name: r.how for r in outcome.results}
    assert ran["accepted_values(status)"] == (
        f"full: no numbers stored for main's snapshot {outcome.main_before}"
    )
    assert ran["relationships(customer_id -> lake.shop.customers.id)"] == (
        "full: lake.shop.customers changed since main's numbers"
    )
    assert ran["not_null(order_id)"].startswith("incremental")


@pytest.mark.slow
@sqlite_only
def test_steward_publish_says_which_checks_ran_how(
    steward: Steward, lake: Any, tmp_path: Path
) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text(CHECKS, encoding="utf-8")
    branch(lake, "audit", [order(500)])
    done = steward_cli(
        steward.settings.home,
        "publish",
        "lake.shop.orders",
        "--branch",
        "audit",
        "--checks",
        str(path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "checked: 17 checks incremental on 1 appended files (1 rows); 1 from metadata;"
        " 1 in full (a sql check)" in (" ".join(done.stdout.split()))
    )
    assert "incremental: snapshot summary" in done.stdout


@sqlite_only
def test_a_quality_run_on_main_keeps_numbers_for_the_next_gate(steward: Steward) -> None:
    from steward.quality.run import run_dataset

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("shop")
    customers = pa.table({"id": pa.array(range(1, 11), pa.int64())})
    catalog.create_table("shop.customers", schema=customers.schema).append(customers)
    catalog.create_table("shop.orders", schema=ORDERS).append(table_of([order(1), order(2)]))
    assert {r.status for r in run_dataset(steward, checks())} == {"pass"}
    outcome = gate_and_compare(steward, catalog, "audit", [order(2), order(3)])
    assert not outcome.moved
    assert [r.name for r in outcome.blocking] == ["unique(order_id)", "unique_kept_order"]
    catalog.close()
