"""Time `governance.evaluate` on a pipeline, against the upstream walk it starts from.

Builds, in a temporary STEWARD_HOME: a synced lake table `lake.crm.customers` (email
tagged pii.email) and a policy masking it for the ETL role; then a chain of `--depth`
jobs, each reading the dataset below it (the first reads customers) and writing the
next, with `--columns` columns stated as IDENTITY column lineage (email among them, so
personal data flows the whole way), each job run `--runs` times, all ingested as real
OpenLineage events posted by the ETL principal. Then times, for the top dataset:

- `lineage_graph` upstream at depth all: the walk the evaluation starts from (the peer);
- `evaluate` with every run judged and the personal data traced;

and prints the median of `--samples` timings of each, and their ratio.

    python bench/governance_evaluate.py [--depth 10] [--runs 20] [--columns 20] [--samples 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.catalog.sync import sync
from steward.catalog.views import resolve_dataset
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.governance.evaluate import evaluate
from steward.identity.models import Principal
from steward.lineage.graph import lineage_graph
from steward.lineage.ingest import ingest, parse_events
from steward.lineage.nodes import Node, dataset_names
from steward.policy.versions import apply

POLICY = """\
roles:
  etl: {groups: [etl]}
grants:
  - roles: [etl]
    select: ["lake.crm.*"]
masks:
  - columns: ["tag:pii.email"]
    mask: email
"""
ETL = Principal(user="svc-etl", groups=frozenset({"etl"}), scopes=frozenset({"lineage:write"}))
ADMIN = Principal(user="admin", is_admin=True)
IDENTITY = {"type": "DIRECT", "subtype": "IDENTITY", "masking": False}
PRODUCER = "https://example.com/bench"


def _lake(steward: Steward, columns: list[str]) -> tuple[str, str]:
    schema = Schema(
        *(NestedField(i + 1, name, StringType()) for i, name in enumerate(columns)),
        NestedField(len(columns) + 1, "id", LongType()),
    )
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    table = catalog.create_table("crm.customers", schema)
    table.append(
        pa.table(
            {**{c: ["x"] for c in columns}, "id": pa.array([1], pa.int64())},
            schema=schema.as_arrow(),
        )
    )
    source = steward.source("lake")
    try:
        sync(steward.store, source)
    finally:
        source.close()
    edit = DatasetEdit(columns={"email": ColumnEdit(addTags=["pii.email"])})
    edit_dataset(steward.store, "lake.crm.customers", edit, ADMIN)
    with steward.store.read() as conn:
        dataset_id = resolve_dataset(conn, "lake.crm.customers")
        names = dataset_names(conn, [dataset_id])[dataset_id]
    return names["namespace"], names["name"]


def _event(
    job: int, source: tuple[str, str], target: tuple[str, str], columns: list[str], when: datetime
) -> dict[str, Any]:
    ns, name = source
    return {
        "eventType": "COMPLETE",
        "eventTime": when.isoformat() + "Z",
        "producer": PRODUCER,
        "run": {"runId": str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": "etl", "name": f"step_{job}", "facets": {}},
        "inputs": [{"namespace": ns, "name": name, "facets": {}}],
        "outputs": [
            {
                "namespace": target[0],
                "name": target[1],
                "facets": {
                    "schema": {
                        "_producer": PRODUCER,
                        "_schemaURL": "x",
                        "fields": [{"name": c, "type": "VARCHAR"} for c in columns],
                    },
                    "columnLineage": {
                        "_producer": PRODUCER,
                        "_schemaURL": "x",
                        "fields": {
                            c: {
                                "inputFields": [
                                    {
                                        "namespace": ns,
                                        "name": name,
                                        "field": c,
                                        "transformations": [IDENTITY],
                                    }
                                ]
                            }
                            for c in columns
                        },
                    },
                },
            }
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    columns = ["email", *(f"c{i}" for i in range(args.columns - 1))]
    with tempfile.TemporaryDirectory() as home:
        steward = Steward(Settings(home=Path(home)))
        steward.upgrade()
        customers = _lake(steward, columns)
        apply(steward.store, POLICY, actor=ADMIN)
        # After the apply, so every run is judged by it (ingest() takes any event time).
        start = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
        events = []
        for run in range(args.runs):
            previous = customers
            for job in range(args.depth):
                target = ("wh", f"layer_{job}")
                when = start + timedelta(seconds=run, microseconds=job + 1)
                events.append(_event(job, previous, target, columns, when))
                previous = target
        ingest(steward.store, parse_events(events, batch=True), actor=ETL)
        top = f"dataset:wh:layer_{args.depth - 1}"
        with steward.store.read() as conn:
            top_id = resolve_dataset(conn, top)
        node = Node("dataset", top_id, "wh", f"layer_{args.depth - 1}")
        walk, judged = [], []
        evaluation = None
        for _ in range(args.samples):
            began = time.perf_counter()
            with steward.store.read() as conn:
                lineage_graph(conn, node, depth=None, direction="upstream")
            walk.append(time.perf_counter() - began)
            began = time.perf_counter()
            evaluation = evaluate(steward, top)
            judged.append(time.perf_counter() - began)
        steward.close()
    assert evaluation is not None
    w, e = statistics.median(walk), statistics.median(judged)
    print(
        f"depth {args.depth}, {args.runs} runs a job, {args.columns} columns:"
        f" {len(evaluation.steps)} steps, {len(evaluation.findings)} findings,"
        f" {len(evaluation.pii_flows)} PII flows"
    )
    print(f"upstream walk (peer): {w * 1000:.1f} ms; evaluate: {e * 1000:.1f} ms; {e / w:.0f}x")


if __name__ == "__main__":
    main()
