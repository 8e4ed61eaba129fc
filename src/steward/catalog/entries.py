"""What each catalog source states of a dataset, and the catalog entry they make together.

A source's statement of one of its tables is a `catalog_entry_sources` row, keyed by
its catalog name (`{source}.{table}`) and pointing at the dataset the table's identity
names. Two sources naming the same relation (a dbt project and the warehouse it builds
into) are two rows on one dataset; `merge_entries` makes the dataset's one
`catalog_entries` row from them, each fact from its authority (`catalog.authority`),
whichever synced first. A table whose identity moved (a profile's `env_var` was unset
when its namespace was first derived) moves its row to the right dataset; the dataset
it leaves, when no source states it any more, hands its people's annotations on and is
no longer in the catalog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.authority import (
    Statement,
    by_documentation,
    by_structure,
    merge_statements,
)
from steward.catalog.models import DiscoveredTable, Identity, Source
from steward.errors import Conflict
from steward.store.schema import (
    catalog_annotations,
    catalog_entries,
    catalog_entry_sources,
    catalog_tests,
)


@dataclass(frozen=True)
class ColumnChange:
    """A column of a table already in the catalog that this sync found added or renamed."""

    table: str  # the catalog name
    column: str  # its name now
    field_id: int | None
    was: str | None = None  # its name before, for a rename (same Iceberg field id)


def entry_name(source: Source, table: DiscoveredTable) -> str:
    """The catalog name a source gives one of its tables: `{source}.{table}`."""
    return f"{source.name}.{table.name}"


def statements_of(conn: Connection, dataset_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The `catalog_entry_sources` rows of each dataset, by dataset id."""
    found: dict[int, list[Any]] = defaultdict(list)
    ids = sorted(set(dataset_ids))
    for start in range(0, len(ids), 500):
        for row in conn.execute(
            sa.select(catalog_entry_sources).where(
                catalog_entry_sources.c.dataset_id.in_(ids[start : start + 500])
            )
        ):
            found[row.dataset_id].append(row)
    return found


def _statement(row: Any) -> Statement:
    return Statement(
        row.source,
        row.source_type,
        row.name,
        row.kind,
        row.stated or {},
        row.definition,
        row.properties or {},
    )


def authority_facets(
    facets: dict[str, Any], source: Source, others: Sequence[Any]
) -> dict[str, Any]:
    """`facets` less those another live source of the dataset is the authority for.

    So the lineage store's schema and documentation of a dataset two sources state end
    the same whichever synced last.
    """
    live = [_statement(r) for r in others if r.deleted_at is None and r.source != source.name]
    if not live:
        return facets
    mine = Statement(source.name, source.type, "", "", {})
    left_out: set[str] = set()
    if by_structure([mine, *live])[0] is not mine:
        left_out |= {"schema", "datasetType"}
    if by_documentation([mine, *live])[0] is not mine:
        left_out |= {"documentation", "ownership"}
    return {name: facet for name, facet in facets.items() if name not in left_out}


def refuse_shared(source: Source, identities: dict[str, Identity], live: Iterable[str]) -> None:
    """Refuse two live tables of one source naming one dataset: a 409 naming both."""
    claimed: dict[Identity, str] = {}
    for name in sorted(live):
        identity = identities.get(name)
        if identity is None:
            continue
        other = claimed.setdefault(identity, name)
        if other != name:
            raise Conflict(
                f"source {source.name}: tables {other} and {name} both name the dataset"
                f" {identity.namespace}/{identity.name}; give one of them another relation"
            )


