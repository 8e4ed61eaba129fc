"""The read path: lineage graphs of datasets and jobs, and of columns, now or as of a time.

Traversal is breadth-first with one indexed query per step over the whole frontier,
so a node reached twice is expanded once. Depth counts lineage steps: one step is a
job and the datasets it reads (upstream) or writes (downstream), that is two edges;
for columns one step is one column edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.lineage.nodes import FieldNode, Node, NodeKind, field_node_id, node_id
from steward.lineage.views import dataset_details, job_details
from steward.store import fast
from steward.store.schema import column_edges, lineage_edges
from steward.store.sets import among_parameter, id_list

Direction = Literal["upstream", "downstream", "both"]
_CHUNK = 50_000


def valid_at(
    table: sa.Table, as_of: datetime | sa.BindParameter[Any] | None
) -> sa.ColumnElement[bool]:
    """Rows of an edge table that hold now (`as_of` None) or held at `as_of`."""
    if as_of is None:
        return table.c.valid_to.is_(None)
    return sa.and_(
        table.c.valid_from <= as_of, sa.or_(table.c.valid_to.is_(None), table.c.valid_to > as_of)
    )


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@cache
def _step(kind: NodeKind, upstream: bool, current: bool, dialect: str) -> sa.Select[Any]:
    """(node, neighbour) pairs one step from a frontier of `kind` nodes bound as `ids`.

    From datasets, upstream follows the jobs writing them, downstream the jobs reading
    them; from jobs, upstream their inputs, downstream their outputs.
    """
    e = lineage_edges.c
    if kind == "dataset":
        key, other, direction = e.dataset_id, e.job_id, "output" if upstream else "input"
    else:
        key, other, direction = e.job_id, e.dataset_id, "input" if upstream else "output"
    as_of = None if current else sa.bindparam("as_of", type_=sa.DateTime)
    return sa.select(key, other).where(
        among_parameter(key, "ids", dialect),
        e.direction == direction,
        valid_at(lineage_edges, as_of),
    )


@dataclass
class _Walk:
    datasets: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)
    # (origin, destination) in the direction data flows, as (kind, id) pairs, in walk order.
    edges: dict[tuple[tuple[str, int], tuple[str, int]], None] = field(default_factory=dict)


def _walk(
    conn: Connection,
    start: Node,
    *,
    upstream: bool,
    steps: int | None,
    as_of: datetime | None,
    walk: _Walk,
) -> None:
    seen = {("dataset", d) for d in walk.datasets} | {("job", j) for j in walk.jobs}
    frontier = {start.id}
    kind: NodeKind = start.kind
    taken = 0
    dialect = conn.dialect.name
    while frontier and (steps is None or taken < steps):
        next_kind: NodeKind = "job" if kind == "dataset" else "dataset"
        step = _step(kind, upstream, as_of is None, dialect)
        found: set[int] = set()
        for chunk in _chunks(frontier):
            rows = fast.tuples(conn, step, {"ids": id_list(chunk, dialect), "as_of": as_of})
            for here, there in rows:
                a, b = (kind, here), (next_kind, there)
                walk.edges[(b, a) if upstream else (a, b)] = None
                if (next_kind, there) not in seen:
                    seen.add((next_kind, there))
                    found.add(there)
                    (walk.datasets if next_kind == "dataset" else walk.jobs).append(there)
        frontier, kind = found, next_kind
        taken += 1


def lineage_graph(
    conn: Connection,
    start: Node,
    *,
    depth: int | None,
    direction: Direction,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The Marquez-shaped graph around `start`: `{"graph": [{id, type, data, inEdges, outEdges}]}`.

    `depth` None follows edges until nothing new is reached.
    """
    walk = _Walk()
    (walk.datasets if start.kind == "dataset" else walk.jobs).append(start.id)
    steps = None if depth is None else 2 * depth
    if direction in ("upstream", "both"):
        _walk(conn, start, upstream=True, steps=steps, as_of=as_of, walk=walk)
    if direction in ("downstream", "both"):
        _walk(conn, start, upstream=False, steps=steps, as_of=as_of, walk=walk)

    details = {("dataset", i): d for i, d in dataset_details(conn, walk.datasets, as_of).items()}
    details.update({("job", i): d for i, d in job_details(conn, walk.jobs, as_of).items()})
    ids = {key: node_id(key[0], d["namespace"], d["name"]) for key, d in details.items()}  # type: ignore[arg-type]
    in_edges: dict[tuple[str, int], list[dict[str, str]]] = {key: [] for key in details}
    out_edges: dict[tuple[str, int], list[dict[str, str]]] = {key: [] for key in details}
    for origin, destination in walk.edges:
        edge = {"origin": ids[origin], "destination": ids[destination]}
        out_edges[origin].append(edge)
        in_edges[destination].append(edge)
    order = [("dataset", i) for i in walk.datasets] + [("job", i) for i in walk.jobs]
    order.sort(key=lambda key: key != (start.kind, start.id))
    return {
        "graph": [
            {
                "id": ids[key],
                "type": key[0].upper(),
                "data": details[key],
                "inEdges": in_edges[key],
                "outEdges": out_edges[key],
            }
            for key in order
        ]
    }


