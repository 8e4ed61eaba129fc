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
from typing import Any, Literal, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import NotFound
from steward.lineage.aliases import any_grouped, same_as
from steward.lineage.fields import flat_fields
from steward.lineage.nodes import (
    FieldNode,
    Node,
    NodeKind,
    dataset_names,
    field_node_id,
    node_id,
)
from steward.lineage.scope import Sight, strip_dataset
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
    """Nodes reached and edges followed. A node is one int: a dataset's id, or minus a job's
    id (ints hash faster than pairs, and a walk handles tens of thousands of them)."""

    nodes: dict[int, None] = field(default_factory=dict)
    # (origin, destination) in the direction data flows, in walk order.
    edges: dict[tuple[int, int], None] = field(default_factory=dict)
    # Nodes never reached (another user's query lineage), as the same ints.
    excluded: frozenset[int] = frozenset()
    # Datasets that are one table under several names (see `lineage.aliases`): each member
    # stands for the member reached first (its node), and a node for every member.
    node_of: dict[int, int] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)
    # Whether any dataset has several names, asked once a walk; when none has, the walk
    # maps nothing (a dataset is its own node).
    grouped: bool | None = None

    def place(self, conn: Connection, ids: Iterable[int]) -> None:
        """Give each dataset in `ids` its node: a member of a group reached earlier, or itself."""
        todo = [i for i in ids if i not in self.node_of]
        if not todo:
            return
        if self.grouped is None:
            self.grouped = any_grouped(conn)
        groups = same_as(conn, todo) if self.grouped else {}
        for dataset_id in todo:
            if dataset_id in self.node_of:
                continue
            group = groups.get(dataset_id, [dataset_id])
            node = next((self.node_of[m] for m in group if m in self.node_of), dataset_id)
            for member in group:
                self.node_of.setdefault(member, node)
            self.members[node] = sorted({*self.members.get(node, []), *group})


def _walk(
    conn: Connection,
    start: Node,
    *,
    upstream: bool,
    steps: int | None,
    as_of: datetime | None,
    walk: _Walk,
) -> None:
    nodes, edges, excluded = walk.nodes, walk.edges, walk.excluded
    frontier = {start.id}
    kind: NodeKind = start.kind
    taken = 0
    dialect = conn.dialect.name
    while frontier and (steps is None or taken < steps):
        step = _step(kind, upstream, as_of is None, dialect)
        # Rows are (node of `kind`, neighbour of the other kind); jobs are negative.
        here_sign, there_sign = (1, -1) if kind == "dataset" else (-1, 1)
        asked = frontier
        if kind == "dataset" and walk.grouped:  # every name of each dataset
            asked = {m for node in frontier for m in walk.members.get(node, [node])}
        rows: list[tuple[int, int]] = []
        for chunk in _chunks(asked):
            rows += fast.tuples(conn, step, {"ids": id_list(chunk, dialect), "as_of": as_of})
        if walk.grouped:  # each name stands for its group's node
            if kind == "job":
                walk.place(conn, (there for _, there in rows if there not in excluded))
                node_of = walk.node_of
                rows = [(h, t if t in excluded else node_of[t]) for h, t in rows]
            else:
                rows = [(walk.node_of.get(h, h), t) for h, t in rows]
        found: set[int] = set()
        for here, there in rows:
            a, b = here_sign * here, there_sign * there
            if b in excluded:
                continue
            edges[(b, a) if upstream else (a, b)] = None
            if b not in nodes:
                nodes[b] = None
                found.add(there)
        frontier = found
        kind = "job" if kind == "dataset" else "dataset"
        taken += 1


def _same_as_names(
    conn: Connection, walk: _Walk, details: dict[int, dict[str, Any]]
) -> dict[int, list[dict[str, str]]]:
    """For each dataset node of a group, the other names it stands for."""
    others = {n: [m for m in ms if m != n] for n, ms in walk.members.items() if len(ms) > 1}
    wanted = sorted({m for ms in others.values() for m in ms if m not in details})
    names = {**details, **dataset_names(conn, wanted)}
    return {
        n: [{"namespace": names[m]["namespace"], "name": names[m]["name"]} for m in ms]
        for n, ms in others.items()
    }


