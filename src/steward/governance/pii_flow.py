"""Personal data reaching a dataset: `pii.*`-tagged columns traced down column lineage.

From every column of the dataset at once, the column edges that carry values (DIRECT
ones: the `columnLineage` facet's `fields`, not its `dataset` list or INDIRECT inputs,
which decide rows, not values) are followed upstream, one query per step over the whole
frontier, now or as of a time (`lineage.graph.valid_at`); a table known under several
names (`lineage.aliases`) is one. Every path from a column the catalog tags `pii.*` to a
column of the dataset is a flow, with the transformations on the way: through a mask, a
hash or an aggregate it is not clear personal data; through IDENTITY copies and plain
transformations it is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.views import describe_datasets
from steward.governance.models import ColumnRef, FlowEdge, PiiFlow, Transformation
from steward.governance.reads import carries_value, transformations_of
from steward.lineage.aliases import any_grouped, same_as
from steward.lineage.fields import flat_fields
from steward.lineage.graph import valid_at
from steward.lineage.nodes import Node, dataset_names, node_id
from steward.lineage.views import dataset_details
from steward.store.schema import column_edges, jobs, namespaces

PII_PREFIX = "pii."
# Paths kept per (source column, target column): enough to show how, bounded for wide DAGs.
MAX_PATHS = 20
_CHUNK = 500

Column = tuple[int, str]  # (dataset node: the smallest id of its names, field path)


def pii_tags(view: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """A catalog view's columns tagged `pii.*` (proposed tags count, as masks count them)."""
    out: dict[str, tuple[str, ...]] = {}
    for column in view.get("columns", []):
        tags = sorted({t["tag"] for t in column["tags"] if str(t["tag"]).startswith(PII_PREFIX)})
        if tags:
            out[column["name"]] = tuple(tags)
    return out


@dataclass(frozen=True)
class _Edge:
    source: Column
    target: Column
    job: int
    transformations: tuple[Transformation, ...]


def trace_pii(
    conn: Connection,
    start: Node,
    catalog: dict[int, dict[str, Any]],
    as_of: datetime | None,
) -> tuple[PiiFlow, ...]:
    """Every flow of `pii.*` data into a column of `start`, ordered by target then source."""
    details = dataset_details(conn, [start.id], as_of).get(start.id)
    if details is None:
        return ()
    names = _Names(conn, any_grouped(conn))
    here = names.node(start.id)
    targets = [(here, str(f["path"])) for f in flat_fields(details["fields"])]
    into = _walk_upstream(conn, targets, names, as_of)
    tables = {e.source[0] for into_column in into.values() for e in into_column}
    tagged = _tagged(conn, catalog, names, tables)
    if not tagged:
        return ()
    refs = _Refs(conn, names, catalog)
    out_of: dict[Column, list[Column]] = defaultdict(list)
    for into_column in into.values():
        for edge in into_column:
            out_of[edge.source].append(edge.target)
    reached = {source: _reached(source, out_of) for source in tagged}
    flows: list[PiiFlow] = []
    for target in targets:
        for source in sorted(tagged):
            if source == target:
                continue
            for path in _paths(source, target, into, reached[source]):
                edges = tuple(
                    FlowEdge(
                        source=refs.of(e.source),
                        target=refs.of(e.target),
                        job=refs.job(e.job),
                        transformations=e.transformations,
                        clear=carries_value(e.transformations, indirect=False),
                    )
                    for e in path
                )
                flows.append(
                    PiiFlow(
                        source=refs.of(source),
                        target=refs.of(target),
                        tags=tagged[source],
                        path=edges,
                        clear=all(e.clear for e in edges),
                    )
                )
    flows.sort(key=lambda f: (f.target.label, f.source.label, _path_key(f)))
    return tuple(flows)


def _path_key(flow: PiiFlow) -> tuple[str, ...]:
    return tuple(f"{e.source.label}>{e.target.label}@{e.job}" for e in flow.path)


class _Names:
    """Each dataset's node (the smallest id among its names) and its names."""

    def __init__(self, conn: Connection, grouped: bool) -> None:
        self.conn = conn
        self.grouped = grouped
        self.members: dict[int, list[int]] = {}

    def node(self, dataset_id: int) -> int:
        return min(self.of([dataset_id])[dataset_id])

    def of(self, ids: list[int]) -> dict[int, list[int]]:
        todo = [i for i in ids if i not in self.members]
        if todo:
            groups = same_as(self.conn, todo) if self.grouped else {}
            for i in todo:
                self.members[i] = groups.get(i, [i])
        return {i: self.members[i] for i in ids}


