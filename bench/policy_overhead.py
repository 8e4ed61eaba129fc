"""Governed vs raw DuckDB on the same queries over 10,000,000 rows, and the fixed cost.

Writes `lake.bench.people` (10,000,000 rows in Parquet files registered in an Iceberg
table of the embedded lake with pyiceberg `add_files`) and `lake.bench.regions`, then
times each query (scan, filter, join, group by) three ways:

- raw: plain DuckDB over the same Parquet files, the SQL as written;
- governed, clear: `run_query` with every column clear (the path's own cost: catalog
  lookup, Iceberg planning, rewrite, a fresh locked-down connection, audit, lineage);
- governed, masked: email masked, SSN redacted, a row filter (what a policy costs).

Then the fixed cost per query of `govern`, the production pipeline before the engine:
parse, refuse, qualify, decide, secure and verify, on the catalog `run_query` builds
(`query_catalog`), with its column lookups answered from memory (as they are within a
query). Prints each time and the ratio governed/raw (aim: under 1.05 on these queries).

Last, what a governed query costs beyond parse and rewrite and beyond the engine, the
figure issue 17 aims under 2 ms: `run_query` exactly as `POST /api/v1/query` calls it
(`access_for` of an applied policy: email masked, SSN redacted, a row filter), timing
the engine's `run` and the columns-read analysis (SQL lineage of the query, for the
record) inside each call; fixed = the call - its engine run - its analysis (the least
of `--fixed` calls, as the other figures take the best of `--repeat`) - `govern` with
everything in memory (parse and rewrite). What remains is the catalog and policy lookups, the
decisions (remembered), and the audit record with the query's lineage (group commit).
It runs as `steward serve` runs it: the lineage normaliser is a process of its own
(`lineage_normaliser = "worker"`), so the query's lineage event is appended to the raw
log with its audit record and the graph is built behind (not timed here); the same
figure with the graph built inside each query (`inline`, library callers) follows it.
Beside it, the ceiling of a raw SQLite append measured in the same run (stdlib sqlite3,
one INSERT and one COMMIT a record, as `bench/audit_append.py` measures it): the fixed
cost in raw appends is the figure that holds across machines.

    python bench/policy_overhead.py [--rows 10000000] [--repeat 5] [--fixed 50]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audit_append import raw_sqlite_append  # bench/ is on sys.path when run
from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal
from steward.policy import query as query_module
from steward.policy.access import CallerAccess, ColumnAccess, TableAccess
from steward.policy.query import query_catalog, run_query
from steward.policy.reads import columns_read
from steward.policy.rewrite import Catalog, govern
from steward.policy.statement import AllowList
from steward.policy.versions import apply
from steward.policy.wiring import access_for

FILES = 8
QUERIES = {
    "scan": "SELECT count(*), sum(salary), max(email) FROM people",
    "filter": "SELECT count(*), avg(salary) FROM people WHERE salary > 150000 AND email LIKE 'u1%'",
    "join": "SELECT r.label, count(*) FROM people p JOIN regions r ON r.code = p.region"
    " GROUP BY r.label",
    "group by": "SELECT region, ssn_area, count(*), sum(salary) FROM"
    " (SELECT region, substring(ssn, 1, 3) AS ssn_area, salary FROM people) GROUP BY ALL",
}
PRINCIPAL = Principal(user="bench")
ANALYST = Principal(user="ana", groups=frozenset({"analysts"}))
POLICY = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - {roles: [analyst], select: ["lake.bench.*"]}
masks:
  - {columns: [lake.bench.people.email], mask: email}
  - {columns: [lake.bench.people.ssn], mask: redact}
row_filters:
  - {table: lake.bench.people, roles: [analyst], where: "region <> 'LATAM'"}
"""
AIM_FIXED_MS = 2.0


