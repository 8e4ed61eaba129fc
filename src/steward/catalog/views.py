"""What the catalog shows of a dataset: stated facts overlaid with what people wrote.

Four layers make a dataset's metadata, each value keeping its origin:
- `source`: what a catalog source states (`steward catalog sync`): for a dataset it
  states, the only authority for columns, types, owners, tags and symlinks;
- `lineage`: what OpenLineage producers stated (the lineage store's facets). For a
  source-stated dataset only descriptions nobody else gave come from here; for a
  dataset only lineage knows, columns, owners and tags come from here too;
- `classifier`: PII tags proposed by `steward catalog classify`;
- `human`: what people wrote through the API or the CLI.
A human value wins over a stated value of the same attribute; a human may also reject
a tag or an owner (a source's, an event's or the classifier's), which then stays off.
Tags, descriptions and terms bind to a column's identity (see `catalog.authority`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.authority import (
    DATASET,
    ColumnIdentity,
    Label,
    event_description,
    labels_on,
    lineage_columns,
    owners_from,
    source_columns,
)
from steward.errors import NotFound
from steward.lineage.aliases import same_as
from steward.lineage.nodes import dataset_names, node_id, resolve_node
from steward.lineage.scope import Hidden, Sight
from steward.lineage.views import dataset_details, iso
from steward.store.schema import (
    catalog_annotations,
    catalog_entries,
    catalog_entry_sources,
    catalog_tests,
    dataset_tags,
    dataset_versions,
    datasets,
    lineage_edges,
    namespaces,
)


def resolve_dataset(conn: Connection, ref: str) -> int:
    """The dataset id a reference names: a catalog name (`lake.sales.orders`) or a node id."""
    if ref.startswith("dataset:"):
        return resolve_node(conn, ref).id
    found = conn.execute(
        sa.select(catalog_entries.c.dataset_id).where(catalog_entries.c.name == ref)
    ).scalar()
    if found is None:
        # Each source's own name for a dataset several sources state.
        found = conn.execute(
            sa.select(catalog_entry_sources.c.dataset_id).where(catalog_entry_sources.c.name == ref)
        ).scalar()
    if found is None:
        raise NotFound(_not_found(ref))
    return int(found)


def _not_found(ref: str) -> str:
    """The same words whether the dataset does not exist or may not be described."""
    if ref.startswith("dataset:"):
        return f"nodeId: no dataset {ref!r} has been seen"
    return f"dataset: {ref!r} is neither a catalog name nor a 'dataset:NAMESPACE:NAME' node id"


def _split_owner(name: str) -> tuple[str, str]:
    kind, sep, rest = name.partition(":")
    if sep and kind in {"user", "group", "team"}:
        return ("group" if kind == "team" else kind), rest
    return "user", name


def describe_datasets(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Everything the catalog knows of each dataset, keyed by dataset id."""
    if not ids:
        return {}
    base = dataset_details(conn, list(ids))
    entries = {
        row.dataset_id: row
        for row in conn.execute(
            sa.select(catalog_entries).where(catalog_entries.c.dataset_id.in_(list(ids)))
        )
    }
    notes: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(
        sa.select(catalog_annotations).where(catalog_annotations.c.dataset_id.in_(list(ids)))
    ):
        notes[row.dataset_id].append(row)
    tests: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(
        sa.select(catalog_tests).where(catalog_tests.c.dataset_id.in_(list(ids)))
    ):
        tests[row.dataset_id].append(row)
    stating: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(
        sa.select(catalog_entry_sources)
        .where(catalog_entry_sources.c.dataset_id.in_(list(ids)))
        .order_by(catalog_entry_sources.c.name)
    ):
        stating[row.dataset_id].append(row)
    out = {}
    for dataset_id, facts in base.items():
        entry = entries.get(dataset_id)
        out[dataset_id] = _view(facts, entry, _owned(entry, notes[dataset_id]), tests[dataset_id])
        out[dataset_id]["sources"] = [
            _source_view(row, notes[dataset_id]) for row in stating[dataset_id]
        ]
    return out