def lineage_graph(
    conn: Connection,
    start: Node,
    *,
    depth: int | None,
    direction: Direction,
    as_of: datetime | None = None,
    sight: Sight | None = None,
) -> dict[str, Any]:
    """The Marquez-shaped graph around `start`: `{"graph": [{id, type, data, inEdges, outEdges}]}`.

    `depth` None follows edges until nothing new is reached. With a `sight`, other
    users' query lineage is left out (NotFound when it is the start) and a dataset the
    caller may not describe shows its id and name only; `sight` None shows everything.
    """
    walk = _Walk()
    first = start.id if start.kind == "dataset" else -start.id
    if sight is not None:
        hidden = sight.hidden(conn)
        walk.excluded = frozenset([*hidden.datasets, *(-j for j in hidden.jobs)])
        if first in walk.excluded:
            raise NotFound(f"nodeId: no {start.kind} {start.node_id!r} has been seen")
    walk.nodes[first] = None
    walk.grouped = any_grouped(conn)
    if start.kind == "dataset" and walk.grouped:
        walk.place(conn, [start.id])
    steps = None if depth is None else 2 * depth
    if direction in ("upstream", "both"):
        _walk(conn, start, upstream=True, steps=steps, as_of=as_of, walk=walk)
    if direction in ("downstream", "both"):
        _walk(conn, start, upstream=False, steps=steps, as_of=as_of, walk=walk)

    dataset_ids = [n for n in walk.nodes if n > 0]
    job_ids = [-n for n in walk.nodes if n < 0]
    details = dataset_details(conn, dataset_ids, as_of)
    merged = _same_as_names(conn, walk, details)
    if sight is not None:
        withheld = sight.withheld(conn, dataset_ids)
        details = {i: strip_dataset(d, withheld[i]) for i, d in details.items()}
        # Other names are symlinks: withheld with the rest of what may not be described.
        merged = {i: names for i, names in merged.items() if withheld.get(i) is not None}
    for n, names in merged.items():
        details[n] = {**details[n], "sameAs": names}
    details.update({-i: d for i, d in job_details(conn, job_ids, as_of).items()})
    ids = {
        n: f"{'dataset' if n > 0 else 'job'}:{d['namespace']}:{d['name']}"
        for n, d in details.items()
    }
    in_edges: dict[int, list[dict[str, str]]] = {n: [] for n in walk.nodes}
    out_edges: dict[int, list[dict[str, str]]] = {n: [] for n in walk.nodes}
    for origin, destination in walk.edges:
        edge = {"origin": ids[origin], "destination": ids[destination]}
        out_edges[origin].append(edge)
        in_edges[destination].append(edge)
    return {
        "graph": [
            {
                "id": ids[n],
                "type": "DATASET" if n > 0 else "JOB",
                "data": details[n],
                "inEdges": in_edges[n],
                "outEdges": out_edges[n],
                **_same_as_entry(merged.get(n)),
            }
            for n in walk.nodes  # the start first, then in the order reached
        ]
    }


def _same_as_entry(names: list[dict[str, str]] | None) -> dict[str, Any]:
    """`sameAs`: the node ids of the other names a merged dataset node stands for."""
    if not names:
        return {}
    return {"sameAs": [node_id("dataset", n["namespace"], n["name"]) for n in names]}


