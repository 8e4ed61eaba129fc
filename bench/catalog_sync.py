"""Seconds for `catalog sync` of an Iceberg catalog with 2,000 tables x 30 columns.

Builds (once, cached under bench/out/) the embedded lake with that many tables via
pyiceberg, then times, each on a fresh store: the first sync (every table loaded and
written) and a second sync of the unchanged catalog (listing only), and a third after
one table changed (one loaded). There is no named peer: DataHub and OpenMetadata need
their ingestion framework and a running server for the same job.

    python bench/catalog_sync.py [--tables 2000] [--columns 30] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lakehouse_fixture import make_iceberg_catalog  # bench/ is on sys.path when run
from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings

OUT = Path(__file__).parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--url", help="a PostgreSQL store URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    cached = OUT / f"lake-{args.tables}x{args.columns}"
    if not (cached / "lakehouse" / "catalog.db").exists():
        shutil.rmtree(cached, ignore_errors=True)
        started = time.perf_counter()
        make_iceberg_catalog(cached, args.tables, args.columns)
        print(f"built the lake in {time.perf_counter() - started:.1f} s (cached in {cached})")
    home = Path(tempfile.mkdtemp(prefix="steward-bench-sync-"))
    shutil.copytree(cached / "lakehouse", home / "lakehouse")
    steward = Steward(Settings(home=home, database_url=args.url))
    steward.upgrade()
    source = steward.source("lake")
    try:
        timings = []
        for label in ("first sync", "second sync (unchanged)"):
            started = time.perf_counter()
            result = sync(steward.store, source)
            timings.append(time.perf_counter() - started)
            print(
                f"{label:<26} {timings[-1]:7.2f} s  ({result.added} new,"
                f" {result.changed} changed, {result.unchanged} unchanged)"
            )
        from pyiceberg.types import StringType

        from steward.connectors.iceberg import lake_catalog

        catalog = lake_catalog(home)
        table = catalog.load_table("domain_00.table_00000")
        with table.update_schema() as update:
            update.add_column("added_for_bench", StringType())
        catalog.close()
        started = time.perf_counter()
        result = sync(steward.store, source)
        seconds = time.perf_counter() - started
        print(f"{'sync after one change':<26} {seconds:7.2f} s  ({result.changed} changed)")
        print(
            f"{args.tables} tables x {args.columns} columns on {steward.store.dialect}:"
            f" first {timings[0]:.2f} s, unchanged {timings[1]:.2f} s"
            f" ({timings[0] / timings[1]:.0f}x cheaper)"
        )
    finally:
        source.close()
        steward.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
