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

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.entries import (
    ColumnChange,
    authority_facets,
    hand_on,
    merge_entries,
    refuse_shared,
    statements_of,
    write_statements,
)
from steward.catalog.events import (
    build_job_event,
    dataset_event,
    dataset_facets,
    dropped_event,
)
from steward.catalog.models import DiscoveredTable, Identity, Source, TableRef
from steward.catalog.search import reindex
from steward.errors import SourceError, WriteConflict
from steward.lineage.ingest import parse_events, store_events
from steward.store import Store
from steward.store.schema import (
    catalog_entry_sources,
    catalog_sources,
    dataset_symlinks,
    datasets,
    namespaces,
)
from steward.store.upsert import insert_ignoring_conflicts

Progress = Callable[[int, int], None]
# Records a summary of the sync in the store's audit log, inside its last transaction.
SyncRecorder = Callable[[Connection, str, dict[str, Any]], None]
BATCH = 250
# How often a batch that lost a race to a concurrent sync is written again.
_RACE_ATTEMPTS = 3


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
    """This source's statements so far, by catalog name, with their datasets' identities."""
    s = catalog_entry_sources.c
    rows = conn.execute(
        sa.select(
            s.name,
            s.dataset_id,
            s.fingerprint,
            s.deleted_at,
            namespaces.c.name.label("namespace"),
            datasets.c.name.label("dataset_name"),
        )
        .join(datasets, datasets.c.id == s.dataset_id)
        .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
        .where(s.source == source)
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
        columns += _write_tables(store, source, tables, identities, listed)
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
    listed: set[str],
) -> list[ColumnChange]:
    """Write one batch of loaded tables; again if a concurrent sync won a race on a row.

    `identities` (table name -> identity, this source's) is updated once the batch is in.
    """
    for attempt in range(_RACE_ATTEMPTS):
        known = dict(identities)
        try:
            changes = _write_batch(store, source, tables, known, listed)
        except WriteConflict:
            # Another sync stored a row this one meant to create (two sources stating
            # one new dataset at once); nothing of this batch was written.
            if attempt == _RACE_ATTEMPTS - 1:
                raise
            continue
        identities.update(known)
        return changes
    raise AssertionError("unreachable")  # pragma: no cover


def _write_batch(
    store: Store,
    source: Source,
    tables: list[DiscoveredTable],
    identities: dict[str, Identity],
    listed: set[str],
) -> list[ColumnChange]:
    when = _now()
    with store.write() as conn:
        fresh = _existing_identities(conn, tables)
        moved_from: dict[str, Identity] = {}
        for table in tables:
            kept = identities.get(table.name)
            if kept is None or (
                kept not in (table.identity, *table.symlinks) and kept != fresh[table.name]
            ):
                # New, or the source now names it otherwise (its config was fixed).
                if kept is not None:
                    moved_from[table.name] = kept
                identities[table.name] = fresh[table.name]
        refuse_shared(source, identities, listed)
        targets = _stored_ids(conn, [identities[t.name] for t in tables])
        others = statements_of(conn, targets.values())
        raw = [
            dataset_event(
                identities[t.name],
                authority_facets(
                    dataset_facets(t, source=source.name),
                    source,
                    others.get(targets.get(identities[t.name], -1), []),
                ),
                when,
            )
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
        changes, moved = write_statements(
            conn, source, [(t, ids[identities[t.name]]) for t in tables], when
        )
        retired = hand_on(conn, moved)
        wrong = _stored_ids(conn, list(moved_from.values()))
        dropped = [dropped_event(i, when) for i, d in wrong.items() if d in retired]
        retire_applier = None
        if dropped:
            _, retire_applier = store_events(conn, parse_events(dropped, batch=True))
        merge_entries(conn, [*ids.values(), *moved])
        reindex(conn, [*ids.values(), *moved])
    for done in (applier, retire_applier):
        if done is not None:
            done.commit_learned()
    return changes


def _write_gone(store: Store, source: Source, gone: list[str], known: dict[str, _Known]) -> None:
    """Mark this source's statements of tables it no longer lists deleted.

    A dataset another source still states stays live; one nobody states any more gets
    a DROP event, its history kept.
    """
    when = _now()
    s = catalog_entry_sources.c
    with store.write() as conn:
        rows = conn.execute(
            sa.select(s.name, s.dataset_id).where(
                s.source == source.name, s.name.in_(gone), s.deleted_at.is_(None)
            )
        ).all()
        ids = {row.dataset_id for row in rows}
        conn.execute(
            catalog_entry_sources.update()
            .where(s.source == source.name, s.name.in_([row.name for row in rows]))
            .values(deleted_at=when, synced_at=when)
        )
        stated = statements_of(conn, ids)
        events = [
            dropped_event(known[row.name].identity, when)
            for row in rows
            if row.name in known
            and all(r.deleted_at is not None for r in stated.get(row.dataset_id, []))
        ]
        _, applier = store_events(conn, parse_events(events, batch=True))
        merge_entries(conn, ids)
        reindex(conn, list(ids))
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