def write_statements(
    conn: Connection,
    source: Source,
    tables: list[tuple[DiscoveredTable, int]],
    when: datetime,
) -> tuple[list[ColumnChange], dict[int, int]]:
    """Upsert `source`'s statements of `tables` (with their dataset ids).

    Returns the columns added to or renamed in tables the catalog already had, and the
    datasets statements moved away from (old dataset id -> new dataset id).
    """
    names = [entry_name(source, table) for table, _ in tables]
    ids = [dataset_id for _, dataset_id in tables]
    s = catalog_entry_sources.c
    mine = {
        row.name: row
        for row in conn.execute(
            sa.select(catalog_entry_sources).where(
                s.source == source.name, sa.or_(s.name.in_(names), s.dataset_id.in_(ids))
            )
        )
    }
    by_dataset = {row.dataset_id: row for row in mine.values()}
    changes: list[ColumnChange] = []
    moved: dict[int, int] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    bound: list[tuple[Any, int]] = []
    for name, (table, dataset_id) in zip(names, tables, strict=True):
        row = mine.get(name)
        held = by_dataset.get(dataset_id)
        if held is not None and held.name != name:
            # Another table of this source stated the dataset before; the table that
            # names it now (a renamed dbt model keeping its relation) takes the row.
            if row is not None:
                conn.execute(catalog_entry_sources.delete().where(s.id == row.id))
                if row.dataset_id != dataset_id:
                    moved[row.dataset_id] = dataset_id
            row = held
        elif row is not None and row.dataset_id != dataset_id:
            moved[row.dataset_id] = dataset_id
        if row is not None:
            changes += column_changes(name, row.stated, table)
            bound.append((row.stated, dataset_id))
        values = {
            "dataset_id": dataset_id,
            "source": source.name,
            "source_type": source.type,
            "name": name,
            "kind": table.kind,
            "fingerprint": table.fingerprint,
            "definition": table.definition,
            "properties": dict(table.properties),
            "stated": stated(table),
            "synced_at": when,
            "deleted_at": None,
        }
        if row is None:
            inserts.append({**values, "first_seen_at": when})
        else:
            updates.append({**values, "row_id": row.id})
    _bind_field_ids(conn, bound)
    if updates:
        columns = [key for key in updates[0] if key != "row_id"]
        conn.execute(
            catalog_entry_sources.update()
            .where(s.id == sa.bindparam("row_id"))
            .values({key: sa.bindparam(key) for key in columns}),
            updates,
        )
    if inserts:
        conn.execute(catalog_entry_sources.insert(), inserts)
    touched = [*ids, *moved]
    _write_notes(conn, source, tables, touched, when)
    return changes, moved


def _write_notes(
    conn: Connection,
    source: Source,
    tables: list[tuple[DiscoveredTable, int]],
    touched: list[int],
    when: datetime,
) -> None:
    """This source's owners, tags, terms, domain and tests of `tables`, replacing its last."""
    a = catalog_annotations.c
    conn.execute(
        catalog_annotations.delete().where(
            a.dataset_id.in_(touched), a.origin == "source", a.author == source.name
        )
    )
    notes = [
        {
            **note,
            "dataset_id": dataset_id,
            "origin": "source",
            "author": source.name,
            "status": "active",
            "updated_at": when,
        }
        for table, dataset_id in tables
        for note in _source_notes(table)
    ]
    if notes:
        conn.execute(catalog_annotations.insert(), notes)
    t = catalog_tests.c
    conn.execute(
        catalog_tests.delete().where(
            t.dataset_id.in_(touched), sa.or_(t.source == source.name, t.source.is_(None))
        )
    )
    tests = [
        {
            "dataset_id": dataset_id,
            "field": test.column or "",
            "name": test.name,
            "unique_id": test.unique_id,
            "status": test.status,
            "source": source.name,
        }
        for table, dataset_id in tables
        for test in table.tests
    ]
    if tests:
        conn.execute(catalog_tests.insert(), tests)


def hand_on(conn: Connection, moved: dict[int, int]) -> list[int]:
    """Datasets statements moved away from that no source states any more, retired.

    Their people's and the classifier's annotations follow the statement to its new
    dataset; their catalog entry goes (`merge_entries`). Returns the retired ids.
    """
    if not moved:
        return []
    left = statements_of(conn, moved)
    retired = [old for old in moved if not left.get(old)]
    a = catalog_annotations.c
    for old in retired:
        conn.execute(
            catalog_annotations.update()
            .where(a.dataset_id == old, a.origin != "source")
            .values(dataset_id=moved[old])
        )
    return retired


