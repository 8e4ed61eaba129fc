"""Lineage node ids (`dataset:NS:NAME`, `job:NS:NAME`, `datasetField:NS:NAME:FIELD`).

Namespaces hold colons (`postgres://db.example.com:5432`) and so may names, so an id
is not split on its colons blindly. It is resolved against the store: the namespace
is the longest known namespace that the id continues with `:`, and the name (and for
a field, the split between name and field) is the one naming a stored dataset or job;
where two readings both name stored things, the longer namespace wins, then the
longer dataset name. A dataset id naming no stored dataset but a stored dataset's
symlink (a Spark table's metastore name) names that dataset. An id naming nothing
stored is `NotFound`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import AmbiguousName, InvalidNodeId, NotFound
from steward.store.schema import (
    catalog_entries,
    catalog_entry_sources,
    column_edges,
    dataset_symlinks,
    datasets,
    jobs,
    namespaces,
)

NodeKind = Literal["dataset", "job"]


@dataclass(frozen=True)
class Node:
    """A dataset or job, by row id, with the names that make up its node id."""

    kind: NodeKind
    id: int
    namespace: str
    name: str

    @property
    def node_id(self) -> str:
        return node_id(self.kind, self.namespace, self.name)


@dataclass(frozen=True)
class FieldNode:
    """One column of a dataset."""

    dataset: Node
    field: str

    @property
    def node_id(self) -> str:
        return field_node_id(self.dataset.namespace, self.dataset.name, self.field)


def node_id(kind: NodeKind, namespace: str, name: str) -> str:
    """`dataset:NS:NAME` or `job:NS:NAME`."""
    return f"{kind}:{namespace}:{name}"


def field_node_id(namespace: str, name: str, field: str) -> str:
    """`datasetField:NS:NAME:FIELD`."""
    return f"datasetField:{namespace}:{name}:{field}"


def _split_kind(value: str, allowed: tuple[str, ...]) -> tuple[str, str]:
    kind, sep, rest = value.partition(":")
    if not sep or kind not in allowed or not rest:
        expected = " or ".join(f"'{k}:NAMESPACE:NAME'" for k in allowed)
        raise InvalidNodeId(f"nodeId: {value!r} is not {expected}")
    return kind, rest


def _namespace_readings(conn: Connection, rest: str) -> list[tuple[int, str, str]]:
    """(namespace id, namespace, remainder) for each known namespace `rest` starts with."""
    candidates = [rest[:i] for i, ch in enumerate(rest) if ch == ":"]
    if not candidates:
        return []
    rows = conn.execute(
        sa.select(namespaces.c.id, namespaces.c.name).where(namespaces.c.name.in_(candidates))
    ).all()
    readings = [(row.id, row.name, rest[len(row.name) + 1 :]) for row in rows]
    readings.sort(key=lambda reading: len(reading[1]), reverse=True)
    return [reading for reading in readings if reading[2]]


def resolve_node(conn: Connection, value: str) -> Node:
    """The stored dataset or job a node id names."""
    kind, rest = _split_kind(value, ("dataset", "job"))
    table = datasets if kind == "dataset" else jobs
    for namespace_id, namespace, name in _namespace_readings(conn, rest):
        found = conn.execute(
            sa.select(table.c.id).where(table.c.namespace_id == namespace_id, table.c.name == name)
        ).scalar()
        if found is not None:
            return Node(kind, int(found), namespace, name)  # type: ignore[arg-type]
    if kind == "dataset":
        linked = resolve_symlink(conn, rest)
        if linked is not None:
            return linked
    raise NotFound(f"nodeId: no {kind} {value!r} has been seen")


def _colons(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if ch == ":" and 0 < i < len(text) - 1]


def _symlinked(conn: Connection, readings: list[tuple[str, str]]) -> Node | None:
    """The dataset a symlink names, for an identity only symlinks name (longest namespace first).

    Spark names a table by its location and links its metastore name; that name is then
    a way to ask for the table though no event named a dataset by it.
    """
    if not readings:
        return None
    s = dataset_symlinks.c
    rows = conn.execute(
        sa.select(
            s.namespace, s.dataset_id, namespaces.c.name.label("own_namespace"), datasets.c.name
        )
        .join(datasets, datasets.c.id == s.dataset_id)
        .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
        .where(sa.tuple_(s.namespace, s.name).in_(readings))
        .order_by(sa.func.length(s.namespace).desc(), s.dataset_id)
    ).first()
    if rows is None:
        return None
    return Node("dataset", int(rows.dataset_id), rows.own_namespace, rows.name)


def dataset_names(conn: Connection, ids: list[int]) -> dict[int, dict[str, str]]:
    """The namespace and name of each dataset, by id."""
    found: dict[int, dict[str, str]] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(datasets.c.id, namespaces.c.name.label("namespace"), datasets.c.name)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(datasets.c.id.in_(ids[start : start + 500]))
        )
        found.update({row.id: {"namespace": row.namespace, "name": row.name} for row in rows})
    return found


def resolve_field(conn: Connection, value: str) -> FieldNode:
    """The stored dataset and field a `datasetField:NS:NAME:FIELD` id names."""
    _, rest = _split_kind(value, ("datasetField",))
    for namespace_id, namespace, remainder in _namespace_readings(conn, rest):
        splits = [i for i, ch in enumerate(remainder) if ch == ":"]
        names = {remainder[:i]: remainder[i + 1 :] for i in splits if remainder[i + 1 :]}
        if not names:
            continue
        rows = conn.execute(
            sa.select(datasets.c.id, datasets.c.name).where(
                datasets.c.namespace_id == namespace_id, datasets.c.name.in_(list(names))
            )
        ).all()
        if rows:
            row = max(rows, key=lambda r: len(r.name))
            return FieldNode(Node("dataset", row.id, namespace, row.name), names[row.name])
    for split in reversed(_colons(rest)):  # a dataset only a symlink names
        dataset = resolve_symlink(conn, rest[:split])
        if dataset is not None:
            return FieldNode(dataset, rest[split + 1 :])
    raise NotFound(f"nodeId: no dataset field {value!r} has been seen")


def resolve_symlink(conn: Connection, rest: str) -> Node | None:
    """The dataset a symlink `NS:NAME` names, if one does."""
    return _symlinked(conn, [(rest[:i], rest[i + 1 :]) for i in _colons(rest)])


# A word alone or a word and a colon, without dots or slashes: a node id mistyped, not a
# catalog name (`source.table`) or NAMESPACE/NAME.
_MISTYPED_ID = re.compile(r"[A-Za-z_]+(:[^/.]*)?")


def resolve_named(conn: Connection, value: str) -> Node:
    """The dataset or job `value` names: a node id, else a catalog name, else NAMESPACE/NAME.

    A catalog name is any source's (`lake.sales.orders`, `shop.sales.orders`). NAMESPACE/NAME
    is split at each `/` a stored namespace allows (namespaces hold slashes); two readings
    naming different things are refused, listing them.
    """
    if value.startswith(("dataset:", "job:")):
        return resolve_node(conn, value)
    for table in (catalog_entries, catalog_entry_sources):
        found = conn.execute(
            sa.select(table.c.dataset_id).where(table.c.name == value).limit(1)
        ).scalar()
        if found is not None:
            row = conn.execute(
                sa.select(namespaces.c.name.label("namespace"), datasets.c.name)
                .join(datasets, datasets.c.namespace_id == namespaces.c.id)
                .where(datasets.c.id == found)
            ).one()
            return Node("dataset", int(found), row.namespace, row.name)
    candidates = _slash_readings(conn, value)
    if len(candidates) > 1:
        listed = ", ".join(sorted(c.node_id for c in candidates))
        raise AmbiguousName(f"nodeId: {value!r} is ambiguous; use one of: {listed}")
    if not candidates:
        if _MISTYPED_ID.fullmatch(value):
            # `table:x:y`, `dataset`: meant as a node id, and not one; say how one reads.
            _split_kind(value, ("dataset", "job"))
        raise NotFound(
            f"nodeId: {value!r} is neither a node id, a catalog name, nor NAMESPACE/NAME"
            " of a dataset or job seen"
        )
    return candidates[0]


def _slash_readings(conn: Connection, value: str) -> list[Node]:
    """Every stored dataset or job `value` names as NAMESPACE/NAME."""
    splits = {value[:i]: value[i + 1 :] for i, ch in enumerate(value) if ch == "/"}
    splits = {ns: name for ns, name in splits.items() if ns and name}
    if not splits:
        return []
    known = dict(
        conn.execute(
            sa.select(namespaces.c.name, namespaces.c.id).where(namespaces.c.name.in_(list(splits)))
        ).all()
    )
    found: list[Node] = []
    for namespace, namespace_id in known.items():
        for kind, table in (("dataset", datasets), ("job", jobs)):
            row = conn.execute(
                sa.select(table.c.id).where(
                    table.c.namespace_id == namespace_id, table.c.name == splits[namespace]
                )
            ).scalar()
            if row is not None:
                found.append(Node(kind, int(row), namespace, splits[namespace]))  # type: ignore[arg-type]
    return found


def resolve_field_named(conn: Connection, value: str) -> FieldNode:
    """The column `value` names: a `datasetField:` id, else DATASET.COLUMN.

    DATASET is anything `resolve_named` takes; COLUMN may be a nested path
    (`lake.sales.orders.address.city`). Of the readings, the longest dataset name that
    has the column wins, else the longest dataset name found.
    """
    if value.startswith("datasetField:"):
        return resolve_field(conn, value)
    readings: list[FieldNode] = []
    ambiguous: AmbiguousName | None = None
    for i in sorted((i for i, ch in enumerate(value) if ch == "."), reverse=True):
        dataset, field = value[:i], value[i + 1 :]
        if not dataset or not field:
            continue
        try:
            readings.append(FieldNode(resolve_named(conn, dataset), field))
        except AmbiguousName as exc:
            ambiguous = ambiguous or exc
        except (NotFound, InvalidNodeId):
            continue  # this split's dataset part names nothing
    if not readings and ambiguous is not None:
        raise ambiguous
    if not readings:
        raise NotFound(
            f"nodeId: {value!r} names no column: expected DATASET.COLUMN (a catalog name,"
            " a dataset node id or NAMESPACE/NAME, then the column) or a datasetField: id"
        )
    with_field = [r for r in readings if r.field in _known_fields(conn, r.dataset.id)]
    return (with_field or readings)[0]


def _known_fields(conn: Connection, dataset_id: int) -> set[str]:
    """The column names lineage knows of a dataset: its column edges' fields."""
    c = column_edges.c
    found = set(
        conn.execute(sa.select(c.out_field).where(c.out_dataset_id == dataset_id)).scalars()
    )
    found |= set(conn.execute(sa.select(c.in_field).where(c.in_dataset_id == dataset_id)).scalars())
    return {f for f in found if f}