def column_lineage_graph(
    conn: Connection,
    start: FieldNode,
    *,
    depth: int | None,
    direction: Direction,
    as_of: datetime | None = None,
    sight: Sight | None = None,
) -> dict[str, Any]:
    """The graph of columns around one field, each edge with its transformations.

    Upstream also follows the inputs that the `columnLineage` facet says affect the
    whole output dataset (its `dataset` list: filters, join keys), marked `indirect`.
    An input that is both a direct input of a field and an indirect one is two edges.
    A dataset known under several names (see `lineage.aliases`) is one: its fields are
    reached through column lineage stated under any of its names.
    With a `sight`, a column is a node only if the caller may describe its dataset and
    the column is not denied to them, and other users' query lineage is left out; the
    walk stops where a column is not shown. `sight` None shows everything.
    """
    walk = _Walk()
    walk.place(conn, [start.dataset.id])
    origin = (start.dataset.id, start.field)
    shown = _shown_fields(conn, sight)
    if not shown([origin]):
        raise NotFound(f"nodeId: no dataset field {start.node_id!r} has been seen")
    fields: list[tuple[int, str]] = [origin]
    whole: dict[int, list[str]] = {}  # field names of datasets reached as a whole
    edges: dict[_ColumnEdge, dict[str, Any]] = {}
    for upstream in (True, False):
        if direction == ("downstream" if upstream else "upstream"):
            continue
        seen = set(fields)
        frontier = {origin}
        taken = 0
        while frontier and (depth is None or taken < depth):
            found: set[tuple[int, str]] = set()
            rows = _column_step(conn, frontier, walk, upstream=upstream, as_of=as_of)
            walk.place(conn, {i for row in rows for i in (row.in_dataset_id, row.out_dataset_id)})
            for row in rows:
                src = (walk.node_of[row.in_dataset_id], row.in_field)
                out = walk.node_of[row.out_dataset_id]
                if row.out_field is not None:
                    targets = [(out, row.out_field)]
                elif upstream:  # a whole-dataset input reaches the field asked about
                    targets = [f for f in frontier if f[0] == out]
                else:  # downstream, a whole-dataset input reaches every field of the output
                    if out not in whole:
                        whole[out] = _field_names(conn, walk.members[out], as_of)
                    targets = [(out, f) for f in whole[out]]
                if not shown([src]) or row.job_id in shown.hidden_jobs:
                    continue
                transformations = _transformations(row.transformations)
                for dst in targets:
                    if not shown([dst]):
                        continue
                    key = _ColumnEdge(
                        src,
                        dst,
                        row.job_id,
                        row.out_field is None,
                        orjson.dumps(transformations),
                        row.transformation_description,
                        row.transformation_type,
                    )
                    edges[key] = {
                        "transformations": transformations,
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
    return _column_graph(conn, fields, edges, walk, as_of)


class _ColumnEdge(NamedTuple):
    """One edge of a column graph: a direct and an indirect edge between the same two
    columns (or two edges with different transformations) are two edges."""

    src: tuple[int, str]
    dst: tuple[int, str]
    job: int
    indirect: bool
    transformations: bytes
    description: str | None
    kind: str | None


def _transformations(stored: Any) -> list[dict[str, Any]]:
    """Each transformation with its type, subtype, description and masking (null if unsaid)."""
    return [
        {
            "type": t.get("type"),
            "subtype": t.get("subtype"),
            "description": t.get("description"),
            "masking": t.get("masking"),
        }
        for t in stored or []
    ]


@dataclass
class _ShownFields:
    """Whether the caller sees columns: by `Sight`, decisions kept for the walk."""

    conn: Connection
    sight: Sight | None
    hidden_jobs: frozenset[int] = frozenset()
    hidden_datasets: frozenset[int] = frozenset()

    def __call__(self, keys: list[tuple[int, str]]) -> bool:
        if self.sight is None:
            return True
        ids = {d for d, _ in keys}
        if ids & self.hidden_datasets:
            return False
        withheld = self.sight.withheld(self.conn, ids)
        return all(withheld[d] is not None and f not in (withheld[d] or ()) for d, f in keys)


def _shown_fields(conn: Connection, sight: Sight | None) -> _ShownFields:
    if sight is None:
        return _ShownFields(conn, None)
    hidden = sight.hidden(conn)
    return _ShownFields(conn, sight, hidden.jobs, hidden.datasets)


def _field_names(conn: Connection, dataset_ids: list[int], as_of: datetime | None) -> list[str]:
    """The datasets' field paths (their schemas at `as_of`, or their current ones)."""
    names: dict[str, None] = {}
    for details in dataset_details(conn, dataset_ids, as_of).values():
        names.update({str(f["path"]): None for f in flat_fields(details["fields"])})
    return list(names)


def _column_step(
    conn: Connection,
    frontier: set[tuple[int, str]],
    walk: _Walk,
    *,
    upstream: bool,
    as_of: datetime | None,
) -> list[Any]:
    c = column_edges.c
    asked = {(m, name) for node, name in frontier for m in walk.members.get(node, [node])}
    rows: list[Any] = []
    for chunk in _chunks(sorted(asked)):
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
    edges: dict[_ColumnEdge, dict[str, Any]],
    walk: _Walk,
    as_of: datetime | None,
) -> dict[str, Any]:
    dataset_ids = sorted({d for d, _ in fields})
    details = dataset_details(conn, dataset_ids, as_of)
    merged = _same_as_names(conn, walk, details)
    job_ids = sorted({edge.job for edge in edges})
    job_names = job_details(conn, job_ids, as_of) if job_ids else {}

    def fid(key: tuple[int, str]) -> str:
        d = details[key[0]]
        return field_node_id(d["namespace"], d["name"], key[1])

    in_edges: dict[tuple[int, str], list[dict[str, Any]]] = {f: [] for f in fields}
    out_edges: dict[tuple[int, str], list[dict[str, Any]]] = {f: [] for f in fields}
    ordered = sorted(edges.items(), key=lambda e: (fid(e[0].src), fid(e[0].dst), e[0][2:]))
    for edge_key, info in ordered:
        j = job_names[edge_key.job]
        edge = {
            "origin": fid(edge_key.src),
            "destination": fid(edge_key.dst),
            "job": node_id("job", j["namespace"], j["name"]),
            **info,
        }
        out_edges[edge_key.src].append(edge)
        in_edges[edge_key.dst].append(edge)
    graph = []
    for key in fields:
        d = details[key[0]]
        types = {f["path"]: f.get("type") for f in flat_fields(d["fields"])}
        data = {
            "namespace": d["namespace"],
            "dataset": d["name"],
            "field": key[1],
            "fieldType": types.get(key[1]),
        }
        if key[0] in merged:
            data["sameAs"] = merged[key[0]]
        graph.append(
            {
                "id": fid(key),
                "type": "DATASET_FIELD",
                "data": data,
                "inEdges": in_edges[key],
                "outEdges": out_edges[key],
            }
        )
    return {"graph": graph}
