"""Publishing a branch that appends 100,000 rows to a 10,000,000-row table: incremental vs full.

The table and the ten checks are bench/quality.py's (`quality_fixture`), with thresholds
that tolerate the defects main already has (a team's known backlog: 10 null ids, 5
duplicate ids ...), so the verdict turns on what the branch adds. After one
`steward quality run` on main (which keeps main's numbers), two branches are published:

- `clean`: 100,000 new orders (new ids, known customers, valid values, newer times);
- `defects`: the same plus 20 ids main already has, 15 orphans, 10 null ids and 5 bad
  statuses: blocked.

Each is published three ways, main reset between runs:
- Steward's incremental gate (`publish`: the appended file alone + main's numbers);
- Steward's full re-check (`publish` with no numbers kept for main: every check in full
  over the 10.1M rows of the branch snapshot);
- soda-core 4's full re-check of the branch snapshot's files (its contract on DuckDB).

Prints seconds (best of `--repeat`), full/incremental ratios (aim: at least 5x) and
whether the incremental and the full verdicts agree (moved or not, every check's status
and failure count).

    pip install -e '.[bench]'
    python bench/quality_incremental.py [--rows 10000000] [--appended 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_fixture import (
    CUSTOMERS,
    DEFECTS,
    EMAIL,
    MEAN,
    NEWEST,
    STATUSES,
    cached_data,
    make_lake,
    run_soda,
)

# The ten checks of bench/quality.py; thresholds tolerate main's known defects.
GATE_CHECKS = f"""
version: 1
datasets:
  - name: lake.shop.orders
    checks:
      - row_count: {{min: 1}}
      - freshness: {{column: updated_at, max_age: 3650d}}
    columns:
      - name: order_id
        checks:
          - not_null: {{error_if: ">{DEFECTS["null_order_id"]}"}}
          - unique: {{error_if: ">{DEFECTS["duplicate_order_id"]}"}}
      - name: customer_id
        checks:
          - not_null
          - relationships: {{to: lake.shop.customers, field: id, error_if: ">{DEFECTS["orphan"]}"}}
      - name: status
        checks:
          - accepted_values:
              values: [{", ".join(STATUSES)}]
              error_if: ">{DEFECTS["bad_status"]}"
      - name: email
        checks:
          - regex: {{pattern: '{EMAIL}', error_if: ">{DEFECTS["bad_email"]}"}}
      - name: amount
        checks:
          - mean: {{min: {MEAN[0]}, max: {MEAN[1]}}}
          - min: {{min: -5}}
"""


def appended_rows(start: int, count: int, *, defects: bool) -> Any:
    """`count` new orders from id `start`; with `defects`, a few bad ones among them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = np.arange(start, start + count, dtype=np.int64)
    order_id = ids.copy()
    missing = np.zeros(count, dtype=bool)
    customer_id = (ids * 7919) % CUSTOMERS
    statuses = pc.take(pa.array(STATUSES), pa.array(ids % len(STATUSES)))
    if defects:
        order_id[0:20] = np.arange(1000, 1020)  # ids main already has
        customer_id[100:115] = CUSTOMERS + np.arange(15)  # orphans
        missing[200:210] = True  # null ids
        bad = np.zeros(count, dtype=bool)
        bad[300:305] = True
        statuses = pc.if_else(pa.array(bad), pa.scalar("lost"), statuses)
    text = pc.cast(pa.array(ids), pa.string())
    newest = np.datetime64(NEWEST, "us")
    return pa.table(
        {
            "order_id": pa.array(order_id, mask=missing),
            "customer_id": pa.array(customer_id),
            "status": statuses,
            "amount": pa.array(((ids * 7919) % 10_000) / 100.0 + 0.5),
            "email": pc.binary_join_element_wise("u", text, "@example.com", ""),
            "updated_at": pa.array(
                (newest + (ids % 3600).astype("timedelta64[s]")).astype("datetime64[us]")
            ),
        }
    )


def best(run: Callable[[], Any], repeat: int, reset: Callable[[], None]) -> tuple[float, Any]:
    """The fastest of `repeat` runs (`reset` before each, not timed), and its outcome."""
    fastest, outcome = float("inf"), None
    for _ in range(repeat):
        reset()
        started = time.perf_counter()
        outcome = run()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, outcome


