"""`catalog sync`: bring the catalog up to date with one source.

The source lists its tables with fingerprints; only tables whose fingerprint moved
(or that are new, or came back) are loaded. Each loaded table is written as
OpenLineage events (see `catalog.events`) through the lineage store, so a schema
version is recorded only when the schema changed, and a table gone from its source
is marked deleted with its history kept. Human metadata lives apart
(`catalog_annotations`) and is never touched by a sync.

What the source states is also kept apart from the lineage store, in the catalog entry
(`stated`: columns with their Iceberg field ids, description, symlinks) and as
`source` annotations (owners, tags, terms, domain): the catalog shows a source-stated
dataset from these, whatever OpenLineage events later say of it (`catalog.authority`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.events import (
    build_job_event,
    dataset_event,
    dataset_facets,
    dropped_event,
)
from steward.catalog.models import DiscoveredTable, Identity, Source, TableRef
from steward.catalog.search import reindex
from steward.errors import SourceError
from steward.lineage.ingest import parse_events, store_events
from steward.store import Store
from steward.store.schema import (
    catalog_annotations,
    catalog_entries,
    catalog_sources,
    catalog_tests,
    dataset_symlinks,
    datasets,
    namespaces,
)
from steward.store.upsert import insert_ignoring_conflicts

Progress = Callable[[int, int], None]
# Records a summary of the sync in the store's audit log, inside its last transaction.
SyncRecorder = Callable[[Connection, str, dict[str, Any]], None]
BATCH = 250


@dataclass(frozen=True)
class ColumnChange:
    """A column of a table already in the catalog that this sync found added or renamed."""

    table: str  # the catalog name
    column: str  # its name now
    field_id: int | None
    was: str | None = None  # its name before, for a rename (same Iceberg field id)


@dataclass(frozen=True)
class SyncResult:
    """What one sync found and did."""

    source: str
    listed: int
    unchanged: int
    added: int
    changed: int
    deleted: int
    columns: tuple[ColumnChange, ...] = ()


@dataclass(frozen=True)
class _Known:
    dataset_id: int
    identity: Identity
    fingerprint: str | None
    deleted: bool


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _known_entries(conn: Connection, source: str) -> dict[str, _Known]:
    rows = conn.execute(
        sa.select(
            catalog_entries.c.name,
            catalog_entries.c.dataset_id,
            catalog_entries.c.fingerprint,
            catalog_entries.c.deleted_at,
            namespaces.c.name.label("namespace"),
            datasets.c.name.label("dataset_name"),
        )
        .join(datasets, datasets.c.id == catalog_entries.c.dataset_id)
        .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
        .where(catalog_entries.c.source == source)
    )
    return {
        row.name: _Known(
            row.dataset_id,
            Identity(row.namespace, row.dataset_name),
            row.fingerprint,
            row.deleted_at is not None,
        )
        for row in rows
    }


def _stored_ids(conn: Connection, identities: Sequence[Identity]) -> dict[Identity, int]:
    """The dataset id of each identity already stored (one query per 500 names)."""
    found: dict[Identity, int] = {}
    wanted = set(identities)
    names = sorted({i.name for i in wanted})
    for start in range(0, len(names), 500):
        rows = conn.execute(
            sa.select(namespaces.c.name.label("namespace"), datasets.c.name, datasets.c.id)
            .join(datasets, datasets.c.namespace_id == namespaces.c.id)
            .where(datasets.c.name.in_(names[start : start + 500]))
        )
        for row in rows:
            identity = Identity(row.namespace, row.name)
            if identity in wanted:
                found[identity] = int(row.id)
    return found


def _existing_identities(
    conn: Connection, tables: Sequence[DiscoveredTable]
) -> dict[str, Identity]:
    """For each table, the identity of a dataset already stored for it, else its own.

    OpenLineage producers may have named the table before the catalog found it, by its
    naming-spec identity, by one of its symlinks, or with a symlink to it.
    """
    stored = _stored_ids(conn, [i for t in tables for i in (t.identity, *t.symlinks)])
    linked: dict[Identity, Identity] = {}
    names = sorted({t.identity.name for t in tables})
    for start in range(0, len(names), 500):
        rows = conn.execute(
            sa.select(
                dataset_symlinks.c.namespace.label("link_namespace"),
                dataset_symlinks.c.name.label("link_name"),
                namespaces.c.name.label("namespace"),
                datasets.c.name,
            )
            .join(datasets, datasets.c.id == dataset_symlinks.c.dataset_id)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(dataset_symlinks.c.name.in_(names[start : start + 500]))
        )
        for row in rows:
            linked[Identity(row.link_namespace, row.link_name)] = Identity(row.namespace, row.name)
    found = {}
    for table in tables:
        candidates = [i for i in (table.identity, *table.symlinks) if i in stored]
        found[table.name] = (
            candidates[0] if candidates else linked.get(table.identity, table.identity)
        )
    return found


def sync(
    store: Store,
    source: Source,
    *,
    progress: Progress | None = None,
    record: SyncRecorder | None = None,
) -> SyncResult:
    """Discover `source`'s tables into the catalog; cheap when nothing changed."""
    try:
        refs = list(source.list_tables())
    except SourceError:
        raise
    except Exception as exc:  # a connector's library error, said with the source's name
        raise SourceError(f"source {source.name}: cannot list tables ({exc})") from exc
    names = [ref.name for ref in refs]
    if len(set(names)) != len(names):
        raise SourceError(f"source {source.name}: lists a table twice")
    with store.read() as conn:
        known = _known_entries(conn, source.name)
    prefix = f"{source.name}."
    todo: list[TableRef] = []
    added = changed = 0
    for ref in refs:
        entry = known.get(prefix + ref.name)
        if entry is None:
            added += 1
        elif ref.fingerprint is None or ref.fingerprint != entry.fingerprint or entry.deleted:
            changed += 1
        else:
            continue
        todo.append(ref)
    listed = set(names)
    gone = [
        name
        for name, entry in known.items()
        if not entry.deleted and name.removeprefix(prefix) not in listed
    ]
    total = len(todo) + len(gone)
    done = 0
    if progress:
        progress(done, total)
    identities = {name.removeprefix(prefix): entry.identity for name, entry in known.items()}
    columns: list[ColumnChange] = []
    for start in range(0, len(todo), BATCH):
        tables = [_load(source, ref) for ref in todo[start : start + BATCH]]
        columns += _write_tables(store, source, tables, identities)
        done += len(tables)
        if progress:
            progress(done, total)
    if gone:
        _write_gone(store, source, gone, known)
        done += len(gone)
        if progress:
            progress(done, total)
    unchanged = len(refs) - added - changed
    result = SyncResult(
        source.name, len(refs), unchanged, added, changed, len(gone), tuple(columns)
    )
    with store.write() as conn:
        _record_source(conn, source, len(refs))
        if record is not None:
            details = {k: v for k, v in result.__dict__.items() if k != "columns"}
            record(conn, source.name, details)
    return result


