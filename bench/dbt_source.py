"""Seconds to list and to load a large dbt project's artifacts with the dbt source.

Writes a synthetic target directory (`--models` models in a chain, 10 documented
columns each, compiled SQL, catalog.json) and times `list_tables()` (parse and
fingerprint everything), loading every table (column lineage through sqlglot) and a
second, cached `list_tables()`. Prints each against its peer: `json.loads` of the same
artifacts, the floor any reader of them pays.

    python bench/dbt_source.py [--models 2000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from steward.connectors.dbt import open_dbt

COLUMNS = [f"c{i}" for i in range(10)]


def write_target(target: Path, models: int) -> None:
    nodes: dict[str, Any] = {}
    catalog: dict[str, Any] = {}
    for i in range(models):
        uid = f"model.p.m{i}"
        first = ", ".join(f"{j} as {c}" for j, c in enumerate(COLUMNS))
        source = f'"wh"."main"."m{i - 1}"' if i else f"(select {first}) as seed"
        nodes[uid] = {
            "unique_id": uid,
            "resource_type": "model",
            "name": f"m{i}",
            "database": "wh",
            "schema": "main",
            "alias": f"m{i}",
            "config": {"materialized": "table", "meta": {"owner": "a@example.com"}},
            "depends_on": {"nodes": [f"model.p.m{i - 1}"] if i else []},
            "description": f"Model {i}.",
            "tags": ["bench"],
            "columns": {c: {"name": c, "description": f"Column {c}."} for c in COLUMNS},
            "compiled_code": f"select {', '.join(COLUMNS)} from {source}",
        }
        catalog[uid] = {
            "metadata": {"database": "wh", "schema": "main", "name": f"m{i}"},
            "columns": {
                c: {"name": c, "type": "INTEGER", "index": j} for j, c in enumerate(COLUMNS)
            },
        }
    metadata = {"project_name": "p", "adapter_type": "duckdb"}
    (target / "manifest.json").write_text(json.dumps({"metadata": metadata, "nodes": nodes}))
    (target / "catalog.json").write_text(json.dumps({"nodes": catalog, "sources": {}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2000)
    args = parser.parse_args()
    target = Path(tempfile.mkdtemp()) / "target"
    target.mkdir()
    write_target(target, args.models)

    start = time.perf_counter()
    for name in ("manifest.json", "catalog.json"):
        json.loads((target / name).read_text())
    floor = time.perf_counter() - start

    source = open_dbt("p", {"target": str(target), "namespace": "duckdb:///wh.duckdb"}, home=target)
    start = time.perf_counter()
    refs = list(source.list_tables())
    listed = time.perf_counter() - start
    start = time.perf_counter()
    for ref in refs:
        source.load_table(ref)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    list(source.list_tables())
    cached = time.perf_counter() - start

    print(
        f"{args.models:,} models x {len(COLUMNS)} columns; json.loads of the artifacts {floor:.2f}s"
    )
    print(f"list_tables (parse + fingerprint)  {listed:6.2f}s  {listed / floor:5.1f}x json.loads")
    print(f"load every table (column lineage)  {loaded:6.2f}s  {loaded / floor:5.1f}x json.loads")
    print(f"list_tables again (unchanged)      {cached:6.4f}s  {cached / floor:5.3f}x json.loads")


if __name__ == "__main__":
    main()
