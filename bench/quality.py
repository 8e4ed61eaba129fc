"""Ten typical data-quality checks on 10,000,000 rows: Steward vs a DuckDB floor, soda, GX.

The checks (not_null x2, unique, accepted_values, relationships, row_count, regex, mean,
freshness, min) run on `orders` (several Parquet files with known defects, registered as
`lake.shop.orders` in the embedded Iceberg lake; `lake.shop.customers` holds the keys
of `relationships`), four ways, in one run:

- floor: two hand-written DuckDB queries over the same files (one aggregate scan, one
  anti-join) on a fresh in-memory connection;
- Steward: the checks YAML parsed and `run_dataset` (Iceberg planning, the locked engine,
  its scan, grouped uniqueness query and anti-join, which bring back failing rows, and
  the lookup of the orphans' rows; keeping the table's numbers for the next gate);
- soda-core 4 (`soda-core` + `soda-duckdb`): the same checks as a contract, verified on
  a fresh in-memory DuckDB whose `orders`/`customers` are views over the same files;
- Great Expectations 1.x on pandas: the files read into DataFrames (timed apart), then
  the same checks as expectations; `relationships` is an in-set expectation over the
  1,000,000 customer ids, validated and timed on its own (see `run_gx`).

Each timing is the wall time of one whole check run with a warm file cache: best of
`--repeat` for the floor, Steward and soda (taking turns, round by round), GX once.
Prints seconds and ratios (aims: Steward at most 1.1x the floor, no slower than soda,
30x faster than GX on pandas) and every tool's verdict, which must agree on which
checks fail.

Data is cached in `--data` (re-used while `--rows` is the same; `--fresh` rewrites it);
the Steward home is a temporary directory, removed unless `--keep`.

soda-core, soda-duckdb and great-expectations install beside Steward (the `bench` extra):

    pip install -e '.[bench]'
    python bench/quality.py [--rows 10000000] [--repeat 3] [--data DIR] [--skip-gx]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quality_fixture import (  # bench/ is on sys.path when run
    CHECKS,
    Verdict,
    cached_data,
    make_lake,
    read_pandas,
    run_floor,
    run_gx,
    run_soda,
    run_steward,
)


def best(runs: dict[str, Callable[[], Verdict]], repeat: int) -> dict[str, tuple[float, Verdict]]:
    """Each run's shortest of `repeat` timings after one warm-up, and its verdict.

    The runs take turns (one of each per round), so a busy moment of the machine falls
    on all of them rather than on one.
    """
    verdicts = {name: run() for name, run in runs.items()}  # warm the file cache
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            verdicts[name] = run()
            times[name].append(time.perf_counter() - started)
    return {name: (min(times[name]), verdicts[name]) for name in runs}


def failing(verdict: Verdict) -> list[str]:
    return [name for name, (status, _) in verdict.items() if status == "fail"]


def show(number: Any) -> str:
    if number is None:
        return "-"
    if isinstance(number, float):
        return f"{number:.4g}"
    return str(number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "steward-bench-quality"
    )
    parser.add_argument("--fresh", action="store_true", help="rewrite the cached data")
    parser.add_argument("--keep", action="store_true", help="keep the Steward home")
    parser.add_argument("--skip-gx", action="store_true", help="no Great Expectations run")
    args = parser.parse_args()
    started = time.perf_counter()
    data, written = cached_data(args.data, args.rows, fresh=args.fresh)
    print(
        f"{data.rows:,} orders in {len(data.orders)} Parquet files, {len(data.customers)}"
        f" customers file ({'written' if written else 'cached'} in {args.data},"
        f" {time.perf_counter() - started:.1f} s)"
    )
    home = Path(tempfile.mkdtemp(prefix="steward-bench-quality-"))
    try:
        steward = make_lake(home, data)
        rows: list[tuple[str, float, str]] = []
        verdicts: dict[str, Verdict] = {}
        timed = best(
            {
                "floor": lambda: run_floor(data.orders, data.customers),
                "Steward": lambda: run_steward(steward),
                "soda": lambda: run_soda(data.orders, data.customers),
            },
            args.repeat,
        )
        (
            (floor_s, verdicts["floor"]),
            (steward_s, verdicts["Steward"]),
            (soda_s, verdicts["soda"]),
        ) = (
            timed["floor"],
            timed["Steward"],
            timed["soda"],
        )
        rows.append(("floor: DuckDB, one aggregate scan + one anti-join", floor_s, "best of"))
        rows.append(("Steward run_dataset (samples of failures included)", steward_s, "best of"))
        rows.append(("soda-core 4 + soda-duckdb, contract", soda_s, "best of"))
        gx_s = None
        if not args.skip_gx:
            started = time.perf_counter()
            orders, customers = read_pandas(data.orders, data.customers)
            read_s = time.perf_counter() - started
            verdicts["GX"], parts = run_gx(orders, customers)
            del orders, customers
            gx_s = sum(parts.values())
            single, related = parts["single-table"], parts["relationships"]
            rows.append(("GX 1.x pandas: read Parquet into DataFrames", read_s, "once"))
            rows.append(("GX: nine single-table expectations", single, "once"))
            rows.append(("GX: relationships (in-set of 1M ids)", related, "once"))
            rows.append(("GX: ten expectations (read not included)", gx_s, "once"))
        steward.close()

        print(f"\n{'setup':<52} {'seconds':>8} {'vs floor':>9}  timing")
        for name, seconds, how in rows:
            timing = f"best of {args.repeat}" if how == "best of" else how
            print(f"{name:<52} {seconds:8.3f} {seconds / floor_s:9.2f}  {timing}")
        print(
            f"\nSteward/floor {steward_s / floor_s:.2f} (aim <= 1.1)"
            f"   Steward/soda {steward_s / soda_s:.2f} (aim <= 1.0)"
            + (
                f"   GX/Steward {gx_s / steward_s:.1f} (aim >= 30;"
                f" {parts['single-table'] / steward_s:.1f} without relationships)"
                if gx_s is not None
                else ""
            )
        )
        tools = list(verdicts)
        print(f"\n{'check':<28} {'expected':>9}" + "".join(f" {t:>13}" for t in tools))
        for name, (expected, number) in CHECKS.items():
            cells = "".join(
                f" {verdicts[t][name][0] + ' ' + show(verdicts[t][name][1]):>13}" for t in tools
            )
            print(f"{name:<28} {expected + ' ' + show(number):>9}{cells}")
        want = [name for name, (status, _) in CHECKS.items() if status == "fail"]
        for tool in tools:
            got = failing(verdicts[tool])
            word = "as expected" if got == want else f"DIFFERS from {want}"
            print(f"{tool} fails {len(got)}: {', '.join(got)} ({word})")
        if "GX" in verdicts:
            print("(GX counts both rows of a duplicate pair as unexpected; the others, extra rows)")
    finally:
        if args.keep:
            print(f"Steward home kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