def column_lineage_graph(
    conn: Connection,
    start: FieldNode,
    *,
    depth: int | None,
    direction: Direction,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The graph of columns around one field, each edge with its transformations.

    Upstream also follows the inputs that the `columnLineage` facet says affect the
    whole output dataset (its `dataset` list: filters, join keys), marked `indirect`.
    """
    origin = (start.dataset.id, start.field)
    fields: list[tuple[int, str]] = [origin]
    edges: dict[tuple[tuple[int, str], tuple[int, str], int], dict[str, Any]] = {}
    for upstream in (True, False):
        if direction == ("downstream" if upstream else "upstream"):
            continue
        seen = set(fields)
        frontier = {origin}
        taken = 0
        while frontier and (depth is None or taken < depth):
            found: set[tuple[int, str]] = set()
            for row in _column_step(conn, frontier, upstream=upstream, as_of=as_of):
                src, dst = (row.in_dataset_id, row.in_field), (row.out_dataset_id, row.out_field)
                if dst[1] is None:  # a whole-dataset input reaches the field asked about
                    dst = next(f for f in frontier if f[0] == row.out_dataset_id)
                edges[(src, dst, row.job_id)] = {
                    "transformations": row.transformations,
                    "transformationDescription": row.transformation_description,
                    "transformationType": row.transformation_type,
                    "indirect": row.out_field is None,
                }
                nxt = src if upstream else dst
                if nxt not in seen:
                    seen.add(nxt)
                    found.add(nxt)
                    fields.append(nxt)
            frontier = found
            taken += 1
    return _column_graph(conn, fields, edges, as_of)


def _column_step(
    conn: Connection, frontier: set[tuple[int, str]], *, upstream: bool, as_of: datetime | None
) -> list[Any]:
    c = column_edges.c
    rows: list[Any] = []
    for chunk in _chunks(sorted(frontier)):
        if upstream:
            condition = sa.or_(
                sa.tuple_(c.out_dataset_id, c.out_field).in_(chunk),
                sa.and_(c.out_dataset_id.in_({d for d, _ in chunk}), c.out_field.is_(None)),
            )
        else:
            condition = sa.tuple_(c.in_dataset_id, c.in_field).in_(chunk)
        rows.extend(
            conn.execute(sa.select(column_edges).where(condition, valid_at(column_edges, as_of)))
        )
    return rows


def _column_graph(
    conn: Connection,
    fields: list[tuple[int, str]],
    edges: dict[tuple[tuple[int, str], tuple[int, str], int], dict[str, Any]],
    as_of: datetime | None,
) -> dict[str, Any]:
    dataset_ids = sorted({d for d, _ in fields})
    details = dataset_details(conn, dataset_ids, as_of)
    job_ids = sorted({job for _, _, job in edges})
    job_names = job_details(conn, job_ids, as_of) if job_ids else {}

    def fid(key: tuple[int, str]) -> str:
        d = details[key[0]]
        return field_node_id(d["namespace"], d["name"], key[1])

    in_edges: dict[tuple[int, str], list[dict[str, Any]]] = {f: [] for f in fields}
    out_edges: dict[tuple[int, str], list[dict[str, Any]]] = {f: [] for f in fields}
    for (src, dst, job), info in sorted(edges.items(), key=lambda e: (fid(e[0][0]), fid(e[0][1]))):
        j = job_names[job]
        edge = {
            "origin": fid(src),
            "destination": fid(dst),
            "job": node_id("job", j["namespace"], j["name"]),
            **info,
        }
        out_edges[src].append(edge)
        in_edges[dst].append(edge)
    graph = []
    for key in fields:
        d = details[key[0]]
        types = {f["name"]: f.get("type") for f in d["fields"]}
        graph.append(
            {
                "id": fid(key),
                "type": "DATASET_FIELD",
                "data": {
                    "namespace": d["namespace"],
                    "dataset": d["name"],
                    "field": key[1],
                    "fieldType": types.get(key[1]),
                },
                "inEdges": in_edges[key],
                "outEdges": out_edges[key],
            }
        )
    return {"graph": graph}