def _owned(entry: Any, notes: list[Any]) -> list[Any]:
    """`notes` with the owners and domain of only the source authoritative for them.

    Of several sources stating a dataset, the first in documentation order that states
    any owners (a domain) is the one shown (see `catalog.authority`).
    """
    if entry is None or not entry.stated:
        return notes
    kept = []
    for attribute in ("owner", "domain"):
        authors = {n.author for n in notes if n.attribute == attribute and n.origin == "source"}
        chosen = owners_from(entry.stated, {a for a in authors if a})
        kept += [
            n
            for n in notes
            if n.attribute == attribute and (n.origin != "source" or n.author == chosen)
        ]
    return [n for n in notes if n.attribute not in ("owner", "domain")] + kept


def _source_view(row: Any, notes: list[Any]) -> dict[str, Any]:
    """One source's statement of a dataset, as the catalog shows it under `sources`."""
    stated = row.stated or {}
    said = [n for n in notes if n.origin == "source" and n.author == row.source]
    return {
        "source": row.source,
        "type": row.source_type,
        "name": row.name,
        "kind": row.kind,
        "description": stated.get("description"),
        "columns": [
            {"name": c["name"], "type": c.get("type"), "description": c.get("description")}
            for c in stated.get("columns") or []
        ],
        "owners": [
            {"name": n.value, "kind": n.kind or "user", "role": n.role or "technical"}
            for n in said
            if n.attribute == "owner"
        ],
        "tags": sorted(
            {
                n.value if not n.field else f"{n.field}: {n.value}"
                for n in said
                if n.attribute == "tag"
            }
        ),
        "syncedAt": iso(row.synced_at),
        "deleted": row.deleted_at is not None,
    }


def _note_target(note: Any) -> ColumnIdentity:
    return ColumnIdentity(note.field, note.field_id)


