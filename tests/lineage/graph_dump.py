"""The lineage graph as a canonical value: what two stores must agree on to hold one graph.

Datasets, jobs, runs with their states, edges and column edges, named by namespace and
name (never by id, which differs between stores), with the times the events stated.
Creation times of rows are left out: they are when a store first heard of a name.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from steward.store import Store
from steward.store.schema import (
    column_edges,
    dataset_versions,
    datasets,
    job_versions,
    jobs,
    lineage_edges,
    namespaces,
    run_io,
    run_states,
    runs,
)


def _names(conn: sa.Connection, table: sa.Table) -> dict[int, str]:
    query = sa.select(table.c.id, namespaces.c.name, table.c.name).join(
        namespaces, namespaces.c.id == table.c.namespace_id
    )
    return {row[0]: f"{row[1]}/{row[2]}" for row in conn.execute(query)}


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def graph_dump(store: Store) -> dict[str, Any]:
    """Every fact of the graph, sorted, as plain values."""
    with store.read() as conn:
        ds, jb = _names(conn, datasets), _names(conn, jobs)
        schema = dict(
            conn.execute(sa.select(dataset_versions.c.id, dataset_versions.c.schema_hash)).all()
        )
        version = dict(conn.execute(sa.select(job_versions.c.id, job_versions.c.version)).all())
        dataset_rows = sorted(
            (
                ds[r.id],
                str(r.updated_at),
                r.description,
                r.lifecycle_state,
                str(r.deleted_at),
                _json(r.facets),
                schema.get(r.current_version_id),
            )
            for r in conn.execute(sa.select(datasets))
        )
        job_rows = sorted(
            (
                jb[r.id],
                str(r.updated_at),
                r.description,
                r.job_type,
                _json(r.facets),
                r.latest_run_id,
                r.io_run_id,
                str(r.io_time),
                version.get(r.current_version_id),
            )
            for r in conn.execute(sa.select(jobs))
        )
        run_rows = sorted(
            (
                r.run_id,
                jb[r.job_id],
                r.state,
                str(r.state_time),
                str(r.started_at),
                str(r.ended_at),
                _json(r.facets),
                r.parent_run_id,
                version.get(r.job_version_id),
            )
            for r in conn.execute(sa.select(runs))
        )
        state_rows = sorted(
            (r.run_id, r.state, str(r.event_time)) for r in conn.execute(sa.select(run_states))
        )
        io_rows = sorted(
            (r.run_id, ds[r.dataset_id], r.direction, str(r.event_time))
            for r in conn.execute(sa.select(run_io))
        )
        edge_rows = sorted(
            (
                jb[r.job_id],
                ds[r.dataset_id],
                r.direction,
                str(r.valid_from),
                str(r.valid_to),
                r.run_id,
            )
            for r in conn.execute(sa.select(lineage_edges))
        )
        column_rows = sorted(
            (
                jb[r.job_id],
                ds[r.in_dataset_id],
                r.in_field,
                ds[r.out_dataset_id],
                str(r.out_field),
                _json(r.transformations),
                str(r.valid_from),
                str(r.valid_to),
                r.run_id,
            )
            for r in conn.execute(sa.select(column_edges))
        )
    return {
        "datasets": dataset_rows,
        "jobs": job_rows,
        "runs": run_rows,
        "run_states": state_rows,
        "run_io": io_rows,
        "edges": edge_rows,
        "column_edges": column_rows,
    }


def workload(jobs_count: int = 6, runs_per_job: int = 4, seed: int = 7) -> list[dict[str, Any]]:
    """Events in order of event time: runs (START, then COMPLETE) whose outputs, schemas and
    column lineage change from run to run, and dataset events stating documentation."""
    import random
    import uuid
    from datetime import datetime, timedelta

    from tests.openlineage_events import dataset, run_event

    rng = random.Random(seed)
    start = datetime(2024, 5, 1)
    out: list[dict[str, Any]] = []
    for step in range(runs_per_job):
        for job in range(jobs_count):
            run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            began = start + timedelta(minutes=step * 60 + job)
            source = f"raw_{(job + step) % (jobs_count + 1)}"
            target = f"mart_{job}_{step % 2}"
            fields = ["id", "amount"] + (["note"] if step % 3 == 2 else [])
            inputs = [dataset("pg", source, ["id", "amount"])]
            lineage = {f: [("pg", source, f if f != "note" else "id")] for f in fields}
            outputs = [dataset("lake", target, fields, column_lineage=lineage)]
            for state, minutes in (("START", 0), ("COMPLETE", 5)):
                when = (began + timedelta(minutes=minutes)).isoformat() + "Z"
                out.append(
                    run_event(
                        f"job_{job}",
                        event_type=state,
                        run_id=run_id,
                        inputs=inputs,
                        outputs=outputs if state == "COMPLETE" else [],
                        event_time=when,
                    )
                )
        out.append(
            {
                "eventTime": (start + timedelta(minutes=step * 60 + 30)).isoformat() + "Z",
                "producer": "https://example.com/docs",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
                "dataset": dataset(
                    "pg",
                    f"raw_{step}",
                    documentation={"description": f"raw table, revision {step}"},
                ),
            }
        )
    return out


def current_graph(dump: dict[str, Any]) -> dict[str, Any]:
    """What the graph says now, without its history: what must not depend on the order in
    which events arrived. (History does: edges' validity intervals, `io_time`, `updated_at`
    and `run_io.event_time` record what was known when, and a late event of an older run
    does not rewrite them; docs/lineage.md.)"""
    return {
        "datasets": sorted((d[0], *d[2:]) for d in dump["datasets"]),
        "jobs": sorted((j[0], *j[2:7], j[8]) for j in dump["jobs"]),
        "runs": dump["runs"],
        "run_states": dump["run_states"],
        "run_io": sorted(r[:3] for r in dump["run_io"]),
        "edges": sorted(e[:3] + e[5:] for e in dump["edges"] if e[4] == "None"),
        "column_edges": sorted(c[:6] + c[8:] for c in dump["column_edges"] if c[7] == "None"),
    }
