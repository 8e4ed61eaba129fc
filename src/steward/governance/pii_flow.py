"""Personal data reaching a dataset: `pii.*`-tagged columns traced down column lineage.

For each column of the dataset, its upstream column graph (`lineage.graph`'s
`column_lineage_graph`, now or as of a time) is searched for columns the catalog tags
`pii.*`; every path from such a column to the dataset's column along edges that carry
values (DIRECT ones) is a flow, with the transformations on the way. A path through a
mask, a hash or an aggregate is not clear personal data; one of IDENTITY copies and
plain transformations is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.views import describe_datasets
from steward.governance.models import ColumnRef, FlowEdge, PiiFlow
from steward.governance.reads import carries_value, transformations_of
from steward.lineage.fields import flat_fields
from steward.lineage.graph import column_lineage_graph
from steward.lineage.nodes import FieldNode, Node, node_id
from steward.lineage.views import dataset_details
from steward.store.schema import datasets, namespaces

PII_PREFIX = "pii."
# Paths kept per (source column, target column): enough to show how, bounded for wide DAGs.
MAX_PATHS = 20


def pii_tags(view: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """A catalog view's columns tagged `pii.*` (proposed tags count, as masks count them)."""
    out: dict[str, tuple[str, ...]] = {}
    for column in view.get("columns", []):
        tags = sorted({t["tag"] for t in column["tags"] if str(t["tag"]).startswith(PII_PREFIX)})
        if tags:
            out[column["name"]] = tuple(tags)
    return out


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
    columns = [str(f["path"]) for f in flat_fields(details["fields"])]
    tags = _Tags(conn, catalog)
    flows: list[PiiFlow] = []
    for column in columns:
        graph = column_lineage_graph(
            conn, FieldNode(start, column), depth=None, direction="upstream", as_of=as_of
        )
        flows += _flows(graph, tags, start, column)
    flows.sort(key=lambda f: (f.target.label, f.source.label, _path_key(f)))
    return tuple(flows)


def _path_key(flow: PiiFlow) -> tuple[str, ...]:
    return tuple(f"{e.source.label}>{e.target.label}@{e.job}" for e in flow.path)


class _Tags:
    """`pii.*` tags of columns by (namespace, dataset name), read from the catalog once each."""

    def __init__(self, conn: Connection, catalog: dict[int, dict[str, Any]]) -> None:
        self.conn = conn
        self.catalog = catalog
        self.by_name: dict[tuple[str, str], tuple[str | None, dict[str, tuple[str, ...]]]] = {}

    def of(self, namespace: str, name: str) -> tuple[str | None, dict[str, tuple[str, ...]]]:
        """The dataset's catalog name and its pii-tagged columns."""
        key = (namespace, name)
        if key not in self.by_name:
            dataset_id = self.conn.execute(
                sa.select(datasets.c.id)
                .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
                .where(namespaces.c.name == namespace, datasets.c.name == name)
            ).scalar()
            view: dict[str, Any] = {}
            if dataset_id is not None:
                if dataset_id not in self.catalog:
                    self.catalog.update(describe_datasets(self.conn, [dataset_id]))
                view = self.catalog.get(dataset_id, {})
            self.by_name[key] = (view.get("name"), pii_tags(view))
        return self.by_name[key]


def _flows(graph: dict[str, Any], tags: _Tags, start: Node, column: str) -> list[PiiFlow]:
    refs: dict[str, ColumnRef] = {}
    tagged: dict[str, tuple[str, ...]] = {}
    for item in graph["graph"]:
        data = item["data"]
        catalog_name, pii = tags.of(data["namespace"], data["dataset"])
        refs[item["id"]] = ColumnRef(
            node_id("dataset", data["namespace"], data["dataset"]), data["field"], catalog_name
        )
        if data["field"] in pii:
            tagged[item["id"]] = pii[data["field"]]
    # Edges in the direction data flows, value-carrying (DIRECT) ones only.
    into: dict[str, list[FlowEdge]] = defaultdict(list)
    for item in graph["graph"]:
        for edge in item["inEdges"]:
            transformations = transformations_of(
                edge["transformations"], edge.get("transformationType")
            )
            if edge["indirect"] or any(
                (t.type or "").upper() == "INDIRECT" for t in transformations
            ):
                continue
            into[edge["destination"]].append(
                FlowEdge(
                    source=refs[edge["origin"]],
                    target=refs[edge["destination"]],
                    job=edge["job"],
                    transformations=transformations,
                    clear=carries_value(transformations, indirect=False),
                )
            )
    by_ref = {ref: key for key, ref in refs.items()}
    target_key = next(
        (k for k, ref in refs.items() if ref.dataset == start.node_id and ref.column == column),
        None,
    )
    if target_key is None:
        return []
    flows: list[PiiFlow] = []
    for source_key, source_tags in sorted(tagged.items()):
        if source_key == target_key:
            continue
        for path in _paths(source_key, target_key, into, by_ref):
            flows.append(
                PiiFlow(
                    source=refs[source_key],
                    target=refs[target_key],
                    tags=source_tags,
                    path=tuple(path),
                    clear=all(edge.clear for edge in path),
                )
            )
    return flows


def _paths(
    source: str,
    target: str,
    into: dict[str, list[FlowEdge]],
    by_ref: dict[ColumnRef, str],
) -> list[list[FlowEdge]]:
    """Simple paths from `source` to `target`, walked back from the target, at most MAX_PATHS."""
    found: list[list[FlowEdge]] = []

    def back(node: str, suffix: list[FlowEdge], seen: frozenset[str]) -> None:
        if len(found) >= MAX_PATHS:
            return
        if node == source:
            found.append(list(suffix))
            return
        edges = sorted(into.get(node, []), key=lambda e: (e.source.label, e.job))
        for edge in edges:
            previous = by_ref[edge.source]
            if previous in seen:
                continue
            back(previous, [edge, *suffix], seen | {previous})

    back(target, [], frozenset({target}))
    return found