def _load(source: Source, ref: TableRef) -> DiscoveredTable:
    try:
        table = source.load_table(ref)
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"source {source.name}: cannot read {ref.name} ({exc})") from exc
    if table.fingerprint is None and ref.fingerprint is not None:
        from dataclasses import replace

        table = replace(table, fingerprint=ref.fingerprint)
    return table


def _write_tables(
    store: Store,
    source: Source,
    tables: list[DiscoveredTable],
    identities: dict[str, Identity],
) -> list[ColumnChange]:
    when = _now()
    with store.write() as conn:
        new = [t for t in tables if t.name not in identities]
        identities.update(_existing_identities(conn, new))
        raw = [
            dataset_event(identities[t.name], dataset_facets(t, source=source.name), when)
            for t in tables
        ]
        for table in tables:
            job = build_job_event(
                table,
                identities[table.name],
                source=source.name,
                identity_of=identities.get,
                when=when,
            )
            if job is not None:
                raw.append(job)
        _, applier = store_events(conn, parse_events(raw, batch=True))
        ids = _stored_ids(conn, [identities[t.name] for t in tables])
        changes = _write_entries(conn, source, [(t, ids[identities[t.name]]) for t in tables], when)
        reindex(conn, list(ids.values()))
    if applier is not None:
        applier.commit_learned()
    return changes