def verdict(outcome: Any) -> tuple[bool, list[tuple[str, str, int | None]]]:
    """Moved or not, and every check's status and failure count."""
    return outcome.moved, [(r.name, r.status, r.failures) for r in outcome.results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--appended", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/steward-bench-quality"))
    parser.add_argument("--keep", action="store_true", help="keep the Steward home")
    args = parser.parse_args()

    import sqlalchemy as sa

    from steward.connectors.iceberg import lake_catalog
    from steward.engines.iceberg_files import plan_iceberg
    from steward.quality.load import parse_checks
    from steward.quality.publish import publish
    from steward.quality.run import run_dataset
    from steward.store.schema import quality_states

    data, written = cached_data(args.data, args.rows)
    print(
        f"data: {args.rows:,} orders in {len(data.orders)} files"
        f" ({'written' if written else 'cached'})"
    )
    home = Path(tempfile.mkdtemp(prefix="steward-bench-incremental-"))
    steward = make_lake(home, data)
    (checks,) = parse_checks(GATE_CHECKS).datasets
    try:
        started = time.perf_counter()
        results = run_dataset(steward, checks)
        print(
            "steward quality run on main (keeps main's numbers):"
            f" {time.perf_counter() - started:.2f} s,"
            f" failing: {[r.name for r in results if r.status == 'fail'] or 'none'}"
        )
        with steward.store.read() as conn:
            kept = [dict(row._mapping) for row in conn.execute(sa.select(quality_states))]
        catalog = lake_catalog(home)
        table = catalog.load_table("shop.orders")
        main = table.current_snapshot().snapshot_id

        def reset(numbers: bool) -> Callable[[], None]:
            def go() -> None:
                current = catalog.load_table("shop.orders")
                if current.current_snapshot().snapshot_id != main:
                    current.manage_snapshots().set_current_snapshot(main).commit()
                with steward.store.write() as conn:
                    conn.execute(quality_states.delete())
                    if numbers:
                        conn.execute(quality_states.insert(), kept)

            return go

        rows = []
        for scenario, defects in (("clean", False), ("defects", True)):
            table = catalog.load_table("shop.orders")
            table.manage_snapshots().create_branch(main, scenario).commit()
            appended = appended_rows(args.rows + 10, args.appended, defects=defects)
            catalog.load_table("shop.orders").append(appended, branch=scenario)
            snapshot = catalog.load_table("shop.orders").metadata.refs[scenario].snapshot_id
            files = plan_iceberg(
                catalog.load_table("shop.orders"), name="orders", snapshot_id=snapshot
            )

            def gate(scenario: str = scenario) -> Any:
                return publish(steward, checks, scenario)

            incremental, fast = best(gate, args.repeat, reset(numbers=True))
            full, slow = best(gate, args.repeat, reset(numbers=False))
            soda, _ = best(
                lambda files=files: run_soda(list(files.files), data.customers),
                args.repeat,
                lambda: None,
            )
            reset(numbers=True)()
            same = verdict(fast) == verdict(slow)
            rows.append((scenario, incremental, full, soda, fast, slow, same))
            print(f"  {scenario}: incremental says {fast.how}")
            print(f"  {scenario}: full says        {slow.how}")

        print()
        print(
            f"{'branch':<9} {'incremental':>11} {'Steward full':>12} {'soda full':>9}"
            f" {'full/incr':>9} {'soda/incr':>9}  verdict"
        )
        for scenario, incremental, full, soda, fast, _, same in rows:
            decided = (
                "moved" if fast.moved else "blocked: " + ", ".join(r.name for r in fast.blocking)
            )
            print(
                f"{scenario:<9} {incremental:>10.3f}s {full:>11.3f}s {soda:>8.3f}s"
                f" {full / incremental:>8.1f}x {soda / incremental:>8.1f}x"
                f"  {decided}; incremental == full: {same}"
            )
        print(f"\n(best of {args.repeat}; publish() end to end: planning, checks, audit, lineage)")
        if not all(row[-1] for row in rows):
            raise SystemExit("the incremental and full verdicts differ")
    finally:
        steward.close()
        if args.keep:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
