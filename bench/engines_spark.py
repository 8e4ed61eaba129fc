"""A governed query and the ten-check quality run on 10,000,000 rows: DuckDB vs Spark.

The shop data of bench/quality.py (`orders`, several Parquet files with known defects,
and `customers`, registered in a Steward home's embedded Iceberg lake) is read four ways:

- DuckDB: `run_query` / `run_dataset` on a Steward whose engine is the embedded DuckDB;
- Spark: the same calls on a Steward whose engine is Spark (`--remote`, default
  `local[2]`: a Spark Connect server Steward starts beside it, as in production);
- plain Spark SQL: the query as written, over the same Parquet files, on the same Spark
  server, with no Steward at all (`spark.read.parquet(files)` and `spark.sql`).

The governed query groups orders by status with the email masked and a row filter
(`status <> 'cancelled'`); the plain one is that answer written by hand (the mask and the
filter in the SQL), so the ratio governed / plain Spark is what governance costs on
Spark (planning, rewrite, audit, lineage, the frames bound into the statement). Each
timing is the best of `--repeat` (after one warm-up when `--repeat` > 1). The quality
run prints each engine's verdicts, which must agree.

    python bench/engines_spark.py [--rows 10000000] [--repeat 3] [--remote local[2]]
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from quality_fixture import cached_data, make_lake, run_steward  # bench/ is on sys.path
from steward.app import Steward
from steward.config import Settings
from steward.identity.models import Principal
from steward.policy.access import ColumnAccess, TableAccess
from steward.policy.query import run_query

SQL = (
    "SELECT status, count(*) AS orders, sum(amount) AS total, count(DISTINCT email) AS emails"
    " FROM lake.shop.orders GROUP BY status ORDER BY status"
)
MASK = "regexp_replace({column}, '^(.)[^@]*@', '\\1****@')"
FILTER = "status <> 'cancelled'"
ANALYST = Principal(user="bench@example.com", groups=frozenset({"analysts"}))


def access(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
    """Email masked and cancelled orders hidden on `orders`; everything else in clear."""
    masks = {"email": ColumnAccess("email", "masked", "masks[0]", "email", MASK)}
    filtered = table == "lake.shop.orders"
    return TableAccess(
        table=table,
        allowed=True,
        rule="grants[0]",
        columns=tuple(
            masks.get(name, ColumnAccess(name, "clear", "grants[0]"))
            if filtered
            else ColumnAccess(name, "clear", "grants[0]")
            for name, _ in columns
        ),
        row_filters=(FILTER,) if filtered else (),
        row_filter_rules=("row_filters[0]",) if filtered else (),
        describe=True,
    )


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The shortest of `repeat` wall times (after one warm-up when `repeat` > 1), and what
    the last run gave."""
    if repeat > 1:
        run()
    out = None
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - started)
    return min(times), out


def plain_spark(steward: Steward, orders: Sequence[str]) -> Callable[[], list[tuple[Any, ...]]]:
    """The governed query's answer written by hand in Spark SQL over the same files, on the
    Spark server `steward`'s engine uses."""
    from steward.engines.spark import SparkEngine

    engine = steward.engine
    if not isinstance(engine, SparkEngine):
        raise SystemExit("the Spark Steward's engine is not Spark")
    session = engine.session
    # What a Spark user would write to get the same answer: read the files, name them,
    # and write the mask and the filter into the query by hand.
    frame = session.read.parquet(*orders)
    masked = "regexp_replace(email, '^(.)[^@]*@', '$1****@')"
    plain = (
        f"SELECT status, count(*) AS orders, sum(amount) AS total,"
        f" count(DISTINCT {masked}) AS emails FROM {{orders}} WHERE {FILTER}"
        " GROUP BY status ORDER BY status NULLS LAST"
    )

    def run() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in session.sql(plain, orders=frame).collect()]

    return run


def comparable(rows: Any) -> list[tuple[Any, int, float, int]]:
    """(status, orders, total rounded to cents, masked emails): float sums differ in the
    last digits."""
    return [(r[0], int(r[1]), round(float(r[2]), 2), int(r[3])) for r in rows]


def agree(one: tuple[str, Any], other: tuple[str, Any]) -> bool:
    """Same verdict and number; floats (a mean) equal but for their last digits."""
    if isinstance(one[1], float) and isinstance(other[1], float):
        return one[0] == other[0] and math.isclose(one[1], other[1], rel_tol=1e-9)
    return one == other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--remote", default="local[2]")
    parser.add_argument("--skip-quality", action="store_true", help="time the query only")
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "steward-bench-quality"
    )
    args = parser.parse_args()

    data, written = cached_data(args.data, args.rows)
    state = "written" if written else "cached"
    print(f"data: {data.rows:,} rows in {len(data.orders)} files ({state})")
    home = Path(tempfile.mkdtemp(prefix="steward-bench-spark-"))
    make_lake(home, data).close()
    limits = {"query_timeout_seconds": 3600.0, "query_memory_limit": "2GB"}
    duck = Steward(Settings(home=home, **limits))
    spark = Steward(Settings(home=home, engine="spark", spark_remote=args.remote, **limits))
    try:
        started = time.perf_counter()
        spark.engine.session  # noqa: B018 (start or connect before timing)
        print(f"spark: session on {args.remote} ready in {time.perf_counter() - started:.1f} s")

        def governed(steward: Steward) -> Callable[[], Any]:
            return lambda: run_query(steward, SQL, ANALYST, access_for=access).rows

        timings = {
            "governed query, DuckDB": best(governed(duck), args.repeat),
            "governed query, Spark": best(governed(spark), args.repeat),
            "plain Spark SQL, same files": best(plain_spark(spark, data.orders), args.repeat),
        }
        for label, (seconds, _) in timings.items():
            print(f"{label:32} {seconds:8.2f} s")
        governed_rows = comparable(timings["governed query, Spark"][1])
        plain_rows = comparable(timings["plain Spark SQL, same files"][1])
        duck_rows = comparable(timings["governed query, DuckDB"][1])
        print(f"rows: {governed_rows}")
        print(
            f"same rows (status, orders, total): Spark vs plain {governed_rows == plain_rows},"
            f" Spark vs DuckDB {governed_rows == duck_rows}"
        )
        ratio = timings["governed query, Spark"][0] / timings["plain Spark SQL, same files"][0]
        print(f"governance overhead on Spark: {ratio:.2f}x plain Spark SQL")
        print(
            "Spark / DuckDB, governed:"
            f" {timings['governed query, Spark'][0] / timings['governed query, DuckDB'][0]:.2f}x"
        )

        if args.skip_quality:
            return
        quality = {
            "ten checks, DuckDB": best(lambda: run_steward(duck), args.repeat),
            "ten checks, Spark": best(lambda: run_steward(spark), args.repeat),
        }
        for label, (seconds, _) in quality.items():
            print(f"{label:32} {seconds:8.2f} s")
        verdicts = {label: verdict for label, (_, verdict) in quality.items()}
        duck_verdict, spark_verdict = verdicts.values()
        for check in duck_verdict:
            same = "same" if agree(duck_verdict[check], spark_verdict[check]) else "DIFFERS"
            duckdb, on_spark = str(duck_verdict[check]), str(spark_verdict[check])
            print(f"  {check:28} duckdb {duckdb:32} spark {on_spark:32} {same}")
    finally:
        duck.close()
        spark.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