def merge_entries(conn: Connection, dataset_ids: Iterable[int]) -> None:
    """Make each dataset's `catalog_entries` row from what its sources state now.

    A dataset no source states has no entry; one every source dropped keeps its entry,
    marked deleted, so that it comes back with its history.
    """
    ids = sorted(set(dataset_ids))
    if not ids:
        return
    found = statements_of(conn, ids)
    e = catalog_entries.c
    first_seen = dict(
        conn.execute(sa.select(e.dataset_id, e.first_seen_at).where(e.dataset_id.in_(ids))).all()
    )
    # Delete, then insert: a catalog name may pass from one dataset to another here.
    conn.execute(catalog_entries.delete().where(e.dataset_id.in_(ids)))
    rows = []
    for dataset_id in ids:
        statements = found.get(dataset_id)
        if not statements:
            continue
        live = [r for r in statements if r.deleted_at is None]
        chosen = live or statements
        merged = merge_statements([_statement(r) for r in chosen])
        primary = next(r for r in chosen if r.name == merged.primary.name)
        rows.append(
            {
                "dataset_id": dataset_id,
                "source": primary.source,
                "name": primary.name,
                "kind": merged.kind,
                "fingerprint": primary.fingerprint,
                "definition": merged.definition,
                "properties": merged.properties,
                "stated": merged.stated,
                "first_seen_at": first_seen.get(dataset_id)
                or min(r.first_seen_at for r in statements),
                "synced_at": max(r.synced_at for r in chosen),
                "deleted_at": None if live else max(r.deleted_at for r in statements),
            }
        )
    if rows:
        conn.execute(catalog_entries.insert(), rows)


def column_changes(name: str, before: Any, table: DiscoveredTable) -> list[ColumnChange]:
    """The columns of `table` added or renamed since `before` (its stated columns then)."""
    old = (before or {}).get("columns") or []
    by_id = {c.get("fieldId"): c["name"] for c in old if c.get("fieldId") is not None}
    names = {c["name"].casefold() for c in old}
    changes = []
    for column in table.columns:
        was = by_id.get(column.field_id) if column.field_id is not None else None
        if was is not None and was != column.name:
            changes.append(ColumnChange(name, column.name, column.field_id, was))
        elif was is None and column.name.casefold() not in names:
            changes.append(ColumnChange(name, column.name, column.field_id))
    return changes


def _bind_field_ids(conn: Connection, entries: list[tuple[Any, int]]) -> None:
    """Bind column annotations recorded by name only to the field id their column had.

    Values recorded before they carried field ids would otherwise be lost by a rename.
    One query finds such annotations; only those are updated.
    """
    ids_by_dataset = {
        dataset_id: {
            c["name"].casefold(): c["fieldId"]
            for c in (before or {}).get("columns") or []
            if c.get("fieldId") is not None
        }
        for before, dataset_id in entries
    }
    wanted = [d for d, ids in ids_by_dataset.items() if ids]
    if not wanted:
        return
    a = catalog_annotations.c
    rows = conn.execute(
        sa.select(a.id, a.dataset_id, a.field).where(
            a.dataset_id.in_(wanted), a.field_id.is_(None), a.field != ""
        )
    ).all()
    updates = [
        {"row_id": row.id, "bound": ids_by_dataset[row.dataset_id][row.field.casefold()]}
        for row in rows
        if row.field.casefold() in ids_by_dataset[row.dataset_id]
    ]
    if updates:
        conn.execute(
            catalog_annotations.update()
            .where(a.id == sa.bindparam("row_id"))
            .values(field_id=sa.bindparam("bound")),
            updates,
        )


def stated(table: DiscoveredTable) -> dict[str, Any]:
    """What the source states of `table` beyond annotations (`catalog_entry_sources.stated`)."""
    return {
        "description": table.description,
        "columns": [
            {
                "name": c.name,
                "type": c.type,
                "description": c.description,
                "fieldId": c.field_id,
                "nullable": c.nullable,
                # Iceberg's own field JSON: schema history reads nested fields and defaults.
                **({"iceberg": orjson.loads(c.iceberg)} if c.iceberg else {}),
            }
            for c in table.columns
        ],
        "symlinks": [
            {"namespace": s.namespace, "name": s.name, "type": "TABLE"} for s in table.symlinks
        ],
    }


def _source_notes(table: DiscoveredTable) -> list[dict[str, Any]]:
    """The source's owners, tags, terms and domain of `table`, as annotation values.

    Every annotation carries the same keys, as one multi-row insert needs.
    """
    empty: dict[str, Any] = {"field": "", "field_id": None, "kind": None, "role": None}
    notes = [
        {**empty, "attribute": "owner", "value": o.name, "kind": o.kind, "role": o.role}
        for o in table.owners
    ]
    notes += [{**empty, "attribute": "tag", "value": tag} for tag in table.tags]
    notes += [
        {**empty, "field": c.name, "field_id": c.field_id, "attribute": "tag", "value": tag}
        for c in table.columns
        for tag in c.tags
    ]
    notes += [{**empty, "attribute": "term", "value": term} for term in table.terms]
    if table.domain:
        notes.append({**empty, "attribute": "domain", "value": table.domain})
    return notes
