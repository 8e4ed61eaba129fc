"""Every schema a dataset has had, numbered from 1, built on what the stores already keep.

Two origins feed the history:
- `openlineage`: each `dataset_versions` row the lineage store wrote for a schema facet
  from a run (nested fields recovered from the run's stored event, which the lineage
  store flattens);
- `catalog`: what a catalog sync states (`catalog_entries.stated`, columns with their
  Iceberg field ids). For a dataset with a catalog entry, the schema facets of the
  DatasetEvents a sync writes itself (no run) are left out: the stated columns say the
  same with the field ids.
`capture` appends what is new; each read calls it first, and the edges call it after a
catalog sync, so a version is recorded once whatever asks first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.views import resolve_dataset
from steward.errors import NotFound
from steward.lineage.ingest import raw_event
from steward.schema.diff import Change, diff_schemas
from steward.schema.fields import Schema, from_openlineage, from_stated, from_stored, schema_hash
from steward.store.schema import (
    catalog_entries,
    dataset_fields,
    dataset_versions,
    datasets,
    lineage_events,
    namespaces,
    schema_versions,
)


@dataclass(frozen=True)
class SchemaVersion:
    """One version of a dataset's schema."""

    dataset_id: int
    version: int
    origin: str  # catalog | openlineage
    recorded_at: datetime
    run_id: str | None
    fields: Schema

    def to_json(self) -> dict[str, Any]:
        """This version as the API and `--json` show it."""
        return {
            "version": self.version,
            "origin": self.origin,
            "recordedAt": self.recorded_at.replace(tzinfo=UTC).isoformat(),
            "runId": self.run_id,
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass(frozen=True)
class HistoryEntry:
    """A version with what changed since the one before it (None for the first)."""

    version: SchemaVersion
    changes: list[Change] | None


def _latest(conn: Connection, dataset_id: int) -> dict[str, tuple[int, str]]:
    """Per origin, the (version, hash) last recorded; and '' for the latest of any origin."""
    rows = conn.execute(
        sa.select(
            schema_versions.c.version, schema_versions.c.origin, schema_versions.c.schema_hash
        )
        .where(schema_versions.c.dataset_id == dataset_id)
        .order_by(schema_versions.c.version)
    ).all()
    out: dict[str, tuple[int, str]] = {}
    for version, origin, digest in rows:
        out[origin] = (version, digest)
        out[""] = (version, digest)
    return out


def _append(
    conn: Connection,
    dataset_id: int,
    fields: Schema,
    *,
    origin: str,
    when: datetime,
    run_id: str | None = None,
    lineage_version_id: int | None = None,
) -> int | None:
    """Record `fields` as the dataset's next version unless its origin said it last."""
    latest = _latest(conn, dataset_id)
    digest = schema_hash(fields)
    if origin in latest and latest[origin][1] == digest:
        return None
    version = latest[""][0] + 1 if "" in latest else 1
    conn.execute(
        schema_versions.insert(),
        {
            "dataset_id": dataset_id,
            "version": version,
            "origin": origin,
            "schema_hash": digest,
            "fields": [f.to_json() for f in fields],
            "recorded_at": when,
            "run_id": run_id,
            "lineage_version_id": lineage_version_id,
        },
    )
    return version


def _nested_from_run(
    conn: Connection, run_id: str, namespace: str, name: str, flat: list[tuple[Any, ...]]
) -> Schema | None:
    """The nested schema facet of one dataset in the stored events of `run_id`, if found."""
    payloads = conn.execute(
        sa.select(lineage_events.c.payload)
        .where(lineage_events.c.run_id == run_id)
        .order_by(lineage_events.c.event_time.desc(), lineage_events.c.id.desc())
    ).scalars()
    for payload in payloads:
        event = raw_event(payload)
        for ds in (event.get("outputs") or []) + (event.get("inputs") or []):
            if ds.get("namespace") != namespace or ds.get("name") != name:
                continue
            facet = (ds.get("facets") or {}).get("schema") or {}
            fields = facet.get("fields") or []
            top = [(f.get("name"), f.get("type"), f.get("description")) for f in fields]
            if top == flat:
                return from_openlineage(fields)
    return None


def _capture_lineage(conn: Connection, dataset_ids: Sequence[int] | None) -> None:
    seen = sa.select(schema_versions.c.lineage_version_id).where(
        schema_versions.c.lineage_version_id.is_not(None)
    )
    v, d = dataset_versions.c, datasets.c
    query = (
        sa.select(v.id, v.dataset_id, v.created_at, v.run_id, d.name, namespaces.c.name)
        .join(datasets, datasets.c.id == v.dataset_id)
        .join(namespaces, namespaces.c.id == d.namespace_id)
        .outerjoin(catalog_entries, catalog_entries.c.dataset_id == v.dataset_id)
        .where(v.id.not_in(seen))
        # A sync's own DatasetEvents (no run) are the catalog origin's, from `stated`.
        .where(sa.or_(v.run_id.is_not(None), catalog_entries.c.stated.is_(None)))
        .order_by(v.created_at, v.id)
    )
    if dataset_ids is not None:
        query = query.where(v.dataset_id.in_(list(dataset_ids)))
    for vid, dataset_id, created_at, run_id, name, namespace in conn.execute(query).all():
        flat = [
            tuple(row)
            for row in conn.execute(
                sa.select(
                    dataset_fields.c.name, dataset_fields.c.type, dataset_fields.c.description
                )
                .where(
                    dataset_fields.c.version_id == vid, dataset_fields.c.parent_ordinal.is_(None)
                )
                .order_by(dataset_fields.c.ordinal)
            ).all()
        ]
        fields = _nested_from_run(conn, run_id, namespace, name, flat) if run_id else None
        if fields is None:
            fields = from_openlineage(
                [{"name": n, "type": t, "description": s} for n, t, s in flat]
            )
        _append(
            conn,
            dataset_id,
            fields,
            origin="openlineage",
            when=created_at,
            run_id=run_id,
            lineage_version_id=vid,
        )


def _latest_hashes(conn: Connection, origin: str) -> dict[int, str]:
    """Per dataset, the hash of the latest version of `origin`: one query for all."""
    c = schema_versions.c
    last = (
        sa.select(c.dataset_id, sa.func.max(c.version).label("version"))
        .where(c.origin == origin)
        .group_by(c.dataset_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(c.dataset_id, c.schema_hash).join(
            last, sa.and_(last.c.dataset_id == c.dataset_id, last.c.version == c.version)
        )
    )
    return {int(d): str(h) for d, h in rows}


def _capture_catalog(conn: Connection, dataset_ids: Sequence[int] | None) -> None:
    e = catalog_entries.c
    query = sa.select(e.dataset_id, e.stated, e.synced_at).where(e.stated.is_not(None))
    if dataset_ids is not None:
        query = query.where(e.dataset_id.in_(list(dataset_ids)))
    known = _latest_hashes(conn, "catalog")
    for dataset_id, stated, synced_at in conn.execute(query.order_by(e.id)).all():
        fields = from_stated(stated.get("columns") or [])
        # Most entries are unchanged: compare with one query's answer, append the rest.
        if known.get(dataset_id) != schema_hash(fields):
            _append(conn, dataset_id, fields, origin="catalog", when=synced_at)


def capture(conn: Connection, dataset_ids: Sequence[int] | None = None) -> None:
    """Append the schema versions the lineage store and catalog hold and history lacks.

    Args:
        dataset_ids: only these datasets; None for all.
    """
    _capture_lineage(conn, dataset_ids)
    _capture_catalog(conn, dataset_ids)


def versions(conn: Connection, dataset_id: int) -> list[SchemaVersion]:
    """Every recorded version of one dataset, oldest first."""
    c = schema_versions.c
    rows = conn.execute(
        sa.select(c.version, c.origin, c.recorded_at, c.run_id, c.fields)
        .where(c.dataset_id == dataset_id)
        .order_by(c.version)
    ).all()
    return [
        SchemaVersion(
            dataset_id, r.version, r.origin, r.recorded_at, r.run_id, from_stored(r.fields)
        )
        for r in rows
    ]


def history(conn: Connection, dataset_id: int) -> list[HistoryEntry]:
    """Every version of one dataset with the changes from the version before it."""
    found = versions(conn, dataset_id)
    out: list[HistoryEntry] = []
    for i, version in enumerate(found):
        changes = diff_schemas(found[i - 1].fields, version.fields) if i else None
        out.append(HistoryEntry(version, changes))
    return out


def version_of(conn: Connection, dataset_id: int, version: int) -> SchemaVersion:
    """One version; a negative number counts from the latest (-1 is the latest).

    Raises:
        NotFound: the dataset has no such version.
    """
    found = versions(conn, dataset_id)
    index = version - 1 if version > 0 else len(found) + version
    if not found or not 0 <= index < len(found) or version == 0:
        raise NotFound(f"dataset {dataset_id} has no schema version {version} ({len(found)} kept)")
    return found[index]


def diff_versions(conn: Connection, dataset_id: int, old: int, new: int) -> list[Change]:
    """The changes from version `old` to version `new` of one dataset."""
    return diff_schemas(
        version_of(conn, dataset_id, old).fields, version_of(conn, dataset_id, new).fields
    )


def dataset_id_of(conn: Connection, ref: str) -> int:
    """The dataset a reference names: a catalog name, a node id, or `namespace/name`.

    Raises:
        NotFound: no such dataset.
    """
    try:
        return resolve_dataset(conn, ref)
    except NotFound:
        # OpenLineage namespaces hold slashes (`postgres://db:5432`): try each split.
        for at in (i for i, ch in enumerate(ref) if ch == "/"):
            found = conn.execute(
                sa.select(datasets.c.id)
                .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
                .where(namespaces.c.name == ref[:at], datasets.c.name == ref[at + 1 :])
            ).scalar()
            if found is not None:
                return int(found)
        raise


def dataset_target(conn: Connection, target: str) -> tuple[int, str | None, list[str]]:
    """A `DATASET` or `DATASET.COLUMN` reference: the dataset id, the column, its columns.

    The whole reference names a dataset first; else its last dotted part is the column.

    Raises:
        NotFound: neither reading names a dataset.
    """
    try:
        dataset_id, column = dataset_id_of(conn, target), None
    except NotFound:
        head, dot, column_name = target.rpartition(".")
        if not dot:
            raise
        dataset_id, column = dataset_id_of(conn, head), column_name
    capture(conn, [dataset_id])
    known = versions(conn, dataset_id)
    return dataset_id, column, [f.name for f in known[-1].fields] if known else []