def _walk_upstream(
    conn: Connection, targets: list[Column], names: _Names, as_of: datetime | None
) -> dict[Column, list[_Edge]]:
    """Value-carrying column edges into each column reached from `targets`, walking up."""
    c = column_edges.c
    into: dict[Column, list[_Edge]] = defaultdict(list)
    seen = set(targets)
    frontier = set(targets)
    while frontier:
        asked = {(m, f) for node, f in frontier for m in names.of([node])[node]}
        rows: list[Any] = []
        ordered = sorted(asked)
        for begin in range(0, len(ordered), _CHUNK):
            chunk = ordered[begin : begin + _CHUNK]
            rows += conn.execute(
                sa.select(
                    c.job_id,
                    c.in_dataset_id,
                    c.in_field,
                    c.out_dataset_id,
                    c.out_field,
                    c.transformations,
                    c.transformation_type,
                )
                .where(
                    sa.tuple_(c.out_dataset_id, c.out_field).in_(chunk),
                    valid_at(column_edges, as_of),
                )
                .order_by(c.id)
            ).all()
        found: set[Column] = set()
        for row in rows:
            transformations = transformations_of(row.transformations, row.transformation_type)
            if any((t.type or "").upper() == "INDIRECT" for t in transformations):
                continue
            source = (names.node(row.in_dataset_id), row.in_field)
            target = (names.node(row.out_dataset_id), row.out_field)
            into[target].append(_Edge(source, target, row.job_id, transformations))
            if source not in seen:
                seen.add(source)
                found.add(source)
        frontier = found
    return into


def _tagged(
    conn: Connection, catalog: dict[int, dict[str, Any]], names: _Names, nodes: set[int]
) -> dict[Column, tuple[str, ...]]:
    """The reached columns the catalog tags `pii.*`, under any of their table's names."""
    members = {m: node for node in nodes for m in names.of([node])[node]}
    missing = sorted(m for m in members if m not in catalog)
    if missing:
        catalog.update(describe_datasets(conn, missing))
    tagged: dict[Column, set[str]] = defaultdict(set)
    for member, node in members.items():
        for column, tags in pii_tags(catalog.get(member, {})).items():
            tagged[(node, column)].update(tags)
    return {key: tuple(sorted(tags)) for key, tags in tagged.items()}


class _Refs:
    """Columns and jobs by node id, with catalog names, named once each."""

    def __init__(self, conn: Connection, names: _Names, catalog: dict[int, dict[str, Any]]):
        self.conn = conn
        self.names = names
        self.catalog = catalog
        self.datasets: dict[int, tuple[str, str | None]] = {}
        self.jobs: dict[int, str] = {}

    def of(self, column: Column) -> ColumnRef:
        node, field = column
        if node not in self.datasets:
            found = dataset_names(self.conn, [node])[node]
            catalog_name = next(
                (
                    self.catalog[m]["name"]
                    for m in self.names.of([node])[node]
                    if self.catalog.get(m, {}).get("name")
                ),
                None,
            )
            self.datasets[node] = (
                node_id("dataset", found["namespace"], found["name"]),
                catalog_name,
            )
        nid, catalog_name = self.datasets[node]
        return ColumnRef(nid, field, catalog_name)

    def job(self, job_id: int) -> str:
        if job_id not in self.jobs:
            row = self.conn.execute(
                sa.select(namespaces.c.name.label("namespace"), jobs.c.name)
                .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
                .where(jobs.c.id == job_id)
            ).one()
            self.jobs[job_id] = node_id("job", row.namespace, row.name)
        return self.jobs[job_id]


def _reached(source: Column, out_of: dict[Column, list[Column]]) -> set[Column]:
    """The columns `source`'s values reach (itself included)."""
    reached = {source}
    todo = [source]
    while todo:
        for nxt in out_of.get(todo.pop(), []):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    return reached


def _paths(
    source: Column, target: Column, into: dict[Column, list[_Edge]], reached: set[Column]
) -> list[list[_Edge]]:
    """Simple paths from `source` to `target`, walked back from the target, at most MAX_PATHS.

    Only columns the source's values reach (`reached`) are walked.
    """
    if target not in reached:
        return []
    found: list[list[_Edge]] = []

    def back(node: Column, suffix: list[_Edge], seen: frozenset[Column]) -> None:
        if len(found) >= MAX_PATHS:
            return
        if node == source:
            found.append(list(suffix))
            return
        for edge in sorted(into.get(node, []), key=lambda e: (e.source, e.job)):
            if edge.source in seen or edge.source not in reached:
                continue
            back(edge.source, [edge, *suffix], seen | {edge.source})

    back(target, [], frozenset({target}))
    return found
