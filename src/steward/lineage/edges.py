"""Edges with validity intervals: a newer run replaces a job's edges, history stays.

A job's current edges are the inputs and outputs of its latest run that reported any;
events of that same run add to them (the spec makes inputs and outputs cumulative
over a run's events). When a newer run reports a different set, edges it lacks are
closed at its event time (`valid_to`) and edges it adds open then (`valid_from`), so
the graph at any past time is the rows valid at that time. An event of an older run
changes history nothing: it only records that run's inputs and outputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.lineage.models import ColumnLineageFacet, InputField
from steward.lineage.pending import PendingRows
from steward.store import fast
from steward.store.schema import column_edges, column_lineage_heads, lineage_edges


def replace_job_edges(
    conn: Connection,
    job_id: int,
    io: set[tuple[int, str]],
    head: tuple[str | None, datetime | None],
    *,
    when: datetime,
    run_id: str | None,
    current: dict[tuple[int, str], int],
) -> tuple[str | None, datetime] | None:
    """Make `io` ((dataset id, 'input'|'output') pairs) the job's current edges, if newest.

    `head` is the job's (io_run_id, io_time); returns the new head when it moves.
    `current` is the job's open edges by (dataset id, direction) (`current_edges`),
    kept up to date here for the rest of the transaction.
    """
    head_run, head_time = head
    same_run = run_id is not None and head_run == run_id
    if not same_run and head_time is not None and when < head_time:
        return None
    if not same_run:
        stale = [key for key in current if key not in io]
        if stale:
            ids = [current.pop(key) for key in stale]
            conn.execute(
                lineage_edges.update().where(lineage_edges.c.id.in_(ids)).values(valid_to=when)
            )
    added = [
        {
            "job_id": job_id,
            "dataset_id": dataset_id,
            "direction": direction,
            "valid_from": when,
            "run_id": run_id,
        }
        for dataset_id, direction in sorted(io - current.keys())
    ]
    if added:
        e = lineage_edges.c
        for edge_id, dataset_id, direction in conn.execute(
            lineage_edges.insert().returning(e.id, e.dataset_id, e.direction), added
        ):
            current[(dataset_id, direction)] = edge_id
    return None if same_run else (run_id, when)


def current_edges(conn: Connection, job_id: int) -> dict[tuple[int, str], int]:
    """A job's open edges: edge id by (dataset id, direction)."""
    return {
        (row.dataset_id, row.direction): row.id
        for row in fast.rows(conn, _CURRENT_EDGES, {"job_id": job_id})
    }


_CURRENT_EDGES = sa.select(
    lineage_edges.c.id, lineage_edges.c.dataset_id, lineage_edges.c.direction
).where(lineage_edges.c.job_id == sa.bindparam("job_id"), lineage_edges.c.valid_to.is_(None))


ColumnEdgeKey = tuple[int, str, str | None, bytes, str | None, str | None]


def _key(
    dataset_id: int,
    field: InputField,
    out_field: str | None,
    description: str | None,
    kind: str | None,
) -> ColumnEdgeKey:
    transformations = orjson.dumps(
        [{k: v for k, v in t.items() if v is not None} for t in field.get("transformations") or []],
        option=orjson.OPT_SORT_KEYS,
    )
    return (dataset_id, field["field"], out_field, transformations, description, kind)


_HEAD = sa.select(
    column_lineage_heads.c.run_id,
    column_lineage_heads.c.event_time,
    column_lineage_heads.c.fingerprint,
).where(
    column_lineage_heads.c.job_id == sa.bindparam("head_job_id"),
    column_lineage_heads.c.out_dataset_id == sa.bindparam("head_out_dataset_id"),
)
_UPDATE_HEAD = column_lineage_heads.update().where(
    column_lineage_heads.c.job_id == sa.bindparam("head_job_id"),
    column_lineage_heads.c.out_dataset_id == sa.bindparam("head_out_dataset_id"),
)


def column_lineage_heads_rows() -> PendingRows:
    """Heads of column lineage by (job id, output dataset id), for one transaction."""
    return PendingRows(
        _HEAD,
        _UPDATE_HEAD,
        column_lineage_heads.insert(),
        where=lambda key: {"head_job_id": key[0], "head_out_dataset_id": key[1]},
    )


def replace_column_edges(
    conn: Connection,
    job_id: int,
    out_dataset_id: int,
    facet: ColumnLineageFacet,
    dataset_id: Callable[[str, str], int],
    *,
    when: datetime,
    run_id: str | None,
    heads: PendingRows,
) -> None:
    """Make `facet` the current column lineage of one job's output dataset, if newest.

    A job that runs again with the same column lineage (the usual case) changes only
    the head's run: the facet's fingerprint matches, and no edge is read or written.
    """
    fingerprint = hashlib.sha256(
        orjson.dumps([facet.fields, facet.dataset], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    head_key = (job_id, out_dataset_id)
    head = heads.get(conn, head_key)
    same_run = head is not None and run_id is not None and head.run_id == run_id
    if head is not None and not same_run and when < head.event_time:
        return
    moved = {"run_id": run_id, "event_time": when, "fingerprint": fingerprint}
    if head is not None and head.fingerprint == fingerprint:
        if not same_run:
            heads.change(head_key, moved)
        return

    wanted: set[ColumnEdgeKey] = set()
    for out_field, spec in (facet.fields or {}).items():
        for field in spec["inputFields"]:
            wanted.add(
                _key(
                    dataset_id(field["namespace"], field["name"]),
                    field,
                    out_field,
                    spec.get("transformationDescription"),
                    spec.get("transformationType"),
                )
            )
    for field in facet.dataset or []:
        wanted.add(_key(dataset_id(field["namespace"], field["name"]), field, None, None, None))
    current: dict[ColumnEdgeKey, int] = {}
    for row in conn.execute(
        sa.select(column_edges).where(
            column_edges.c.job_id == job_id,
            column_edges.c.out_dataset_id == out_dataset_id,
            column_edges.c.valid_to.is_(None),
        )
    ):
        transformations = orjson.dumps(row.transformations, option=orjson.OPT_SORT_KEYS)
        key = (
            row.in_dataset_id,
            row.in_field,
            row.out_field,
            transformations,
            row.transformation_description,
            row.transformation_type,
        )
        current[key] = row.id
    if same_run:
        wanted |= current.keys()  # events of one run add up
    else:
        stale = [edge_id for key, edge_id in current.items() if key not in wanted]
        if stale:
            conn.execute(
                column_edges.update().where(column_edges.c.id.in_(stale)).values(valid_to=when)
            )
    if head is None:
        heads.add(head_key, {"job_id": job_id, "out_dataset_id": out_dataset_id, **moved})
    else:
        # After a run's events added up, no single facet describes the edges: a marker
        # that matches no fingerprint makes the next run compare edge by edge.
        heads.change(head_key, moved if not same_run else {"fingerprint": "accumulated"})
    added = [
        {
            "job_id": job_id,
            "in_dataset_id": in_id,
            "in_field": in_field,
            "out_dataset_id": out_dataset_id,
            "out_field": out_field,
            "transformations": orjson.loads(transformations),
            "transformation_description": description,
            "transformation_type": kind,
            "valid_from": when,
            "run_id": run_id,
        }
        for in_id, in_field, out_field, transformations, description, kind in sorted(
            wanted - current.keys(), key=lambda k: (k[0], k[1], k[2] or "", k[3])
        )
    ]
    if added:
        conn.execute(column_edges.insert(), added)