def write_people(directory: Path, rows: int) -> list[str]:
    directory.mkdir(parents=True)
    paths = []
    per_file = -(-rows // FILES)
    for n in range(FILES):
        start = n * per_file
        count = min(per_file, rows - start)
        ids = pa.array(range(start, start + count), pa.int64())
        text = pc.cast(ids, pa.string())
        table = pa.table(
            {
                "id": ids,
                "email": pc.binary_join_element_wise("u", text, "@example.com", ""),
                "ssn": pc.binary_join_element_wise(
                    pc.cast(pc.add(pc.remainder(ids, 900), 100), pa.string()), text, "-"
                ),
                "region": pc.take(pa.array(["EU", "US", "APAC", "LATAM"]), pc.remainder(ids, 4)),
                "salary": pc.add(pc.remainder(pc.multiply(ids, 7919), 200_000), 20_000),
            }
        )
        path = directory / f"people-{n}.parquet"
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def make_lake(home: Path, rows: int) -> list[str]:
    catalog = lake_catalog(home)
    catalog.create_namespace("bench")
    paths = write_people(home / "data" / "people", rows)
    people = catalog.create_table("bench.people", schema=pq.read_schema(paths[0]))
    people.add_files(paths)
    regions = pa.table(
        {"code": ["EU", "US", "APAC", "LATAM"], "label": ["Europe", "US", "Asia", "Latin America"]}
    )
    catalog.create_table("bench.regions", schema=regions.schema).append(regions)
    catalog.close()
    return paths


def clear(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
    return TableAccess(
        table, True, "grants[0]", tuple(ColumnAccess(c, "clear", "grants[0]") for c, _ in columns)
    )


def masked(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
    if not table.endswith("people"):
        return clear(table, columns)
    masks = {
        "email": ColumnAccess(
            "email",
            "masked",
            "masks[0]",
            "email",
            "regexp_replace({column}, '^(.)[^@]*@', '\\1****@')",
        ),
        "ssn": ColumnAccess("ssn", "masked", "masks[1]", "redact", "'REDACTED'"),
    }
    return TableAccess(
        table,
        True,
        "grants[0]",
        tuple(masks.get(c, ColumnAccess(c, "clear", "grants[0]")) for c, _ in columns),
        row_filters=("region <> 'LATAM'",),
        row_filter_rules=("row_filters[0]",),
    )


def best(run: Callable[[], object], repeat: int) -> float:
    run()  # warm the file cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def fixed_cost(
    steward: Steward, catalog: Catalog, allowed: AllowList, count: int, raw_append_ms: float
) -> None:
    """Print the fixed cost per governed query beyond parse, rewrite and the engine."""
    apply(steward.store, POLICY, actor=None)
    for mode in ("worker", "inline"):
        steward.settings.lineage_normaliser = mode
        fixed_cost_of(steward, catalog, allowed, count, raw_append_ms)


class Timed:
    """`function`, adding the seconds each call takes to `seconds`."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def fixed_cost_of(
    steward: Steward, catalog: Catalog, allowed: AllowList, count: int, raw_append_ms: float
) -> None:
    """The fixed cost with the lineage normaliser as `steward.settings` has it."""
    engine = steward.engine
    engine_run, audit_append, analyse = engine.run, steward.audit.append, query_module.columns_read
    spent, recorded = Timed(engine_run), Timed(audit_append)
    # The columns-read analysis as run inside each call: measured apart, on one parsed
    # query again and again, it comes out faster than on each call's fresh one.
    analysed = Timed(analyse)
    engine.run = spent  # type: ignore[method-assign]
    steward.audit.append = recorded  # type: ignore[method-assign]
    query_module.columns_read = analysed
    mode = steward.settings.lineage_normaliser
    how = "as steward serve" if mode == "worker" else "graph built in each query"
    print(
        f"fixed cost per governed query, run_query as the API calls it ({count} each;"
        f" lineage_normaliser={mode}: {how}):"
    )
    print(
        f"{'query':<10} {'call ms':>8} {'engine':>8} {'parse+':>8} {'reads':>8}"
        f" {'fixed ms':>9} {'vs aim':>7} {'of which:':>11}"
    )
    print(f"{'':<64} audit+lineage")
    remains = []
    for name, sql in QUERIES.items():
        run_query(steward, sql, ANALYST, access_for=access_for(steward, ANALYST))  # warm
        access = access_for(steward, ANALYST)
        calls, engines, records, analyses = [], [], [], []
        for _ in range(count):
            spent.seconds = recorded.seconds = analysed.seconds = 0.0
            started = time.perf_counter()
            run_query(steward, sql, ANALYST, access_for=access_for(steward, ANALYST))
            calls.append(time.perf_counter() - started)
            engines.append(spent.seconds)
            records.append(recorded.seconds)
            analyses.append(analysed.seconds)
        rewrites = []
        for _ in range(count):
            started = time.perf_counter()
            govern(sql, catalog=catalog, access=access, salt="bench", allowed=allowed)
            rewrites.append(time.perf_counter() - started)
        # Each call less its own engine run and its own columns-read analysis.
        beyond = [c - e - a for c, e, a in zip(calls, engines, analyses, strict=True)]
        call_ms = min(calls) * 1000
        engine_ms = min(engines) * 1000
        rewrite_ms = min(rewrites) * 1000
        reads_ms = min(analyses) * 1000
        record_ms = min(records) * 1000
        fixed_ms = min(beyond) * 1000 - rewrite_ms
        remains.append(fixed_ms)
        print(
            f"{name:<10} {call_ms:8.2f} {engine_ms:8.2f} {rewrite_ms:8.2f} {reads_ms:8.2f}"
            f" {fixed_ms:9.2f} {fixed_ms / AIM_FIXED_MS:6.2f}x {record_ms:11.2f}"
        )
    engine.run = engine_run  # type: ignore[method-assign]
    steward.audit.append = audit_append  # type: ignore[method-assign]
    query_module.columns_read = analyse
    mean = statistics.mean(remains)
    print(
        f"fixed cost beyond parse, rewrite and the engine ({mode}): {mean:.2f} ms per query"
        f" (aim {AIM_FIXED_MS:g} ms: {mean / AIM_FIXED_MS:.2f}x; below 1 meets it;"
        f" {mean / raw_append_ms:.0f} raw SQLite appends of {raw_append_ms:.3f} ms, the aim"
        f" is {AIM_FIXED_MS / raw_append_ms:.0f}); 'reads' (the columns-read analysis) is SQL"
        " analysis, not counted in it"
    )
    print(
        f"records a commit: {steward.audit.records / max(steward.audit.groups, 1):.1f};"
        f" decisions made afresh: {steward.query_cache.decisions_made},"
        f" table facts read: {steward.query_cache.facts_read}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fixed", type=int, default=50, help="queries per fixed-cost figure")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="steward-bench-policy-"))
    try:
        steward = Steward(Settings(home=home))
        steward.upgrade()
        started = time.perf_counter()
        paths = make_lake(home, args.rows)
        sync(steward.store, steward.source("lake"))
        print(
            f"{args.rows:,} rows in {len(paths)} Parquet files, set up in"
            f" {time.perf_counter() - started:.1f} s"
        )
        regions = lake_catalog(home).load_table("bench.regions")
        region_files = [
            t.file.file_path.removeprefix("file://") for t in regions.scan().plan_files()
        ]
        raw = duckdb.connect()
        raw.execute(f"CREATE VIEW people AS SELECT * FROM read_parquet({paths!r})")
        raw.execute(f"CREATE VIEW regions AS SELECT * FROM read_parquet({region_files!r})")
        print(
            f"{'query':<10} {'raw s':>8} {'clear s':>8} {'ratio':>6} {'masked s':>9} {'ratio':>6}"
        )
        for name, sql in QUERIES.items():
            raw_s = best(lambda sql=sql: raw.execute(sql).fetchall(), args.repeat)
            clear_s = best(
                lambda sql=sql: run_query(steward, sql, PRINCIPAL, access_for=clear), args.repeat
            )
            masked_s = best(
                lambda sql=sql: run_query(steward, sql, PRINCIPAL, access_for=masked), args.repeat
            )
            print(
                f"{name:<10} {raw_s:8.3f} {clear_s:8.3f} {clear_s / raw_s:6.3f}"
                f" {masked_s:9.3f} {masked_s / raw_s:6.3f}"
            )
        production = query_catalog(steward)
        described = dict(production.columns(sorted(production.names)))
        catalog = Catalog(
            names=production.names,
            columns=lambda names: {n: described[n] for n in names},
            physical=production.physical,
            types=production.types,
            engine_names=production.engine_names,
        )
        access = CallerAccess(masked)
        allowed = AllowList.of(steward.engine)
        govern(
            QUERIES["scan"], catalog=catalog, access=access, salt="bench", allowed=allowed
        )  # warm caches
        fixed = []
        for sql in QUERIES.values():
            count = 500
            started = time.perf_counter()
            for _ in range(count):
                govern(sql, catalog=catalog, access=access, salt="bench", allowed=allowed)
            fixed.append((time.perf_counter() - started) / count)
        mean = statistics.mean(fixed)
        print(
            f"fixed cost (parse, refuse, qualify, decide, secure, verify): {mean * 1000:.3f} ms"
            " per query"
            f" (max {max(fixed) * 1000:.3f} ms); ratio to the 2 ms aim: {mean / 0.002:.2f}"
        )
        # The columns-read analysis for the audit record and lineage, run when run_query
        # records the answer (policy.reads.columns_read): its own cost.
        analysis = []
        for sql in QUERIES.values():
            reading = govern(
                sql, catalog=catalog, access=access, salt="bench", allowed=allowed
            ).reading
            count = 100
            started = time.perf_counter()
            for _ in range(count):
                columns_read(reading)
            analysis.append((time.perf_counter() - started) / count)
        print(
            "columns-read analysis (when the answer is recorded, not in the fixed cost):"
            f" {statistics.mean(analysis) * 1000:.3f} ms per query"
            f" (max {max(analysis) * 1000:.3f} ms)"
        )
        ceiling = raw_sqlite_append(home / "raw-append", 3_000)
        print(f"ceiling: raw SQLite append, 1 a commit: {ceiling:,.0f} records/s")
        fixed_cost(steward, catalog, allowed, args.fixed, 1000 / ceiling)
        steward.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
