"""The shop data and the ten checks of bench/quality.py, for benchmarks that reuse them.

- `write_orders` / `write_customers` / `cached_data`: an `orders` table in several
  Parquet files with known defects (null and duplicate ids, bad statuses, orphans, bad
  emails, negative amounts, stale timestamps) and a `customers` key table;
- `make_lake`: both registered in a Steward home's embedded Iceberg lake as
  `lake.shop.orders` and `lake.shop.customers` (pyiceberg `add_files`, then a sync);
- the same ten checks four ways, each returning a `Verdict` (check -> pass/fail and the
  number behind it) under the names of `CHECKS`: `run_steward`, `run_floor` (hand-written
  DuckDB: one aggregate scan and one anti-join), `run_soda` (soda-core 4 contract on
  DuckDB views over the files) and `run_gx` (Great Expectations 1.x on pandas).

`run_soda` and `run_floor` take plain lists of Parquet files, so a later benchmark can
re-check, say, a branch snapshot's files with them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FILES = 8
CUSTOMERS = 1_000_000
STATUSES = ("placed", "shipped", "delivered", "returned", "cancelled")
EMAIL = r"[a-z0-9._]+@[a-z0-9-]+\.[a-z]+"  # matched whole by every tool
MAX_AGE = timedelta(hours=24)
MEAN = (0, 1000)
# The newest `updated_at`: fixed, so freshness fails the same way on every run.
NEWEST = datetime(2025, 1, 1, 12, 0, 0)
# Defects, in order, at rows j * (rows // 50) + 7; each kind's count is what the checks
# must find (a duplicate id repeats the next row's id, an orphan points past CUSTOMERS).
DEFECTS = {
    "null_order_id": 10,
    "duplicate_order_id": 5,
    "bad_status": 7,
    "orphan": 11,
    "bad_email": 13,
    "negative_amount": 3,
}
# The ten checks, by the names every runner reports under, with the expected outcome:
# (status, failing rows, or None where the number is a value such as a mean).
CHECKS: dict[str, tuple[str, int | None]] = {
    "not_null(order_id)": ("fail", DEFECTS["null_order_id"]),
    "not_null(customer_id)": ("pass", 0),
    "unique(order_id)": ("fail", DEFECTS["duplicate_order_id"]),
    "accepted_values(status)": ("fail", DEFECTS["bad_status"]),
    "relationships(customer_id)": ("fail", DEFECTS["orphan"]),
    "row_count": ("pass", None),
    "regex(email)": ("fail", DEFECTS["bad_email"]),
    "mean(amount)": ("pass", None),
    "freshness(updated_at)": ("fail", None),
    "min(amount)": ("fail", None),
}

STEWARD_CHECKS = f"""
version: 1
datasets:
  - name: lake.shop.orders
    checks:
      - row_count: {{min: 1}}
      - freshness: {{column: updated_at, max_age: 24h}}
    columns:
      - name: order_id
        checks: [not_null, unique]
      - name: customer_id
        checks:
          - not_null
          - relationships: {{to: lake.shop.customers, field: id}}
      - name: status
        checks:
          - accepted_values: {{values: [{", ".join(STATUSES)}]}}
      - name: email
        checks:
          - regex: {{pattern: '{EMAIL}'}}
      - name: amount
        checks:
          - mean: {{min: {MEAN[0]}, max: {MEAN[1]}}}
          - min: {{min: 0}}
"""

# soda-core 4 contract: the same checks; each is named as in CHECKS.
SODA_CONTRACT = f"""
dataset: bench/main/orders
checks:
  - row_count:
      name: row_count
      threshold: {{must_be_greater_than_or_equal: 1}}
  - freshness:
      name: freshness(updated_at)
      column: updated_at
      threshold: {{unit: hour, must_be_less_than_or_equal: {MAX_AGE.total_seconds() / 3600:g}}}
columns:
  - name: order_id
    checks:
      - missing:
          name: not_null(order_id)
      - duplicate:
          name: unique(order_id)
  - name: customer_id
    checks:
      - missing:
          name: not_null(customer_id)
      - invalid:
          name: relationships(customer_id)
          valid_reference_data: {{dataset: bench/main/customers, column: id}}
  - name: status
    checks:
      - invalid:
          name: accepted_values(status)
          valid_values: [{", ".join(STATUSES)}]
  - name: email
    checks:
      - invalid:
          name: regex(email)
          valid_format: {{name: email, regex: '^{EMAIL}$'}}
  - name: amount
    checks:
      - aggregate:
          name: mean(amount)
          qualifier: mean
          function: avg
          threshold:
            must_be_between: {{greater_than_or_equal: {MEAN[0]}, less_than_or_equal: {MEAN[1]}}}
      - aggregate:
          name: min(amount)
          qualifier: min
          function: min
          threshold: {{must_be_greater_than_or_equal: 0}}
