"""An embedded lake with many empty Iceberg tables, for the catalog sync benches.

`make_iceberg_catalog(path, tables, columns)` builds the embedded lake layout under
`path` (`path/lakehouse/catalog.db`, `path/lakehouse/warehouse`), so the source
`open_iceberg("lake", {"embedded": True}, home=path)` sees it, and returns the
pyiceberg properties of the same catalog for a `[sources.NAME]` with `properties`.

Run on its own, it times `list_tables()` over such a catalog:

    python bench/lakehouse_fixture.py [--tables 2000] [--columns 30] [--dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from steward.connectors.iceberg import LAKE_CATALOG_NAME, lake_catalog, open_iceberg

NAMESPACES = 20


def make_iceberg_catalog(path: Path, tables: int, columns: int) -> dict[str, str]:
    """Create `tables` tables of `columns` columns (no data) over ~20 namespaces under `path`.

    Returns the catalog's pyiceberg properties (`type`, `uri`, `warehouse`); its
    catalog name is `lake`.
    """
    from pyiceberg.schema import Schema
    from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestampType

    kinds = (LongType(), StringType(), DoubleType(), TimestampType())
    schema = Schema(
        *(
            NestedField(
                field_id=index + 1,
                name="id" if index == 0 else f"column_{index}",
                field_type=kinds[index % len(kinds)],
                required=index == 0,
                doc=f"column {index} of the bench table",
            )
            for index in range(columns)
        )
    )
    catalog = lake_catalog(path)
    try:
        namespaces = [f"domain_{index:02d}" for index in range(min(NAMESPACES, tables))]
        for namespace in namespaces:
            catalog.create_namespace_if_not_exists(namespace)
        for index in range(tables):
            namespace = namespaces[index % len(namespaces)]
            catalog.create_table(
                (namespace, f"table_{index:05d}"),
                schema,
                properties={"comment": f"bench table {index}", "owner": f"team_{index % 7}"},
            )
        return {
            "type": "sql",
            "uri": str(catalog.properties["uri"]),
            "warehouse": str(catalog.properties["warehouse"]),
        }
    finally:
        catalog.close()


def main() -> None:
    """Build the catalog, then time `list_tables()` on it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="keep the catalog here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-lake-") as scratch:
        home = args.dir or Path(scratch)
        started = time.perf_counter()
        make_iceberg_catalog(home, args.tables, args.columns)
        built = time.perf_counter() - started
        print(f"built {args.tables} tables x {args.columns} columns in {built:.1f} s")
        timings = []
        for _ in range(args.runs):
            source = open_iceberg(LAKE_CATALOG_NAME, {"embedded": True}, home=home)
            started = time.perf_counter()
            listed = source.list_tables()
            timings.append(time.perf_counter() - started)
            source.close()
            assert len(listed) == args.tables
        print(
            f"list_tables(): {len(listed)} tables,"
            f" median {statistics.median(timings) * 1000:.1f} ms"
            f" (first {timings[0] * 1000:.1f} ms, {args.runs} runs, each on a new source)"
        )
        source = open_iceberg(LAKE_CATALOG_NAME, {"embedded": True}, home=home)
        started = time.perf_counter()
        for ref in listed[:100]:
            source.load_table(ref)
        per_table = (time.perf_counter() - started) / min(100, len(listed))
        source.close()
        print(f"load_table(): {per_table * 1000:.1f} ms per table (first 100)")


if __name__ == "__main__":
    main()