def _view(facts: dict[str, Any], entry: Any, notes: list[Any], tests: list[Any]) -> dict[str, Any]:
    by_attribute: dict[str, list[Any]] = defaultdict(list)
    for note in notes:
        by_attribute[note.attribute].append(note)
    # A source-stated dataset takes columns, owners, tags and symlinks from its source
    # alone (see `catalog.authority`); before its first sync since migration 0008 it has
    # no `stated` yet and reads like a dataset only lineage knows.
    stated: dict[str, Any] | None = entry.stated if entry is not None else None
    if stated is not None:
        columns = source_columns(stated)
        labels: list[Label] = []
        owners: list[dict[str, Any]] = []
        symlinks = list(stated.get("symlinks", []))
        stated_description = stated.get("description")
    else:
        columns = lineage_columns(facts["fields"])
        labels = [
            Label(ColumnIdentity(tag["field"] or DATASET), tag["key"], "lineage")
            for tag in facts["tags"]
        ]
        owners = [
            {"name": name, "kind": kind, "role": owner["type"] or "technical", "origin": "lineage"}
            for owner in facts["owners"]
            for kind, name in [_split_owner(owner["name"])]
        ]
        symlinks = facts["symlinks"]
        stated_description = None
    labels += [
        Label(
            _note_target(n),
            n.value,
            n.origin,
            n.status,
            author=n.author,
            confidence=n.confidence,
            reason=n.reason,
        )
        for n in by_attribute["tag"]
    ]

    def description(
        target: ColumnIdentity, source: str | None, lineage: str | None
    ) -> dict[str, Any] | None:
        human = [n for n in by_attribute["description"] if _note_target(n).binds(target)]
        if human:
            note = human[0]
            return {
                "text": note.value,
                "origin": "human",
                "author": note.author,
                "updatedAt": iso(note.updated_at),
            }
        if source:
            return {"text": source, "origin": "source"}
        if lineage:
            return {"text": lineage, "origin": "lineage"}
        return None

    # A person's removal of an owner keeps it off whoever states it.
    disowned = {
        (n.kind or "user", n.value)
        for n in by_attribute["owner"]
        if n.status == "rejected" and n.origin == "human"
    }
    owners += [
        {
            "name": n.value,
            "kind": n.kind or "user",
            "role": n.role or "technical",
            "origin": n.origin,
            **({"author": n.author} if n.author else {}),
        }
        for n in sorted(by_attribute["owner"], key=lambda n: n.origin == "human")
        if n.status != "rejected"
    ]
    owners = [o for o in owners if o["origin"] == "human" or (o["kind"], o["name"]) not in disowned]
    dataset = ColumnIdentity(DATASET)
    shown = []
    for column in columns:
        target = column.identity
        shown.append(
            {
                "name": target.name,
                "type": column.type,
                "fieldId": target.field_id,
                "fields": list(column.fields),  # nested fields (struct, array, map), a tree
                "description": description(
                    target,
                    column.description if stated is not None else None,
                    event_description(facts["fields"], target)
                    if stated is not None
                    else column.description,
                ),
                "tags": labels_on(target, labels),
                "terms": [n.value for n in by_attribute["term"] if _note_target(n).binds(target)],
                "tests": [
                    {"name": t.name, "status": t.status, "uniqueId": t.unique_id}
                    for t in tests
                    if ColumnIdentity(t.field).binds(target)
                ],
            }
        )
    domains = [n for n in by_attribute["domain"] if n.field == DATASET]
    domains.sort(key=lambda n: n.origin != "human")
    catalog_name = entry.name if entry is not None else None
    return {
        "id": catalog_name or node_id("dataset", facts["namespace"], facts["name"]),
        "name": catalog_name,
        "nodeId": node_id("dataset", facts["namespace"], facts["name"]),
        "namespace": facts["namespace"],
        "datasetName": facts["name"],
        "source": entry.source if entry is not None else None,
        "kind": entry.kind if entry is not None else None,
        "description": description(dataset, stated_description, facts["description"]),
        "owners": owners,
        "tags": labels_on(dataset, labels),
        "terms": [n.value for n in by_attribute["term"] if n.field == DATASET],
        "domain": domains[0].value if domains else None,
        "columns": shown,
        "tests": [
            {"name": t.name, "status": t.status, "uniqueId": t.unique_id}
            for t in tests
            if t.field == DATASET
        ],
        "symlinks": symlinks,
        "definition": entry.definition if entry is not None else None,
        "properties": dict(entry.properties) if entry is not None else {},
        "deleted": facts["deleted"],
        "createdAt": facts["createdAt"],
        "updatedAt": facts["updatedAt"],
        "syncedAt": iso(entry.synced_at) if entry is not None else None,
    }


def schema_versions(conn: Connection, dataset_id: int) -> list[dict[str, Any]]:
    """The dataset's schema versions, oldest first."""
    rows = conn.execute(
        sa.select(dataset_versions.c.id, dataset_versions.c.created_at)
        .where(dataset_versions.c.dataset_id == dataset_id)
        .order_by(dataset_versions.c.id)
    ).all()
    return [
        {"version": number, "id": row.id, "createdAt": iso(row.created_at)}
        for number, row in enumerate(rows, start=1)
    ]