"""


@dataclass(frozen=True)
class ShopData:
    """The generated Parquet files."""

    rows: int
    orders: list[str]
    customers: list[str]


# check name -> (pass or fail, the number behind it: failing rows, or the observed value)
Verdict = dict[str, tuple[str, Any]]


def defect_rows(rows: int) -> dict[str, list[int]]:
    """The global row numbers of each kind of defect (disjoint; never a row's neighbour)."""
    if rows < 1000:
        raise ValueError("at least 1,000 rows")
    step = rows // 50
    out: dict[str, list[int]] = {}
    j = 0
    for kind, count in DEFECTS.items():
        out[kind] = [k * step + 7 for k in range(j, j + count)]
        j += count
    return out


def write_orders(directory: Path, rows: int, *, files: int = FILES) -> list[str]:
    """`orders` in `files` Parquet files under `directory`, with the defects of DEFECTS.

    Columns: order_id bigint, customer_id bigint, status varchar, amount double,
    email varchar, updated_at timestamp.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    defects = defect_rows(rows)
    newest = np.datetime64(NEWEST, "us")
    paths = []
    per_file = -(-rows // files)
    for n in range(files):
        start = n * per_file
        count = min(per_file, rows - start)
        if count <= 0:
            break
        ids = np.arange(start, start + count, dtype=np.int64)

        def local(kind: str, start: int = start, count: int = count) -> np.ndarray:
            return np.array(
                [i - start for i in defects[kind] if start <= i < start + count], dtype=np.int64
            )

        order_id = ids.copy()
        order_id[local("duplicate_order_id")] += 1
        missing = np.zeros(count, dtype=bool)
        missing[local("null_order_id")] = True
        customer_id = (ids * 7919) % CUSTOMERS
        orphans = local("orphan")
        customer_id[orphans] = CUSTOMERS + orphans + start
        status_index = ids % len(STATUSES)
        statuses = pc.take(pa.array(STATUSES), pa.array(status_index))
        bad = np.zeros(count, dtype=bool)
        bad[local("bad_status")] = True
        statuses = pc.if_else(pa.array(bad), pa.scalar("lost"), statuses)
        amount = ((ids * 7919) % 10_000) / 100.0 + 0.5
        amount[local("negative_amount")] = -5.0
        text = pc.cast(pa.array(ids), pa.string())
        email = pc.if_else(
            pa.array(np.isin(np.arange(count), local("bad_email"))),
            pc.binary_join_element_wise("u", text, ".example.com", ""),
            pc.binary_join_element_wise("u", text, "@example.com", ""),
        )
        updated = newest - (ids % (90 * 86_400)).astype("timedelta64[s]")
        table = pa.table(
            {
                "order_id": pa.array(order_id, mask=missing),
                "customer_id": pa.array(customer_id),
                "status": statuses,
                "amount": pa.array(amount),
                "email": email,
                "updated_at": pa.array(updated.astype("datetime64[us]")),
            }
        )
        path = directory / f"orders-{n}.parquet"
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def write_customers(directory: Path, count: int = CUSTOMERS) -> list[str]:
    """`customers`: ids 0 .. count-1 and a segment, in one Parquet file."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    ids = pa.array(range(count), pa.int64())
    segments = pc.take(pa.array(["retail", "business", "vip"]), pc.remainder(ids, 3))
    path = directory / "customers-0.parquet"
    pq.write_table(pa.table({"id": ids, "segment": segments}), path)
    return [str(path)]


def cached_data(directory: Path, rows: int, *, fresh: bool = False) -> tuple[ShopData, bool]:
    """The shop data under `directory`, written unless the same rows are already there.

    Returns the data and whether it was (re)written.
    """
    meta = directory / "meta.json"
    if not fresh and meta.is_file():
        saved = json.loads(meta.read_text())
        data = ShopData(saved["rows"], saved["orders"], saved["customers"])
        if data.rows == rows and all(Path(p).is_file() for p in data.orders + data.customers):
            return data, False
    shutil.rmtree(directory, ignore_errors=True)
    data = ShopData(
        rows, write_orders(directory / "orders", rows), write_customers(directory / "customers")
    )
    meta.write_text(json.dumps(data.__dict__))
    return data, True


def make_lake(home: Path, data: ShopData) -> Any:
    """A Steward on `home` with `lake.shop.orders` and `lake.shop.customers` over `data`."""
    import pyarrow.parquet as pq

    from steward.app import Steward
    from steward.catalog.sync import sync
    from steward.config import Settings
    from steward.connectors.iceberg import lake_catalog

    steward = Steward(Settings(home=home))
    steward.upgrade()
    catalog = lake_catalog(home)
    catalog.create_namespace("shop")
    for name, files in (("orders", data.orders), ("customers", data.customers)):
        table = catalog.create_table(f"shop.{name}", schema=pq.read_schema(files[0]))
        table.add_files(list(files))
    catalog.close()
    sync(steward.store, steward.source("lake"))
    return steward


def run_steward(steward: Any, checks: str = STEWARD_CHECKS) -> Verdict:
    """Steward's run of the checks (parse and `run_dataset`, samples of failures included)."""
    from steward.quality.load import parse_checks
    from steward.quality.run import run_dataset

    (dataset,) = parse_checks(checks).datasets
    verdict: Verdict = {}
    for result in run_dataset(steward, dataset):
        name = result.name.split(" -> ")[0] + (")" if " -> " in result.name else "")
        number: Any = result.failures
        if result.kind in ("mean", "min"):
            number = result.observed
        elif result.kind in ("row_count", "freshness"):
            number = None
        if result.status == "error":
            number = result.message
        verdict[name] = ("fail" if result.status in ("fail", "error") else "pass", number)
    return {name: verdict[name] for name in CHECKS}


def floor_sql(orders: Sequence[str], customers: Sequence[str]) -> tuple[str, str]:
    """The floor's two queries: one aggregate scan, one anti-join."""
    values = ", ".join(f"'{s}'" for s in STATUSES)
    scan = f"""
        SELECT
            count(*) AS row_count,
            count(*) FILTER (WHERE order_id IS NULL) AS null_order_id,
            count(*) FILTER (WHERE customer_id IS NULL) AS null_customer_id,
            count(order_id) - count(DISTINCT order_id) AS duplicate_order_id,
            count(*) FILTER (WHERE status IS NOT NULL AND status NOT IN ({values})) AS bad_status,
            count(*) FILTER (WHERE email IS NOT NULL AND NOT regexp_full_match(email, '{EMAIL}'))
                AS bad_email,
            avg(amount) AS mean_amount,
            min(amount) AS min_amount,
            max(updated_at) AS newest
        FROM read_parquet({list(orders)!r})
    """
    anti = f"""
        SELECT count(*) FROM read_parquet({list(orders)!r}) AS o
        WHERE o.customer_id IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM read_parquet({list(customers)!r}) AS c WHERE c.id = o.customer_id)
    """
    return scan, anti


def run_floor(orders: Sequence[str], customers: Sequence[str]) -> Verdict:
    """The checks as two hand-written DuckDB queries on a fresh in-memory connection."""
    import duckdb

    scan, anti = floor_sql(orders, customers)
    conn = duckdb.connect()
    try:
        cursor = conn.execute(scan)
        names = [d[0] for d in cursor.description or ()]
        m = dict(zip(names, cursor.fetchone() or (), strict=True))
        (orphans,) = conn.execute(anti).fetchone() or (0,)
    finally:
        conn.close()

    def counted(n: int) -> tuple[str, int]:
        return ("fail" if n else "pass", n)

    now = datetime.now(UTC).replace(tzinfo=None)
    return {
        "not_null(order_id)": counted(m["null_order_id"]),
        "not_null(customer_id)": counted(m["null_customer_id"]),
        "unique(order_id)": counted(m["duplicate_order_id"]),
        "accepted_values(status)": counted(m["bad_status"]),
        "relationships(customer_id)": counted(orphans),
        "row_count": ("pass" if m["row_count"] >= 1 else "fail", None),
        "regex(email)": counted(m["bad_email"]),
        "mean(amount)": (
            "pass" if MEAN[0] <= m["mean_amount"] <= MEAN[1] else "fail",
            m["mean_amount"],
        ),
        "freshness(updated_at)": ("fail" if now - m["newest"] > MAX_AGE else "pass", None),
        "min(amount)": ("pass" if m["min_amount"] >= 0 else "fail", m["min_amount"]),
    }


def run_soda(
    orders: Sequence[str], customers: Sequence[str], *, contract: str = SODA_CONTRACT
) -> Verdict:
    """soda-core 4's verification of `contract` over DuckDB views on the given files.

    Needs `soda-core` and `soda-duckdb` (4.x); telemetry is switched off. The views are
    `bench.main.orders` and `bench.main.customers` of a fresh in-memory DuckDB.
    """
    os.environ["SODA_CORE_TELEMETRY_ENABLED"] = "false"
    import logging
    import tempfile

    import duckdb
    from soda_core.contracts import verify_contract_locally
    from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl

    logging.getLogger("soda").setLevel(logging.ERROR)
    conn = duckdb.connect()
    try:
        conn.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet({list(orders)!r})")
        conn.execute(f"CREATE VIEW customers AS SELECT * FROM read_parquet({list(customers)!r})")
        source = DuckDBDataSourceImpl.from_existing_cursor(conn, name="bench")
        with tempfile.TemporaryDirectory(prefix="steward-bench-soda-") as tmp:
            path = Path(tmp) / "orders.yml"
            path.write_text(contract)
            session = verify_contract_locally(data_sources=[source], contract_file_path=str(path))
    finally:
        conn.close()
    if session.has_errors:
        raise RuntimeError(f"soda could not run the contract:\n{session.get_errors_str()}")
    verdict: Verdict = {}
    for result in session.contract_verification_results:
        for check in result.check_results:
            if check.is_not_evaluated:
                raise RuntimeError(f"soda did not evaluate {check.check.name}")
            values = check.diagnostic_metric_values or {}
            number: Any = check.threshold_value
            for key in ("missing_count", "duplicate_count", "invalid_count"):
                if key in values:
                    number = values[key]
            if check.check.name == "freshness(updated_at)":
                number = None
            if check.check.name == "row_count":
                number = None
            verdict[str(check.check.name)] = (
                "fail" if check.is_failed else "pass",
                number if number is None or isinstance(number, float) else int(number),
            )
    return {name: verdict[name] for name in CHECKS}


def read_pandas(orders: Sequence[str], customers: Sequence[str]) -> tuple[Any, Any]:
    """The orders and customers as pandas DataFrames (pyarrow reads the files)."""
    import pyarrow.parquet as pq

    return (
        pq.ParquetDataset(list(orders)).read().to_pandas(),
        pq.ParquetDataset(list(customers)).read().to_pandas(),
    )


def run_gx(orders: Any, customers: Any) -> tuple[Verdict, dict[str, float]]:
    """Great Expectations 1.x on its pandas path: the ten expectations on DataFrames.

    GX has no cross-table expectation on pandas, so `relationships` is
    `expect_column_values_to_be_in_set` with every customer id; GX copies and serializes
    that 1,000,000-value set many times over, so it is validated as a suite of its own and
    timed apart. Freshness is the newest `updated_at` against now minus MAX_AGE.

    Returns the verdict and the seconds of each validation (suite built and validated):
    `single-table` (nine expectations) and `relationships`.
    """
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import logging

    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    now = datetime.now(UTC).replace(tzinfo=None)
    single = {
        "not_null(order_id)": gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        "not_null(customer_id)": gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        "unique(order_id)": gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        "accepted_values(status)": gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=list(STATUSES)
        ),
        "row_count": gxe.ExpectTableRowCountToBeBetween(min_value=1),
        "regex(email)": gxe.ExpectColumnValuesToMatchRegex(column="email", regex=f"^{EMAIL}$"),
        "mean(amount)": gxe.ExpectColumnMeanToBeBetween(
            column="amount", min_value=MEAN[0], max_value=MEAN[1]
        ),
        "freshness(updated_at)": gxe.ExpectColumnMaxToBeBetween(
            column="updated_at", min_value=now - MAX_AGE
        ),
        "min(amount)": gxe.ExpectColumnMinToBeBetween(column="amount", min_value=0),
    }
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("bench")
    asset = source.add_dataframe_asset("orders")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": orders}
    )
    verdict: Verdict = {}
    seconds: dict[str, float] = {}

    def validate(part: str, expectations: dict[str, Any]) -> None:
        started = time.perf_counter()
        suite = context.suites.add(gx.ExpectationSuite(name=part))
        names = {}
        for name, expectation in expectations.items():
            names[suite.add_expectation(expectation).id] = name
        result = batch.validate(suite)
        seconds[part] = time.perf_counter() - started
        for outcome in result.results:
            name = names[outcome.expectation_config.id]
            detail = outcome.result or {}
            number = detail.get("unexpected_count", detail.get("observed_value"))
            if name in ("row_count", "freshness(updated_at)"):
                number = None
            elif number is not None and not isinstance(number, int):
                number = float(number)
            verdict[name] = ("pass" if outcome.success else "fail", number)

    validate("single-table", single)
    started = time.perf_counter()
    ids = customers["id"].tolist()
    relationships = gxe.ExpectColumnValuesToBeInSet(column="customer_id", value_set=ids)
    seconds["relationships set-up"] = time.perf_counter() - started
    validate("relationships", {"relationships(customer_id)": relationships})
    seconds["relationships"] += seconds.pop("relationships set-up")
    return {name: verdict[name] for name in CHECKS}, seconds


def timed(run: Any, *args: Any) -> tuple[float, Any]:
    """Wall time of `run(*args)` and what it returned."""
    started = time.perf_counter()
    out = run(*args)
    return time.perf_counter() - started, out