def _write_entries(
    conn: Connection,
    source: Source,
    tables: list[tuple[DiscoveredTable, int]],
    when: datetime,
) -> list[ColumnChange]:
    """Upsert the catalog entries of `tables` (with their dataset ids), a few statements.

    Returns the columns added to or renamed in tables the catalog already had.
    """
    names = [f"{source.name}.{table.name}" for table, _ in tables]
    before = {
        row.name: row.stated or {}
        for row in conn.execute(
            sa.select(catalog_entries.c.name, catalog_entries.c.stated).where(
                catalog_entries.c.name.in_(names)
            )
        )
    }
    existing = set(before)
    changes = [
        change
        for name, (table, _) in zip(names, tables, strict=True)
        if name in before
        for change in column_changes(name, before[name], table)
    ]
    _bind_field_ids(conn, [(before.get(n), d) for n, (_, d) in zip(names, tables, strict=True)])
    rows = [
        {
            "entry_name": name,
            "dataset_id": dataset_id,
            "source": source.name,
            "kind": table.kind,
            "fingerprint": table.fingerprint,
            "definition": table.definition,
            "properties": dict(table.properties),
            "stated": stated(table),
            "synced_at": when,
            "deleted_at": None,
        }
        for name, (table, dataset_id) in zip(names, tables, strict=True)
    ]
    updates = [row for row in rows if row["entry_name"] in existing]
    if updates:
        columns = [key for key in rows[0] if key != "entry_name"]
        conn.execute(
            catalog_entries.update()
            .where(catalog_entries.c.name == sa.bindparam("entry_name"))
            .values({key: sa.bindparam(key) for key in columns}),
            updates,
        )
    inserts = [
        {
            **{key: value for key, value in row.items() if key != "entry_name"},
            "name": row["entry_name"],
            "first_seen_at": when,
        }
        for row in rows
        if row["entry_name"] not in existing
    ]
    if inserts:
        conn.execute(catalog_entries.insert(), inserts)
    ids = [dataset_id for _, dataset_id in tables]
    # What the source states as annotations: owners, tags, glossary terms, domain.
    conn.execute(
        catalog_annotations.delete().where(
            catalog_annotations.c.dataset_id.in_(ids), catalog_annotations.c.origin == "source"
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
    conn.execute(catalog_tests.delete().where(catalog_tests.c.dataset_id.in_(ids)))
    tests = [
        {
            "dataset_id": dataset_id,
            "field": test.column or "",
            "name": test.name,
            "unique_id": test.unique_id,
            "status": test.status,
        }
        for table, dataset_id in tables
        for test in table.tests
    ]
    if tests:
        conn.execute(catalog_tests.insert(), tests)
    return changes


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
            for c in (stated or {}).get("columns") or []
            if c.get("fieldId") is not None
        }
        for stated, dataset_id in entries
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
    """What the source states of `table` beyond annotations, as `catalog_entries.stated`."""
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


def _write_gone(store: Store, source: Source, gone: list[str], known: dict[str, Any]) -> None:
    when = _now()
    events = [dropped_event(known[name].identity, when) for name in gone]
    with store.write() as conn:
        _, applier = store_events(conn, parse_events(events, batch=True))
        conn.execute(
            catalog_entries.update()
            .where(catalog_entries.c.name.in_(gone))
            .values(deleted_at=when, synced_at=when)
        )
        reindex(conn, [known[name].dataset_id for name in gone])
    if applier is not None:
        applier.commit_learned()


def _record_source(conn: Connection, source: Source, tables: int) -> None:
    values = {"type": source.type, "synced_at": _now(), "tables": tables}
    updated = conn.execute(
        catalog_sources.update().where(catalog_sources.c.name == source.name).values(**values)
    )
    if updated.rowcount == 0:
        insert = insert_ignoring_conflicts(conn, catalog_sources, ["name"])
        conn.execute(insert.values(name=source.name, **values))