def neighbours(
    conn: Connection, dataset_id: int, hidden: Hidden = Hidden()
) -> dict[str, list[dict[str, Any]]]:
    """Datasets one job away, upstream and downstream, in the current graph.

    Edges stated under any name of the dataset count (see `lineage.aliases`). `hidden`
    datasets and jobs (other users' query lineage) are left out.
    """
    group = same_as(conn, [dataset_id]).get(dataset_id, [dataset_id])
    mine = lineage_edges.alias("mine")
    other = lineage_edges.alias("other")
    out: dict[str, list[dict[str, Any]]] = {}
    for direction, mine_dir, other_dir in (
        ("upstream", "output", "input"),
        ("downstream", "input", "output"),
    ):
        rows = conn.execute(
            sa.select(
                namespaces.c.name.label("namespace"),
                datasets.c.name,
                catalog_entries.c.name.label("entry"),
                datasets.c.id,
                other.c.job_id,
            )
            .select_from(mine)
            .join(other, sa.and_(other.c.job_id == mine.c.job_id, other.c.valid_to.is_(None)))
            .join(datasets, datasets.c.id == other.c.dataset_id)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .outerjoin(catalog_entries, catalog_entries.c.dataset_id == datasets.c.id)
            .where(
                mine.c.dataset_id.in_(group),
                mine.c.direction == mine_dir,
                mine.c.valid_to.is_(None),
                other.c.direction == other_dir,
                other.c.dataset_id.not_in(group),
            )
            .distinct()
        ).all()
        found = {
            node_id("dataset", r.namespace, r.name): r.entry
            for r in rows
            if r.id not in hidden.datasets and r.job_id not in hidden.jobs
        }
        listed = [{"nodeId": key, "name": name} for key, name in found.items()]
        out[direction] = sorted(listed, key=lambda n: n["name"] or n["nodeId"])
    return out


def dataset_page(conn: Connection, ref: str, sight: Sight | None = None) -> dict[str, Any]:
    """One dataset as `GET /api/v1/datasets/{id}` returns it, as `sight` may see it.

    A dataset the caller may not describe is not found, in the same words as one that
    does not exist; of one they may, the columns denied to them are left out. `sight`
    None shows everything.
    """
    dataset_id = resolve_dataset(conn, ref)
    hidden = Hidden()
    withheld: frozenset[str] = frozenset()
    if sight is not None:
        hidden = sight.hidden(conn)
        decided = sight.withheld(conn, [dataset_id])[dataset_id]
        if decided is None or dataset_id in hidden.datasets:
            raise NotFound(_not_found(ref))
        withheld = decided
    view = describe_datasets(conn, [dataset_id])[dataset_id]
    view["columns"] = [c for c in view["columns"] if c["name"] not in withheld]
    versions = schema_versions(conn, dataset_id)
    view["schemaVersion"] = versions[-1] if versions else None
    view["schemaVersions"] = len(versions)
    view.update(neighbours(conn, dataset_id, hidden))
    others = [m for m in same_as(conn, [dataset_id]).get(dataset_id, []) if m != dataset_id]
    names = dataset_names(conn, others)
    view["sameAs"] = [node_id("dataset", n["namespace"], n["name"]) for n in names.values()]
    return view


def pii_columns(conn: Connection) -> set[tuple[str, str]]:
    """(dataset, column) pairs whose effective tags include a `pii.*` tag.

    A dataset is named every way a reader may have named it: its catalog name, its
    OpenLineage name and its symlinks' names, so audit records from Steward's queries
    and from Trino's event listener both match.
    """
    candidates = set(
        conn.execute(
            sa.select(dataset_tags.c.dataset_id).where(
                dataset_tags.c.key.like("pii.%"), dataset_tags.c.field.is_not(None)
            )
        ).scalars()
    )
    candidates |= set(
        conn.execute(
            sa.select(catalog_annotations.c.dataset_id).where(
                catalog_annotations.c.attribute == "tag",
                catalog_annotations.c.value.like("pii.%"),
                catalog_annotations.c.field != DATASET,
            )
        ).scalars()
    )
    found: set[tuple[str, str]] = set()
    ids = sorted(candidates)
    for start in range(0, len(ids), 500):
        for view in describe_datasets(conn, ids[start : start + 500]).values():
            names = {view["id"], view["datasetName"], *(s["name"] for s in view["symlinks"])}
            for column in view["columns"]:
                if any(t["tag"].startswith("pii.") for t in column["tags"]):
                    found |= {(name, column["name"]) for name in names}
    return found
